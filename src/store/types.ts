// The domain objects the store returns: JSON parsed, booleans as booleans, times as ISO-8601 UTC strings.
// Secrets stay out of them: a key's hash and a credential's ciphertext are reached only through their own methods.

import type { BudgetRule, LimitValues, SubjectScope } from '../limits/rules.ts';

export type OrgRole = 'owner' | 'admin' | 'team_admin' | 'member' | 'viewer';
export type TeamRole = 'team_admin' | 'member' | 'viewer';

export type Metadata = Record<string, unknown>;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

export interface PageQuery {
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  cursor?: string;
}

export interface Organization {
  id: string;
  name: string;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
}

export interface Team {
  id: string;
  org_id: string;
  name: string;
  metadata: Metadata;
  /** Its keys' requests have their bodies captured in the request log. */
  log_payloads: boolean;
  created_at: string;
  updated_at: string;
}

export interface User {
  id: string;
  org_id: string;
  /** Stored lower-cased: addresses differ in case between an IdP's claims and what an admin typed. */
  email: string;
  name: string | null;
  role: OrgRole;
  created_at: string;
  updated_at: string;
}

export interface Membership {
  id: string;
  org_id: string;
  team_id: string;
  user_id: string;
  role: TeamRole;
  created_at: string;
  updated_at: string;
}

export interface VirtualKey {
  id: string;
  org_id: string;
  team_id: string | null;
  user_id: string | null;
  name: string;
  /** The first characters of the key, for people to recognise it by. */
  key_prefix: string;
  /** Globs (`anthropic/*`) and model group names; empty means no restriction. */
  allowed_models: string[];
  /** Empty means every surface. */
  allowed_surfaces: string[];
  /** CIDRs; empty means any address. */
  ip_allowlist: string[];
  metadata: Metadata;
  expires_at: string | null;
  enabled: boolean;
  created_by: string;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  /** Its requests have their bodies captured in the request log (so do those of a team with log_payloads). */
  log_payloads: boolean;
}

export interface ProviderCredential {
  id: string;
  org_id: string;
  provider: string;
  name: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ModelPolicy {
  id: string;
  org_id: string;
  /** Null: the policy applies to the whole organization. */
  team_id: string | null;
  name: string;
  description: string | null;
  allowed_models: string[];
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface AuditRecord {
  id: string;
  /** Null for actions outside any organization. */
  org_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  before: unknown;
  after: unknown;
  request_id: string | null;
  created_at: string;
}

/** A rate limit of the organization itself (subject_id is its id), or of one team, user or key in it. */
export interface RateLimit {
  id: string;
  org_id: string;
  scope: SubjectScope;
  subject_id: string;
  /** The limits themselves, as limitValuesSchema (src/limits/rules.ts) reads them. */
  limits: LimitValues;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/**
 * A USD budget of the organization, or of one team, user or key in it: the rule the limiter applies, as stored. Its
 * webhook_url often carries a token: keep it out of logs and answers.
 */
export interface Budget extends Omit<BudgetRule, 'alert_thresholds'> {
  /** Percentages of the amount; null: the config's budgets.alerts.thresholds. */
  alert_thresholds: number[] | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
