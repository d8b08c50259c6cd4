// The request log: the usage ledger's rows with their routing detail and captured bodies, read one organization at a
// time (`store.tenant(org).logs`), newest first, paged by (time, request_id); and pruned by age and count across
// organizations (`store.requestLogs`), in small batches so no delete holds a lock for long.

import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { readBool, readTime, writeTime } from '../dialect.ts';
import type { Tables, UsageRecordsTable } from '../tables.ts';
import type { RouteDetail } from './request-log-rows.ts';
import type { OrgScope, StoreContext } from './scope.ts';
import type { UsageSummaryQuery } from './usage.ts';
import { ROLLUP_WIDTHS_MS } from '../../usage/rollups/buckets.ts';
import { visibleRows } from './visible-rows.ts';
import type { UsageRecord } from '../../usage/record.ts';

/** Where a page ends: the last row's time and request id. */
export interface LogPosition {
  time: string;
  request_id: string;
}

export interface LogQuery {
  /** Inclusive, ISO 8601. */
  from: string;
  /** Exclusive, ISO 8601. */
  to: string;
  key_id?: string;
  team_id?: string;
  user_id?: string;
  model?: string;
  provider?: string;
  /** Statuses from min to max, both included: one status, or a class (400 to 499). */
  status?: { min: number; max: number };
  /** true: failures only (status 400 or more); false: successes only; a string: failures of that error type or code. */
  error?: boolean | string;
  /** Free text, found in the client's metadata or the error message (case-insensitively, for ASCII on SQLite). */
  q?: string;
  /** Team-scoped callers: see UsageSummaryQuery.visible. */
  visible?: UsageSummaryQuery['visible'];
  /** Rows after this position, newest first. */
  after?: LogPosition;
  limit: number;
}

/** The usage record's own fields, as stored. */
type RecordFields = Pick<
  UsageRecord,
  | 'request_id' | 'time' | 'org_id' | 'team_id' | 'user_id' | 'key_id' | 'model' | 'provider' | 'provider_model' | 'status' | 'attempts'
  | 'input_tokens' | 'output_tokens' | 'cached_tokens' | 'cache_write_tokens' | 'reasoning_tokens' | 'cost_usd' | 'priced'
  | 'latency_ms' | 'ttft_ms' | 'cache_hit' | 'estimated'
>;

export interface RequestLog extends RecordFields {
  surface: string;
  /** Null in rows written before the request log existed, like the other detail. */
  operation: string | null;
  stream: boolean | null;
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  route: RouteDetail | null;
  client_ip: string | null;
  metadata: Record<string, unknown> | null;
}

export interface RequestPayload {
  request_body: string | null;
  response_body: string | null;
  request_truncated: boolean;
  response_truncated: boolean;
}

export interface LogPage {
  items: RequestLog[];
  /** The last item's position when more rows may follow; null on the last page. */
  next: LogPosition | null;
}

/** JSON text written by this gateway; anything else (a hand-edited row) reads as nothing rather than failing a listing. */
function parsed<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function toRequestLog(row: Selectable<UsageRecordsTable>): RequestLog {
  return {
    request_id: row.request_id,
    time: readTime(row.time),
    org_id: row.org_id,
    team_id: row.team_id,
    user_id: row.user_id,
    key_id: row.key_id,
    surface: row.surface,
    operation: row.operation,
    stream: row.stream === null ? null : readBool(row.stream),
    model: row.model,
    provider: row.provider,
    provider_model: row.provider_model,
    status: row.status,
    attempts: row.attempts,
    error_type: row.error_type,
    error_code: row.error_code,
    error_message: row.error_message,
    route: parsed<RouteDetail>(row.route),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cached_tokens: Number(row.cached_tokens),
    cache_write_tokens: Number(row.cache_write_tokens),
    reasoning_tokens: Number(row.reasoning_tokens),
    cost_usd: row.cost_usd,
    priced: readBool(row.priced),
    latency_ms: row.latency_ms,
    ttft_ms: row.ttft_ms,
    cache_hit: readBool(row.cache_hit),
    estimated: readBool(row.estimated),
    client_ip: row.client_ip,
    metadata: parsed<Record<string, unknown>>(row.metadata),
  };
}

type LogBuilder = ExpressionBuilder<Tables, 'usage_records'>;

