// The request log's part of a usage_records row, and a captured payload as a request_payloads row. Like the rest of
// the row (usage-rows.ts) these are made storable whatever the record holds: a record read back from the journal may
// come from an earlier version (no detail at all) or hold anything a client or provider sent, and a value the database
// refuses would hold the ledger up for good. PostgreSQL refuses NUL in text, so it is dropped.

import type BetterSqlite3 from 'better-sqlite3';
import type { Insertable, Kysely } from 'kysely';
import type { FailedAttempt } from '../../pipeline/attempt-trail.ts';
import { clientMetadata } from '../../request-logs/client-metadata.ts';
import type { UsageRecord } from '../../usage/record.ts';
import { DIALECTS } from '../dialect.ts';
import type { RequestPayloadsTable, Tables, UsageRecordsTable } from '../tables.ts';

/** Enough for any provider's error message that says something, short of the bodies some of them echo back. */
const ERROR_MESSAGE_MAX = 2000;

function storable(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const text = value.includes('\0') ? value.replaceAll('\0', '') : value;
  return text.length > max ? text.slice(0, max) : text;
}

/** Each attempt that did not answer, then the one that did: what it was and what it said. */
export interface RouteStep {
  target: string;
  /** Null: skipped, its circuit open. */
  status: number | null;
  code: string | null;
}

export interface RouteDetail {
  strategy: string | null;
  steps: RouteStep[];
}

function stepOf(value: unknown): RouteStep | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { target, status, code } = value as Partial<FailedAttempt>;
  if (typeof target !== 'string') return undefined;
  return { target: storable(target, 300)!, status: typeof status === 'number' && Number.isFinite(status) ? Math.round(status) : null, code: storable(code, 200) };
}

/**
 * The route a request took, as JSON text: its strategy and steps. The answering attempt is not among the failed ones,
 * so it is added from the record when the request made more attempts than failed (an answer, or a failure after it
 * began: a stream cut midway, a client leaving). Null for a record without the detail (an earlier version's).
 */
export function routeDetail(r: UsageRecord): string | null {
  if (r.strategy === undefined && r.failed_attempts === undefined) return null;
  const failed = Array.isArray(r.failed_attempts) ? r.failed_attempts.map(stepOf).filter((s): s is RouteStep => s !== undefined) : [];
  const steps = failed.slice(0, 100);
  const attemptsFailed = failed.filter((s) => s.status !== null).length;
  if (r.attempts > attemptsFailed) {
    steps.push({ target: storable(`${r.provider}/${r.provider_model}`, 300)!, status: Math.round(r.status), code: r.status >= 400 ? storable(r.error_code, 200) : null });
  }
  return JSON.stringify({ strategy: storable(r.strategy, 100), steps } satisfies RouteDetail);
}

type LogColumns = Pick<Insertable<UsageRecordsTable>, 'operation' | 'stream' | 'error_type' | 'error_code' | 'error_message' | 'route' | 'client_ip' | 'metadata'>;

export function logColumns(r: UsageRecord, bool: (v: boolean) => boolean | number): LogColumns {
  return {
    operation: storable(r.operation, 50),
    stream: typeof r.stream === 'boolean' ? bool(r.stream) : null,
    error_type: storable(r.error_type, 100),
    error_code: storable(r.error_code, 200),
    error_message: storable(r.error_message, ERROR_MESSAGE_MAX),
    route: routeDetail(r),
    client_ip: storable(r.client_ip, 100),
    metadata: clientMetadata(r.client_metadata, r.metadata_header),
  };
}

/** The record's captured bodies as a row, if it has any. */
export function payloadRow(r: UsageRecord, bool: (v: boolean) => boolean | number): Insertable<RequestPayloadsTable> | undefined {
  const p = r.payload;
  if (p === null || typeof p !== 'object') return undefined;
  return {
    request_id: r.request_id,
    org_id: r.org_id,
    // Already cut to payload_max_bytes when captured; this only bounds what a damaged journal line could hold.
    request_body: storable(p.request_body, 16 * 1024 * 1024),
    response_body: storable(p.response_body, 16 * 1024 * 1024),
    request_truncated: bool(p.request_truncated === true),
    response_truncated: bool(p.response_truncated === true),
  };
}

const PAYLOAD_COLUMNS = ['request_id', 'org_id', 'request_body', 'response_body', 'request_truncated', 'response_truncated'] as const satisfies readonly (keyof RequestPayloadsTable)[];
const PAYLOAD_INSERT_SQL = `insert into "request_payloads" (${PAYLOAD_COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${PAYLOAD_COLUMNS.map(() => '?').join(', ')}) on conflict ("request_id") do nothing`;

/** For the SQLite usage inserter: writes a record's captured bodies, if any, inside its transaction. */
export function sqlitePayloadInserter(sqlite: BetterSqlite3.Database): (record: UsageRecord) => void {
  const insert = sqlite.prepare(PAYLOAD_INSERT_SQL);
  const bool = DIALECTS.sqlite.bool;
  return (record) => {
    const row = payloadRow(record, bool);
    if (row) insert.run(PAYLOAD_COLUMNS.map((column) => row[column]));
  };
}

/** Captured bodies reach 2 × payload_max_bytes a row: a few per statement keep each one's size sane. */
const PAYLOAD_CHUNK = 50;

/** For the PostgreSQL usage inserter: writes the records' captured bodies, skipping those already there. */
export async function insertPayloads(db: Kysely<Tables>, records: readonly UsageRecord[], bool: (v: boolean) => boolean | number): Promise<void> {
  const rows = records.map((r) => payloadRow(r, bool)).filter((row) => row !== undefined);
  for (let i = 0; i < rows.length; i += PAYLOAD_CHUNK) {
    await db
      .insertInto('request_payloads')
      .values(rows.slice(i, i + PAYLOAD_CHUNK))
      .onConflict((oc) => oc.column('request_id').doNothing())
      .execute();
  }
}
