// The audit log: append-only, newest first. Tenant code records and reads through an organization's scope; the
// platform view (organization lifecycle, the master key's cross-tenant reads) is a separate, explicit class.

import type { Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import { readJson, readTime, writeJson, writeTime } from '../dialect.ts';
import { newId } from '../ids.ts';
import type { AuditLogTable, Tables } from '../tables.ts';
import type { AuditRecord, Page, PageQuery } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope, StoreContext } from './scope.ts';

export interface AuditEntry {
  /** Who: `master`, a user id, an OIDC subject. */
  actor: string;
  /** What, e.g. `key.create`, `team.delete`. */
  action: string;
  target_type: string;
  target_id?: string | null;
  /** The object before and after the change, with secrets already left out. */
  before?: unknown;
  after?: unknown;
  request_id?: string | null;
}

export interface AuditQuery extends PageQuery {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  /** Inclusive. */
  since?: string;
  /** Exclusive. */
  until?: string;
}

type AuditSelect = SelectQueryBuilder<Tables, 'audit_log', Selectable<AuditLogTable>>;

function toAudit(row: Selectable<AuditLogTable>): AuditRecord {
  return {
    id: row.id,
    org_id: row.org_id,
    actor: row.actor,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    before: row.before === null ? null : readJson(row.before),
    after: row.after === null ? null : readJson(row.after),
    request_id: row.request_id,
    created_at: readTime(row.created_at),
  };
}

function columns(entry: AuditEntry, now: Date) {
  return {
    id: newId('aud', now),
    actor: entry.actor,
    action: entry.action,
    target_type: entry.target_type,
    target_id: entry.target_id ?? null,
    before: entry.before === undefined || entry.before === null ? null : writeJson(entry.before),
    after: entry.after === undefined || entry.after === null ? null : writeJson(entry.after),
    request_id: entry.request_id ?? null,
    created_at: now.toISOString(),
  };
}

function filtered(q: AuditSelect, query: AuditQuery): AuditSelect {
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  if (query.target_type !== undefined) q = q.where('target_type', '=', query.target_type);
  if (query.target_id !== undefined) q = q.where('target_id', '=', query.target_id);
  if (query.since !== undefined) q = q.where('created_at', '>=', writeTime(query.since));
  if (query.until !== undefined) q = q.where('created_at', '<', writeTime(query.until));
  return q;
}

export class AuditRepository {
  constructor(private readonly scope: OrgScope) {}

  async record(entry: AuditEntry): Promise<AuditRecord> {
    const row = await this.scope.insertInto('audit_log', columns(entry, this.scope.now())).returningAll().executeTakeFirstOrThrow();
    return toAudit(row);
  }

  async list(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
    return paginate(filtered(this.scope.selectFrom('audit_log').selectAll(), query), query, toAudit, 'desc');
  }
}

/** Every organization's records and those outside any organization. For the master key only. */
export class PlatformAuditRepository {
  readonly #db: Kysely<Tables>;
  readonly #now: () => Date;

  constructor(ctx: StoreContext) {
    this.#db = ctx.db;
    this.#now = ctx.now;
  }

  /** `org_id` null (the default): an action outside any organization. */
  async record(entry: AuditEntry & { org_id?: string | null }): Promise<AuditRecord> {
    const row = await this.#db
      .insertInto('audit_log')
      .values({ ...columns(entry, this.#now()), org_id: entry.org_id ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAudit(row);
  }

  /** `org_id`: one organization's records; null: only those outside any organization; absent: all. */
  async list(query: AuditQuery & { org_id?: string | null } = {}): Promise<Page<AuditRecord>> {
    let q = this.#db.selectFrom('audit_log').selectAll();
    if (query.org_id !== undefined) q = query.org_id === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', query.org_id);
    return paginate(filtered(q, query), query, toAudit, 'desc');
  }
}
