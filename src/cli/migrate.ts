// `switchboard migrate`: brings the configured database's schema up to date and says what ran.

import { loadConfig } from '../config/load.ts';
import { databaseUrl, openDatabase } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';

export async function runMigrations(path: string | undefined, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<void> {
  const config = loadConfig(path, env);
  const database = openDatabase(databaseUrl(config.storage));
  try {
    const applied = await migrate(database);
    for (const name of applied) print(`applied ${name}`);
    print(`${database.description}: ${applied.length > 0 ? `${applied.length} migration(s) applied` : 'already up to date'}`);
  } finally {
    await database.close();
  }
}
