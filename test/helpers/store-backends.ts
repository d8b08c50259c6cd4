// The databases every shared store suite runs on: SQLite in memory, SQLite in a file (WAL, the usage insert thread),
// and PostgreSQL in a schema of its own, skipped with the reason when no server answers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTestSchema } from './postgres.ts';

export interface StoreBackend {
  name: string;
  url: string;
  skip: string | undefined;
  cleanup(): Promise<void>;
}

export async function storeBackends(label: string): Promise<StoreBackend[]> {
  const postgres = await postgresTestSchema();
  const sqliteDir = mkdtempSync(join(tmpdir(), `switchboard-${label}-`));
  return [
    { name: 'SQLite', url: 'sqlite::memory:', skip: undefined, cleanup: async () => {} },
    { name: 'SQLite file', url: `sqlite://${join(sqliteDir, `${label}.db`)}`, skip: undefined, cleanup: async () => rmSync(sqliteDir, { recursive: true, force: true }) },
    'skip' in postgres
      ? { name: 'PostgreSQL', url: '', skip: postgres.skip, cleanup: async () => {} }
      : { name: 'PostgreSQL', url: postgres.url, skip: undefined, cleanup: postgres.drop },
  ];
}
