// The usage ledger's table. Unscoped (`store.usage`): the ledger's idempotent batch insert and the totals the limiter
// seeds its counters from, which may span organizations (global, model and target limits). Scoped
// (`store.tenant(org).usage`): the reports of one organization.

import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { UsageRecord } from '../../usage/record.ts';
import { writeTime, type DialectName } from '../dialect.ts';
import type { Tables } from '../tables.ts';
import type { OrgScope, StoreContext } from './scope.ts';
import { NANO, sqliteUsageInserter, toRow } from './usage-rows.ts';
import { insertPayloads } from './request-log-rows.ts';
import { UsageInsertThread } from '../usage-writer/thread.ts';
import { UsageRollupBatch } from '../usage-rollups/batch.ts';
import { upsertRollups } from '../usage-rollups/upsert.ts';
import { visibleRows } from './visible-rows.ts';

/** Exact matches on the ledger's columns; absent fields do not filter. */
export interface UsageFilter {
  org_id?: string;
  team_id?: string;
  user_id?: string;
  key_id?: string;
  model?: string;
  provider?: string;
  provider_model?: string;
}

export interface UsageTotals {
  /** Sum of each record's Math.round(cost_usd * 1e9). */
  cost_nano_usd: number;
  /** input_tokens + output_tokens. */
  tokens: number;
}