/** `%text%` for LIKE, with the text's own wildcards taken literally (escaped with a backslash). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export class RequestLogRepository {
  constructor(private readonly scope: OrgScope) {}

  /** One page of the rows matching `query`, newest first. */
  async list(query: LogQuery): Promise<LogPage> {
    const rows = await this.scope
      .selectFrom('usage_records')
      .selectAll()
      .where((eb) => this.#where(eb, query))
      .orderBy('time', 'desc')
      .orderBy('request_id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const items = rows.slice(0, query.limit).map(toRequestLog);
    const last = items[items.length - 1];
    return { items, next: rows.length > query.limit && last ? { time: last.time, request_id: last.request_id } : null };
  }

  /** One row with its captured bodies, if any. */
  async get(requestId: string): Promise<(RequestLog & { payload: RequestPayload | null }) | undefined> {
    const row = await this.scope.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    if (!row) return undefined;
    const payload = await this.scope.selectFrom('request_payloads').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return {
      ...toRequestLog(row),
      payload: payload
        ? {
            request_body: payload.request_body,
            response_body: payload.response_body,
            request_truncated: readBool(payload.request_truncated),
            response_truncated: readBool(payload.response_truncated),
          }
        : null,
    };
  }

  #where(eb: LogBuilder, query: LogQuery): Expression<SqlBool> {
    const and: Expression<SqlBool>[] = [eb('time', '>=', writeTime(query.from)), eb('time', '<', writeTime(query.to))];
    for (const column of ['key_id', 'team_id', 'user_id', 'model', 'provider'] as const) {
      const value = query[column];
      if (value !== undefined) and.push(eb(column, '=', value));
    }
    if (query.status) and.push(eb('status', '>=', query.status.min), eb('status', '<=', query.status.max));
    const error = query.error;
    if (error === true) and.push(eb('status', '>=', 400));
    else if (error === false) and.push(eb('status', '<', 400));
    else if (typeof error === 'string') and.push(eb('status', '>=', 400), eb.or([eb('error_type', '=', error), eb('error_code', '=', error)]));
    if (query.q !== undefined) {
      const like = sql.raw(this.scope.dialect.name === 'postgres' ? 'ilike' : 'like');
      const pattern = containing(query.q);
      and.push(eb.or([sql<SqlBool>`metadata ${like} ${pattern} escape '\\'`, sql<SqlBool>`error_message ${like} ${pattern} escape '\\'`]));
    }
    if (query.visible) and.push(visibleRows(query.visible));
    if (query.after) {
      // The redundant bound lets both databases walk the (org_id, time, request_id) index from the cursor on.
      const time = writeTime(query.after.time);
      and.push(eb('time', '<=', time), eb.or([eb('time', '<', time), eb('request_id', '<', query.after.request_id)]));
    }
    return eb.and(and);
  }
}

const DAY_MS = 86_400_000;
const FINEST_ROLLUP_MS = ROLLUP_WIDTHS_MS[0];

/** Rows deleted per statement: each delete is short, and the event loop (SQLite) gets a turn between them. */
const PRUNE_BATCH = 500;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RequestLogRetention {
  readonly #db: Kysely<Tables>;

  constructor(ctx: StoreContext) {
    this.#db = ctx.db;
  }

  /** Deletes the rows (and their captured bodies) older than `before`; returns how many. */
  async pruneOlderThan(before: string, batch = PRUNE_BATCH): Promise<number> {
    const cutoff = writeTime(before);
    return this.#pruneWhile((eb) => eb('time', '<', cutoff), batch);
  }

  /** Deletes all but the newest `keep` rows (and their captured bodies); returns how many. */
  async pruneBeyond(keep: number, batch = PRUNE_BATCH): Promise<number> {
    const edge = await this.#db
      .selectFrom('usage_records')
      .select(['time', 'request_id'])
      .orderBy('time', 'desc')
      .orderBy('request_id', 'desc')
      .limit(1)
      .offset(keep)
      .executeTakeFirst();
    if (!edge) return 0;
    const time = writeTime(readTime(edge.time));
    return this.#pruneWhile((eb) => eb.and([eb('time', '<=', time), eb.or([eb('time', '<', time), eb('request_id', '<=', edge.request_id)])]), batch);
  }

  /**
   * Deletes the 5-minute rollups older than `before`; returns how many. They are nearly as many rows as the records
   * they sum when traffic is sparse, and no automatic bucket over a range that old uses them: the hourly and coarser
   * rollups keep the long history for analytics. Organization by organization (the rollups' key leads with it) and a
   * day at a time, so each delete is short.
   */
  async pruneFineRollupsOlderThan(before: string): Promise<number> {
    const cutoff = new Date(before).getTime();
    const orgs = [...(await this.#db.selectFrom('organizations').select('id').execute()).map((o) => o.id), ''];
    let deleted = 0;
    for (const org of orgs) {
      const fine = (eb: ExpressionBuilder<Tables, 'usage_rollups'>) => eb.and([eb('org_id', '=', org), eb('width_ms', '=', FINEST_ROLLUP_MS)]);
      const oldest = await this.#db.selectFrom('usage_rollups').select('start_ms').where(fine).orderBy('start_ms').limit(1).executeTakeFirst();
      if (!oldest) continue;
      for (let from = Number(oldest.start_ms); from < cutoff; from += DAY_MS) {
        const until = Math.min(from + DAY_MS, cutoff);
        const result = await this.#db
          .deleteFrom('usage_rollups')
          .where((eb) => eb.and([fine(eb), eb('start_ms', '>=', from), eb('start_ms', '<', until)]))
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
        await nextTurn();
      }
    }
    return deleted;
  }

  /** Oldest first, a batch at a time: select the ids, delete their bodies, then the rows. */
  async #pruneWhile(matches: (eb: LogBuilder) => Expression<SqlBool>, batch: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = await this.#db.selectFrom('usage_records').select('request_id').where(matches).orderBy('time').orderBy('request_id').limit(batch).execute();
      if (rows.length === 0) return deleted;
      const ids = rows.map((r) => r.request_id);
      await this.#db.deleteFrom('request_payloads').where('request_id', 'in', ids).execute();
      const result = await this.#db.deleteFrom('usage_records').where('request_id', 'in', ids).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
      if (rows.length < batch) return deleted;
      await nextTurn();
    }
  }
}
