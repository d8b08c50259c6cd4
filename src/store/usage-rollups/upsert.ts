// Adds a batch's rollup rows to usage_rollups: a new key is inserted, an existing one gets the batch's sums added and
// its histograms merged bin by bin, inside the database. On SQLite in one prepared statement run per row (or, for the
// backfill, per chunk of rows through Kysely); on PostgreSQL in one statement per batch, each column sent as an array
// and unnested: a VALUES list of a thousand rows took twice as long to send, parse and plan. Callers run it in the
// transaction of the insert whose new records the rows sum.

import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.ts';
import type { RollupRow } from './batch.ts';

const KEY = ['org_id', 'width_ms', 'start_ms', 'team_id', 'user_id', 'key_id', 'model', 'provider'] as const;
const SUMS = ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nano_usd', 'latency_sum_us', 'ttft_count', 'ttft_sum_us'] as const;
const HISTOGRAMS = ['latency_hist', 'ttft_hist'] as const;
const COLUMNS = [...KEY, ...SUMS, ...HISTOGRAMS] as const;

/** Rows per statement: 20 parameters each stays well under SQLite's 32766. */
const CHUNK = 1000;

const POSTGRES_TYPES: Record<(typeof COLUMNS)[number], string> = {
  org_id: 'text',
  width_ms: 'integer',
  start_ms: 'bigint',
  team_id: 'text',
  user_id: 'text',
  key_id: 'text',
  model: 'text',
  provider: 'text',
  requests: 'bigint',
  errors: 'bigint',
  cache_hits: 'bigint',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cached_tokens: 'bigint',
  cost_nano_usd: 'bigint',
  latency_sum_us: 'bigint',
  ttft_count: 'bigint',
  ttft_sum_us: 'bigint',
  latency_hist: 'text',
  ttft_hist: 'text',
};

/** The stored histogram plus the new one, bin by bin, in each database's JSON functions. */
function mergedHistogram(dialect: DialectName, column: (typeof HISTOGRAMS)[number]): string {
  if (dialect === 'postgres') {
    return `coalesce((select jsonb_object_agg(bin, n)::text from (select key as bin, sum(value::bigint) as n from (select * from jsonb_each_text(usage_rollups.${column}::jsonb) union all select * from jsonb_each_text(excluded.${column}::jsonb)) as sides group by key) as merged), '{}')`;
  }
  return `coalesce((select json_group_object(bin, n) from (select key as bin, sum(value) as n from (select key, value from json_each(usage_rollups.${column}) union all select key, value from json_each(excluded.${column})) group by key)), '{}')`;
}

function conflictClause(dialect: DialectName): string {
  const sets = [...SUMS.map((c) => `${c} = usage_rollups.${c} + excluded.${c}`), ...HISTOGRAMS.map((c) => `${c} = ${mergedHistogram(dialect, c)}`)];
  return `on conflict (${KEY.join(', ')}) do update set ${sets.join(', ')}`;
}

const values = (row: RollupRow) => COLUMNS.map((column) => row[column]);

/** For the usage insert on SQLite (repositories/usage-rows.ts): one prepared statement, run per row. */
export function sqliteRollupUpserter(sqlite: BetterSqlite3.Database): (rows: readonly RollupRow[]) => void {
  const upsert = sqlite.prepare(`insert into usage_rollups (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) ${conflictClause('sqlite')}`);
  return (rows) => {
    for (const row of rows) upsert.run(values(row));
  };
}

/** For PostgreSQL's usage insert and the backfill on either database. */
export async function upsertRollups(db: Kysely<any>, dialect: DialectName, rows: readonly RollupRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (dialect === 'postgres') {
    const arrays = COLUMNS.map((column) => sql`${rows.map((row) => row[column])}::${sql.raw(POSTGRES_TYPES[column])}[]`);
    await sql`insert into usage_rollups (${sql.raw(COLUMNS.join(', '))}) select * from unnest(${sql.join(arrays)}) ${sql.raw(conflictClause(dialect))}`.execute(db);
    return;
  }
  // Written out rather than built through the query builder, which took longer to compile a chunk than SQLite to run it.
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const text = `insert into usage_rollups (${COLUMNS.join(', ')}) values ${chunk.map(() => tuple).join(', ')} ${conflictClause(dialect)}`;
    await db.executeQuery(CompiledQuery.raw(text, chunk.flatMap(values)));
  }
}
