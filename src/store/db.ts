// Opens the configured database as a Kysely instance: better-sqlite3 for `sqlite:` URLs (the embedded default),
// a pg Pool for `postgres://` and `postgresql://`.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { DIALECTS, type SqlDialect } from './dialect.ts';
import type { Tables } from './tables.ts';

export const DEFAULT_DATABASE_URL = 'sqlite://./.switchboard/switchboard.db';

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** The database could not be used or brought up to date. The message names it without credentials, and says why. */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

export type DatabaseLocation = { dialect: 'sqlite'; filename: string } | { dialect: 'postgres'; connectionString: string };

export interface Database {
  readonly db: Kysely<Tables>;
  /**
   * The embedded database's own handle, for the one write that outgrows a query builder: the usage ledger's batches,
   * a prepared statement run per row inside a transaction.
   */
  readonly sqlite?: BetterSqlite3.Database;
  readonly dialect: SqlDialect;
  /** Where the data lives, without credentials: safe to print. */
  readonly description: string;
  close(): Promise<void>;
}

export function databaseUrl(storage: { database?: string } | undefined): string {
  return storage?.database ?? DEFAULT_DATABASE_URL;
}

/**
 * `sqlite::memory:`, `sqlite://./relative.db`, `sqlite:///absolute.db`, `postgres://user:pass@host:5432/db`.
 * Errors name only the scheme: the rest of a URL may hold a password.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!filename) throw new DatabaseError('storage.database: a sqlite URL needs a file, e.g. sqlite://./.switchboard/switchboard.db or sqlite::memory:');
    return { dialect: 'sqlite', filename };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', connectionString: url };
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'a URL without a scheme';
  throw new DatabaseError(`storage.database: unsupported database (${scheme}); use sqlite://./path.db, sqlite::memory: or postgres://user@host/db`);
}

export function describeDatabase(location: DatabaseLocation): string {
  if (location.dialect === 'sqlite') return `sqlite ${location.filename}`;
  try {
    const url = new URL(location.connectionString);
    return `postgres ${url.host}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}

export function openSqlite(filename: string): BetterSqlite3.Database {
  // The database holds key hashes and sealed credentials: a directory it creates is the owner's alone.
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  const sqlite = new BetterSqlite3(filename);
  // WAL lets readers run beside the writer (the CLI beside a running gateway); NORMAL sync is durable under WAL.
  if (filename !== ':memory:') sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

function openPostgres(connectionString: string, onError: (err: Error) => void): Kysely<Tables> {
  const pool = new pg.Pool({ connectionString });
  // An idle connection that dies (server restart) is dropped by the pool; unhandled, its error would end the process.
  pool.on('error', onError);
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

export function openDatabase(url: string, opts: { onError?: (err: Error) => void } = {}): Database {
  const location = parseDatabaseUrl(url);
  const description = describeDatabase(location);
  let db: Kysely<Tables>;
  let sqlite: BetterSqlite3.Database | undefined;
  try {
    if (location.dialect === 'sqlite') {
      sqlite = openSqlite(location.filename);
      db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
    } else {
      db = openPostgres(location.connectionString, opts.onError ?? ((err) => console.error(`database connection error: ${err.message}`)));
    }
  } catch (err) {
    throw new DatabaseError(`${description}: cannot open: ${(err as Error).message}`, { cause: err });
  }
  return { db, sqlite, dialect: DIALECTS[location.dialect], description, close: () => db.destroy() };
}
