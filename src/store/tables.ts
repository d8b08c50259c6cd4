// Row types as Kysely sees them. Read types are what either driver returns (see dialect.ts); repositories turn rows
// into the domain objects of types.ts and never hand rows out.

import type { ColumnType } from 'kysely';

type Json = ColumnType<unknown, string, string>;
type NullableJson = ColumnType<unknown, string | null, string | null>;
type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;
type Time = ColumnType<string | Date, string, string>;
type NullableTime = ColumnType<string | Date | null, string | null, string | null>;
type NullableBool = ColumnType<boolean | number | null, boolean | number | null, boolean | number | null>;
/** A boolean column with a default, which inserts may leave out. */
type DefaultedBool = ColumnType<boolean | number, boolean | number | undefined, boolean | number>;

export interface OrganizationsTable {
  id: string;
  name: string;
  metadata: Json;
  created_at: Time;
  updated_at: Time;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  metadata: Json;
  created_at: Time;
  updated_at: Time;
  log_payloads: DefaultedBool;
}

export interface UsersTable {
  id: string;
  org_id: string;
  email: string;
  name: string | null;
  role: string;
  created_at: Time;
  updated_at: Time;
}

export interface MembershipsTable {
  id: string;
  org_id: string;
  team_id: string;
  user_id: string;
  role: string;
  created_at: Time;
  updated_at: Time;
}

export interface VirtualKeysTable {
  id: string;
  org_id: string;
  team_id: string | null;
  user_id: string | null;
  name: string;
  key_hash: string;
  key_prefix: string;
  allowed_models: Json;
  allowed_surfaces: Json;
  ip_allowlist: Json;
  metadata: Json;
  expires_at: NullableTime;
  enabled: Bool;
  created_by: string;
  created_at: Time;
  updated_at: Time;
  revoked_at: NullableTime;
  log_payloads: DefaultedBool;
}

export interface ProviderCredentialsTable {
  id: string;
  org_id: string;
  provider: string;
  name: string;
  ciphertext: string;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}

export interface ModelPoliciesTable {
  id: string;
  org_id: string;
  team_id: string | null;
  name: string;
  description: string | null;
  allowed_models: Json;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}

export interface AuditLogTable {
  id: string;
  org_id: string | null;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  before: NullableJson;
  after: NullableJson;
  request_id: string | null;
  created_at: Time;
}

export interface Tables {
  organizations: OrganizationsTable;
  teams: TeamsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  virtual_keys: VirtualKeysTable;
  provider_credentials: ProviderCredentialsTable;
  model_policies: ModelPoliciesTable;
  audit_log: AuditLogTable;
  rate_limits: RateLimitsTable;
  budgets: BudgetsTable;
  usage_records: UsageRecordsTable;
  request_payloads: RequestPayloadsTable;
  usage_rollups: UsageRollupsTable;
  shadow_samples: ShadowSamplesTable;
}

/** The subject columns shared by rate_limits and budgets: exactly one reference column matches scope (0003-limits). */
interface SubjectColumns {
  id: string;
  org_id: string;
  scope: string;
  subject_id: string;
  team_id: string | null;
  user_id: string | null;
  key_id: string | null;
}

export interface RateLimitsTable extends SubjectColumns {
  limits: Json;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}

export interface BudgetsTable extends SubjectColumns {
  amount_usd: number;
  period: string;
  window: string;
  enforcement: string;
  alert_thresholds: NullableJson;
  webhook_url: string | null;
  webhook_format: string;
  created_by: string;
  created_at: Time;
  updated_at: Time;
}

/** bigint columns: pg reads them as strings (they may exceed 2^53), SQLite as numbers. */
type Int64 = ColumnType<number | string, number, number>;

export interface UsageRecordsTable {
  request_id: string;
  time: Time;
  org_id: string | null;
  team_id: string | null;
  user_id: string | null;
  key_id: string | null;
  surface: string;
  model: string;
  provider: string;
  provider_model: string;
  attempts: number;
  status: number;
  input_tokens: Int64;
  output_tokens: Int64;
  cached_tokens: Int64;
  cache_write_tokens: Int64;
  reasoning_tokens: Int64;
  cost_usd: number;
  cost_nano_usd: Int64;
  priced: Bool;
  latency_ms: number;
  ttft_ms: number | null;
  cache_hit: Bool;
  estimated: Bool;
  // The request log's detail (0005-request-logs): null in rows written before it.
  operation: string | null;
  stream: NullableBool;
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  /** JSON text, on both databases (0005-request-logs). */
  route: string | null;
  client_ip: string | null;
  metadata: string | null;
}

export interface RequestPayloadsTable {
  request_id: string;
  org_id: string | null;
  request_body: string | null;
  response_body: string | null;
  request_truncated: Bool;
  response_truncated: Bool;
}

/**
 * Usage records summed per rollup width, bucket start (epoch ms) and who / what (0006-usage-rollups). The key columns
 * hold '' where the record had none, since a primary key column cannot be null.
 */
export interface UsageRollupsTable {
  org_id: string;
  width_ms: number;
  start_ms: Int64;
  team_id: string;
  user_id: string;
  key_id: string;
  model: string;
  provider: string;
  requests: Int64;
  errors: Int64;
  cache_hits: Int64;
  input_tokens: Int64;
  output_tokens: Int64;
  cached_tokens: Int64;
  cost_nano_usd: Int64;
  latency_sum_us: Int64;
  /** Encoded histograms (src/usage/rollups/histogram.ts). */
  latency_hist: string;
  ttft_count: Int64;
  ttft_sum_us: Int64;
  ttft_hist: string;
}

export interface ShadowSamplesTable {
  id: string;
  model: string;
  time: Time;
  request_id: string;
  exact_match: Bool;
  primary_target: string | null;
  primary_status: number;
  primary_latency_ms: number;
  primary_input_tokens: Int64;
  primary_output_tokens: Int64;
  primary_cost_usd: number;
  primary_output_chars: number;
  primary_output: string;
  primary_error: string | null;
  shadow_target: string | null;
  shadow_status: number;
  shadow_latency_ms: number;
  shadow_input_tokens: Int64;
  shadow_output_tokens: Int64;
  shadow_cost_usd: number;
  shadow_output_chars: number;
  shadow_output: string;
  shadow_error: string | null;
}
