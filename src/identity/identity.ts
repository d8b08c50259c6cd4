// Who is calling, as the pipeline sees it once auth has run. Every identity has every field, so the objects share one
// shape; an identity is built once per cached key and shared by all of that key's requests, so treat it as read-only.

import type { BudgetRule, LimitRule } from '../limits/rules.ts';
import type { Metadata, VirtualKey } from '../store/types.ts';

export interface Identity {
  /** master: the configured auth.master_key; key: a virtual key; local: the keyless quick start, this machine only. */
  readonly kind: 'master' | 'key' | 'local';
  readonly key_id: string | undefined;
  readonly org_id: string | undefined;
  readonly team_id: string | undefined;
  readonly user_id: string | undefined;
  /** The key's tags, passed on to routing and logs. */
  readonly metadata: Readonly<Metadata>;
  /** Globs (`anthropic/*`) and configured model names; empty means every model. */
  readonly allowed_models: readonly string[];
  /** Empty means every surface. */
  readonly allowed_surfaces: readonly string[];
  /**
   * The model access policies that bind the key: its organization's, and its team's. A model must be allowed by the
   * key and by every one of them.
   */
  readonly policies: readonly AccessPolicy[];
  /** The rate limits set in the database for the key, its team, its user and its organization. */
  readonly limits: readonly LimitRule[];
  /** The USD budgets of the key, its team, its user and its organization. */
  readonly budgets: readonly BudgetRule[];
  /** The request and response bodies are captured in the request log: the key or its team asks for it. */
  readonly log_payloads: boolean;
}

/** A model access policy as auth applies it; an empty allowed_models restricts nothing, as on a key. */
export interface AccessPolicy {
  readonly name: string;
  readonly allowed_models: readonly string[];
}

const unrestricted = (kind: 'master' | 'local'): Identity => ({
  kind,
  key_id: undefined,
  org_id: undefined,
  team_id: undefined,
  user_id: undefined,
  metadata: {},
  allowed_models: [],
  allowed_surfaces: [],
  policies: [],
  limits: [],
  budgets: [],
  log_payloads: false,
});

export const MASTER_IDENTITY = unrestricted('master');
export const LOCAL_IDENTITY = unrestricted('local');

/** What binds a key besides its own fields, read with it into the auth cache (bindings.ts). */
export interface KeyBindings {
  readonly policies: readonly AccessPolicy[];
  readonly limits: readonly LimitRule[];
  readonly budgets: readonly BudgetRule[];
  /** The key's team captures its requests' bodies. */
  readonly team_log_payloads: boolean;
}

export const NO_BINDINGS: KeyBindings = { policies: [], limits: [], budgets: [], team_log_payloads: false };

export function keyIdentity(key: VirtualKey, bindings: KeyBindings = NO_BINDINGS): Identity {
  return {
    kind: 'key',
    key_id: key.id,
    org_id: key.org_id,
    team_id: key.team_id ?? undefined,
    user_id: key.user_id ?? undefined,
    metadata: key.metadata,
    allowed_models: key.allowed_models,
    allowed_surfaces: key.allowed_surfaces,
    policies: bindings.policies,
    limits: bindings.limits,
    budgets: bindings.budgets,
    log_payloads: key.log_payloads || bindings.team_log_payloads,
  };
}
