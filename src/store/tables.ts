// Row types as Kysely sees them. Read types are what either driver returns (see dialect.ts); repositories turn rows
// into the domain objects of types.ts and never hand rows out.

import type { ColumnType } from 'kysely';

type Json = ColumnType<unknown, string, string>;
type NullableJson = ColumnType<unknown, string | null, string | null>;
type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;
type Time = ColumnType<string | Date, string, string>;
type NullableTime = ColumnType<string | Date | null, string | null, string | null>;

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
}
