// A usage record as a row of usage_records, and the SQLite statement that inserts one: shared by the repository (on
// PostgreSQL and an in-memory SQLite) and the thread that inserts into a SQLite file (store/usage-writer/).

import type BetterSqlite3 from 'better-sqlite3';
import type { Insertable } from 'kysely';
import type { UsageRecord } from '../../usage/record.ts';
import { DIALECTS, writeTime } from '../dialect.ts';
import type { UsageRecordsTable } from '../tables.ts';
import { logColumns, sqlitePayloadInserter } from './request-log-rows.ts';
import { UsageRollupBatch } from '../usage-rollups/batch.ts';
import { sqliteRollupUpserter } from '../usage-rollups/upsert.ts';

export const NANO = 1e9;

// A record the database refuses would be retried forever and hold back every record behind it, so numbers are made
// storable here: a non-finite one (NaN from a provider's odd usage) counts as 0, counts are whole.
const real = (v: number): number => (Number.isFinite(v) ? v : 0);
const whole = (v: number): number => Math.round(real(v));

export function toRow(r: UsageRecord, bool: (v: boolean) => boolean | number): Insertable<UsageRecordsTable> {
  const cost = real(r.cost_usd);
  return {
    request_id: r.request_id,
    time: writeTime(r.time),
    org_id: r.org_id,
    team_id: r.team_id,
    user_id: r.user_id,
    key_id: r.key_id,
    surface: r.surface,
    model: r.model,
    provider: r.provider,
    provider_model: r.provider_model,
    attempts: whole(r.attempts),
    status: whole(r.status),
    input_tokens: whole(r.input_tokens),
    output_tokens: whole(r.output_tokens),
    cached_tokens: whole(r.cached_tokens),
    cache_write_tokens: whole(r.cache_write_tokens),
    reasoning_tokens: whole(r.reasoning_tokens),
    cost_usd: cost,
    cost_nano_usd: Math.round(cost * NANO),
    priced: bool(r.priced),
    latency_ms: real(r.latency_ms),
    ttft_ms: r.ttft_ms === null ? null : real(r.ttft_ms),
    cache_hit: bool(r.cache_hit),
    estimated: bool(r.estimated),
    ...logColumns(r, bool),
  };
}

type Row = ReturnType<typeof toRow>;
// The columns as toRow names them, read off one row, so the statement cannot fall out of step with it.
const COLUMNS = Object.keys(toRow({ time: new Date(0).toISOString() } as UsageRecord, DIALECTS.sqlite.bool)) as (keyof Row)[];
const INSERT_SQL = `insert into "usage_records" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) on conflict ("request_id") do nothing`;

/**
 * Inserts records through one prepared single-row statement, run per record in one transaction; returns how many were
 * new. Building and preparing a 500-row INSERT through the query builder for every batch cost about a tenth of the
 * gateway's CPU per request.
 */
export function sqliteUsageInserter(sqlite: BetterSqlite3.Database): (records: readonly UsageRecord[]) => number {
  const insert = sqlite.prepare(INSERT_SQL);
  const insertPayload = sqlitePayloadInserter(sqlite);
  const upsertRollups = sqliteRollupUpserter(sqlite);
  const bool = DIALECTS.sqlite.bool;
  return sqlite.transaction((records: readonly UsageRecord[]) => {
    let inserted = 0;
    // Rolled up in the insert's transaction, from the records that were new: a replayed record is not counted twice.
    const rollups = new UsageRollupBatch();
    for (const record of records) {
      const row = toRow(record, bool);
      // As arguments rather than one array: better-sqlite3 binds them with less work (0.8 µs a row of 35 here).
      const added = insert.run(...COLUMNS.map((column) => row[column])).changes;
      if (added > 0) rollups.add(row);
      inserted += added;
      insertPayload(record);
    }
    upsertRollups(rollups.rows());
    return inserted;
  });
}
