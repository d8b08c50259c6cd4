import type { Selectable } from 'kysely';
import { readBool, readJson, readOptionalTime, readTime, writeJson, writeTime, type SqlDialect } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { VirtualKeysTable } from '../tables.ts';
import type { Metadata, Page, PageQuery, VirtualKey } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface KeyInput {
  name: string;
  /** Keyed hash of the secret; the secret itself is never stored. */
  key_hash: string;
  key_prefix: string;
  team_id?: string | null;
  user_id?: string | null;
  allowed_models?: string[];
  allowed_surfaces?: string[];
  ip_allowlist?: string[];
  metadata?: Metadata;
  expires_at?: string | null;
  enabled?: boolean;
  log_payloads?: boolean;
  created_by: string;
}

export type KeyPatch = Partial<Omit<KeyInput, 'key_hash' | 'key_prefix' | 'created_by'>>;

export interface KeyQuery extends PageQuery {
  team_id?: string;
  user_id?: string;
  enabled?: boolean;
  /** true: only revoked keys; false: only keys not revoked. */
  revoked?: boolean;
}

const MESSAGES = { entity: 'a virtual key', reference: 'team_id and user_id must name a team and a user of this organization' };

export function toVirtualKey(row: Selectable<VirtualKeysTable>): VirtualKey {
  return {
    id: row.id,
    org_id: row.org_id,
    team_id: row.team_id,
    user_id: row.user_id,
    name: row.name,
    key_prefix: row.key_prefix,
    allowed_models: readJson(row.allowed_models),
    allowed_surfaces: readJson(row.allowed_surfaces),
    ip_allowlist: readJson(row.ip_allowlist),
    metadata: readJson(row.metadata),
    expires_at: readOptionalTime(row.expires_at),
    enabled: readBool(row.enabled),
    created_by: row.created_by,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
    revoked_at: readOptionalTime(row.revoked_at),
    log_payloads: readBool(row.log_payloads),
  };
}

function patchColumns(patch: KeyPatch, dialect: SqlDialect) {
  return {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.team_id !== undefined && { team_id: patch.team_id }),
    ...(patch.user_id !== undefined && { user_id: patch.user_id }),
    ...(patch.allowed_models !== undefined && { allowed_models: writeJson(patch.allowed_models) }),
    ...(patch.allowed_surfaces !== undefined && { allowed_surfaces: writeJson(patch.allowed_surfaces) }),
    ...(patch.ip_allowlist !== undefined && { ip_allowlist: writeJson(patch.ip_allowlist) }),
    ...(patch.metadata !== undefined && { metadata: writeJson(patch.metadata) }),
    ...(patch.expires_at !== undefined && { expires_at: patch.expires_at === null ? null : writeTime(patch.expires_at) }),
    ...(patch.enabled !== undefined && { enabled: dialect.bool(patch.enabled) }),
    ...(patch.log_payloads !== undefined && { log_payloads: dialect.bool(patch.log_payloads) }),
  };
}

export class KeyRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: KeyInput): Promise<VirtualKey> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('virtual_keys', {
          id: newId('key', now),
          name: input.name,
          key_hash: input.key_hash,
          key_prefix: input.key_prefix,
          team_id: input.team_id ?? null,
          user_id: input.user_id ?? null,
          allowed_models: writeJson(input.allowed_models ?? []),
          allowed_surfaces: writeJson(input.allowed_surfaces ?? []),
          ip_allowlist: writeJson(input.ip_allowlist ?? []),
          metadata: writeJson(input.metadata ?? {}),
          expires_at: input.expires_at ? writeTime(input.expires_at) : null,
          enabled: this.scope.dialect.bool(input.enabled ?? true),
          log_payloads: this.scope.dialect.bool(input.log_payloads ?? false),
          created_by: input.created_by,
          created_at: at,
          updated_at: at,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toVirtualKey(row);
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    const row = await this.scope.selectFrom('virtual_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toVirtualKey(row);
  }

  async list(query: KeyQuery = {}): Promise<Page<VirtualKey>> {
    let q = this.scope.selectFrom('virtual_keys').selectAll();
    if (query.team_id !== undefined) q = q.where('team_id', '=', query.team_id);
    if (query.user_id !== undefined) q = q.where('user_id', '=', query.user_id);
    if (query.enabled !== undefined) q = q.where('enabled', '=', this.scope.dialect.bool(query.enabled));
    if (query.revoked !== undefined) q = q.where('revoked_at', query.revoked ? 'is not' : 'is', null);
    return paginate(q, query, toVirtualKey);
  }

  async update(id: string, patch: KeyPatch): Promise<VirtualKey | undefined> {
    return this.write(id, patchColumns(patch, this.scope.dialect));
  }

  /** Marks the key revoked; a key already revoked keeps its first revocation time. */
  async revoke(id: string): Promise<VirtualKey | undefined> {
    const now = this.scope.now().toISOString();
    const row = await this.scope
      .updateTable('virtual_keys')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(now)).$castTo<string>(), updated_at: now }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toVirtualKey(row);
  }

  /** Replaces the secret: the old one stops matching at once. */
  async rotate(id: string, secret: { key_hash: string; key_prefix: string }): Promise<VirtualKey | undefined> {
    return this.write(id, { key_hash: secret.key_hash, key_prefix: secret.key_prefix });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('virtual_keys').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  private async write(id: string, columns: ReturnType<typeof patchColumns> | { key_hash: string; key_prefix: string }): Promise<VirtualKey | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .updateTable('virtual_keys')
        .set({ ...columns, updated_at: this.scope.now().toISOString() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toVirtualKey(row);
  }
}