export const USAGE_GROUPS = ['key', 'team', 'user', 'model', 'provider', 'day'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageSummaryQuery {
  /** Inclusive, ISO 8601. */
  from: string;
  /** Exclusive, ISO 8601. */
  to: string;
  group_by?: UsageGroup;
  key_id?: string;
  team_id?: string;
  user_id?: string;
  model?: string;
  /**
   * For callers who see only part of the organization: records of these teams or of this user only. With no team
   * and no user, nothing is visible.
   */
  visible?: { team_ids: readonly string[]; user_id: string | null };
}

export interface UsageSums {
  requests: number;
  /** Requests answered with a status of 400 or more. */
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** Requests that used tokens of a model with no known price: their cost counts as 0. */
  unpriced_requests: number;
}

export interface UsageSummary {
  total: UsageSums;
  /** One entry per value of the group_by column (null: records without one, e.g. the master key's); empty without group_by. */
  groups: (UsageSums & { group: string | null })[];
}

/** Rows per INSERT: some 35 parameters each stays well under PostgreSQL's 65535 and SQLite's 32766. */
const INSERT_CHUNK = 1000;

const FILTER_COLUMNS = ['org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider', 'provider_model'] as const satisfies readonly (keyof UsageFilter)[];

/** Whole milliseconds since the epoch of the row's time: exact on both databases (SQLite keeps ISO text). */
function epochMs(dialect: DialectName) {
  return dialect === 'postgres' ? sql`(extract(epoch from time) * 1000)::bigint` : sql`cast(round(unixepoch(time, 'subsec') * 1000) as integer)`;
}

/** The UTC date of the row's time, YYYY-MM-DD. */
function utcDay(dialect: DialectName) {
  return dialect === 'postgres' ? sql<string>`to_char(time at time zone 'UTC', 'YYYY-MM-DD')` : sql<string>`substr(time, 1, 10)`;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export class UsageLedgerRepository {
  readonly #db: Kysely<Tables>;
  readonly #ctx: StoreContext;

  #inThread: ((records: readonly UsageRecord[]) => number) | undefined;
  #thread: UsageInsertThread | undefined;

  constructor(ctx: StoreContext) {
    this.#db = ctx.db;
    this.#ctx = ctx;
  }

  /** A SQLite file's records go to the insert thread as JSON text (see insertMany). */
  get takesJson(): boolean {
    return this.#ctx.sqlite !== undefined && !this.#ctx.sqlite.memory;
  }

  /** Stops the insert thread, if one was started; an insert still running on it is let finish. */
  async close(): Promise<void> {
    await this.#thread?.close();
  }

  /**
   * Writes the records, skipping any whose request_id is already there; returns how many were new. `json`: the same
   * records as a JSON array, which the SQLite insert thread takes as it is.
   */
  async insertMany(records: readonly UsageRecord[], json?: string): Promise<number> {
    const sqlite = this.#ctx.sqlite;
    if (sqlite) {
      if (sqlite.memory) return (this.#inThread ??= sqliteUsageInserter(sqlite))(records);
      // A file database: inserted by a connection on a thread of its own (store/usage-writer/), off the event loop.
      return (this.#thread ??= new UsageInsertThread(sqlite.name)).insert(records, json);
    }
    const bool = this.#ctx.dialect.bool;
    // Rolled up in the insert's transaction, from the records it returned as new: a replayed record is not counted twice.
    const insert = async (db: Kysely<Tables>): Promise<number> => {
      let added = 0;
      const rollups = new UsageRollupBatch();
      for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        const rows = records.slice(i, i + INSERT_CHUNK).map((r) => toRow(r, bool));
        const fresh = await db
          .insertInto('usage_records')
          .values(rows)
          .onConflict((oc) => oc.column('request_id').doNothing())
          .returning('request_id')
          .execute();
        added += fresh.length;
        const ids = new Set(fresh.map((r) => r.request_id));
        for (const row of rows) if (ids.delete(row.request_id)) rollups.add(row);
      }
      await upsertRollups(db, 'postgres', rollups.rows());
      return added;
    };
    const inserted = await (this.#db.isTransaction ? insert(this.#db) : this.#db.transaction().execute(insert));
    await insertPayloads(this.#db, records, bool);
    return inserted;
  }

  /**
   * Cost and tokens of the records matching `filter` from `fromMs` on, per bucket of `bucketMs` keyed by the bucket's
   * start (floor(time / bucketMs) * bucketMs), or as one bucket keyed `fromMs` without `bucketMs`.
   */
  async totals(filter: UsageFilter, fromMs: number, bucketMs?: number): Promise<Map<number, UsageTotals>> {
    if (bucketMs !== undefined && (!Number.isSafeInteger(bucketMs) || bucketMs <= 0)) throw new RangeError(`bucketMs must be a positive integer, got ${bucketMs}`);
    let q = this.#db
      .selectFrom('usage_records')
      .select((eb) => [eb.fn.sum<string | number | null>('cost_nano_usd').as('cost'), sql<string | number | null>`sum(input_tokens + output_tokens)`.as('tokens')])
      .where('time', '>=', writeTime(new Date(fromMs)));
    for (const column of FILTER_COLUMNS) {
      const value = filter[column];
      if (value !== undefined) q = q.where(column, '=', value);
    }
    const totals = new Map<number, UsageTotals>();
    if (bucketMs === undefined) {
      const row = await q.executeTakeFirst();
      totals.set(fromMs, { cost_nano_usd: num(row?.cost), tokens: num(row?.tokens) });
      return totals;
    }
    // A literal, not a parameter: PostgreSQL matches the grouped expression by its text, and bucketMs is checked above.
    const bucket = sql<string | number>`(${epochMs(this.#ctx.dialect.name)} / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
    const rows = await q.select(bucket.as('bucket')).groupBy(bucket).execute();
    for (const row of rows) totals.set(num(row.bucket), { cost_nano_usd: num(row.cost), tokens: num(row.tokens) });
    return totals;
  }
}

type UsageBuilder = ExpressionBuilder<Tables, 'usage_records'>;

export class UsageReportRepository {
  constructor(private readonly scope: OrgScope) {}

  /** Totals over [from, to), overall and per group. */
  async summary(query: UsageSummaryQuery): Promise<UsageSummary> {
    const where = (eb: UsageBuilder): Expression<SqlBool> => {
      const and: Expression<SqlBool>[] = [eb('time', '>=', writeTime(query.from)), eb('time', '<', writeTime(query.to))];
      for (const column of ['key_id', 'team_id', 'user_id', 'model'] as const) {
        const value = query[column];
        if (value !== undefined) and.push(eb(column, '=', value));
      }
      if (query.visible) and.push(visibleRows(query.visible));
      return eb.and(and);
    };
    const sums = (eb: UsageBuilder) => [
      eb.fn.countAll<string | number>().as('requests'),
      sql<string | number | null>`sum(case when status >= 400 then 1 else 0 end)`.as('errors'),
      eb.fn.sum<string | number | null>('input_tokens').as('input_tokens'),
      eb.fn.sum<string | number | null>('output_tokens').as('output_tokens'),
      eb.fn.sum<string | number | null>('cached_tokens').as('cached_tokens'),
      eb.fn.sum<string | number | null>('cache_write_tokens').as('cache_write_tokens'),
      eb.fn.sum<string | number | null>('reasoning_tokens').as('reasoning_tokens'),
      eb.fn.sum<string | number | null>('cost_nano_usd').as('cost_nano_usd'),
      sql<string | number | null>`sum(case when priced or input_tokens + output_tokens = 0 then 0 else 1 end)`.as('unpriced_requests'),
    ];
    const base = this.scope.selectFrom('usage_records').where(where);
    const totalRow = await base.select(sums).executeTakeFirst();
    const total = toSums(totalRow);
    if (!query.group_by) return { total, groups: [] };

    const group = groupExpression(query.group_by, this.scope.dialect.name);
    const rows = await base.select(sums).select(group.as('grp')).groupBy(group).execute();
    const groups = rows.map((row) => ({ group: row.grp === null ? null : String(row.grp), ...toSums(row) }));
    groups.sort((a, b) => (a.group === b.group ? 0 : a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : 1));
    return { total, groups };
  }
}

function groupExpression(by: UsageGroup, dialect: DialectName) {
  switch (by) {
    case 'key':
      return sql<string | null>`key_id`;
    case 'team':
      return sql<string | null>`team_id`;
    case 'user':
      return sql<string | null>`user_id`;
    case 'model':
      return sql<string | null>`model`;
    case 'provider':
      return sql<string | null>`provider`;
    case 'day':
      return utcDay(dialect);
  }
}

function toSums(row: Record<string, unknown> | undefined): UsageSums {
  return {
    requests: num(row?.requests),
    errors: num(row?.errors),
    input_tokens: num(row?.input_tokens),
    output_tokens: num(row?.output_tokens),
    cached_tokens: num(row?.cached_tokens),
    cache_write_tokens: num(row?.cache_write_tokens),
    reasoning_tokens: num(row?.reasoning_tokens),
    // Summed in integer nano-USD, so many small costs add up without floating-point drift.
    cost_usd: num(row?.cost_nano_usd) / NANO,
    unpriced_requests: num(row?.unpriced_requests),
  };
}
