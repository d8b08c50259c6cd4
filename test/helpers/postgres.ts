// A throwaway PostgreSQL schema for one test file: a random name on the local server (127.0.0.1:5432, trust auth),
// dropped afterwards, so parallel files and repeated runs never see each other's rows. When no server answers, the
// reason is returned for the caller to skip with.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

const HOST = '127.0.0.1';
const PORT = 5432;
const USERS = ['postgres', 'root'];
const DATABASES = ['test', 'postgres'];

export interface TestSchema {
  /** A postgres:// URL whose connections use the schema (through the `search_path` startup option). */
  url: string;
  schema: string;
  drop(): Promise<void>;
}

async function connect(): Promise<{ client: pg.Client; user: string; database: string } | { error: string }> {
  let error = '';
  for (const user of USERS) {
    for (const database of DATABASES) {
      const client = new pg.Client({ host: HOST, port: PORT, user, database, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        return { client, user, database };
      } catch (err) {
        await client.end().catch(() => {});
        error = (err as Error).message || String(err);
      }
    }
  }
  return { error };
}

/** A fresh schema, or `{ skip }` with the message to skip the PostgreSQL tests with. */
export async function postgresTestSchema(): Promise<TestSchema | { skip: string }> {
  const conn = await connect();
  if ('error' in conn) return { skip: `PostgreSQL not reachable on ${HOST}:${PORT}: ${conn.error}` };
  const schema = `sb_test_${randomBytes(6).toString('hex')}`;
  await conn.client.query(`create schema ${schema}`);
  await conn.client.end();
  const base = `postgres://${conn.user}@${HOST}:${PORT}/${conn.database}`;
  return {
    url: `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
