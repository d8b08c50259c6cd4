// Everything that differs between SQLite and PostgreSQL in how values are stored, kept here so repositories and
// migrations are written once. PostgreSQL gets its native types (jsonb, boolean, timestamptz); SQLite stores JSON and
// timestamps as text and booleans as 0/1. ISO-8601 UTC text in one fixed format sorts and compares like time.

import type { ColumnDataType } from 'kysely';
import { isoTime } from '../core/iso-time.ts';
import { rememberLast } from '../core/remember-last.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface SqlDialect {
  readonly name: DialectName;
  /** Column types for the portable schema builder in migrations. */
  readonly types: { readonly json: ColumnDataType; readonly boolean: ColumnDataType; readonly timestamp: ColumnDataType };
  /** better-sqlite3 binds no booleans. */
  bool(value: boolean): boolean | number;
}

export const DIALECTS: Record<DialectName, SqlDialect> = {
  sqlite: { name: 'sqlite', types: { json: 'text', boolean: 'integer', timestamp: 'text' }, bool: (v) => (v ? 1 : 0) },
  postgres: { name: 'postgres', types: { json: 'jsonb', boolean: 'boolean', timestamp: 'timestamptz' }, bool: (v) => v },
};

// Reading needs no dialect: each driver's representation is recognised by its JavaScript type.

/** PostgreSQL accepts JSON text for a jsonb parameter, so one encoding serves both. */
export function writeJson(value: unknown): string {
  return JSON.stringify(value);
}

export function readJson<T>(raw: unknown): T {
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as T;
}

export function readBool(raw: unknown): boolean {
  return raw === true || raw === 1;
}

function storedTime(ms: number, value: Date | string): string {
  if (Number.isNaN(ms)) throw new RangeError(`not a valid time: ${String(value)}`);
  return isoTime(ms);
}

/** The last string is remembered: a batch of usage records holds runs of the same millisecond. */
const writeTimeText = rememberLast((value: string): string => storedTime(Date.parse(value), value));

/** Normalises a time to the one stored format; an unparseable time is a caller's mistake. */
export function writeTime(value: Date | string): string {
  return typeof value === 'string' ? writeTimeText(value) : storedTime(value.getTime(), value);
}

export function readTime(raw: unknown): string {
  return raw instanceof Date ? raw.toISOString() : String(raw);
}

export function readOptionalTime(raw: unknown): string | null {
  return raw === null || raw === undefined ? null : readTime(raw);
}
