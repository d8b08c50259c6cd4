// Brings the schema up to date with the migrations in code. Safe to run at every start and from several instances at
// once: Kysely's migrator takes a lock (an advisory lock on PostgreSQL) and skips what already ran.

import { Migrator, sql } from 'kysely';
import { DatabaseError, type Database } from './db.ts';
import { migrations } from './migrations/index.ts';

/**
 * On PostgreSQL, the schema the tables go to (the first existing one on the search_path). Kysely looks for its
 * migration table in every schema unless told which, and would take another schema's for ours.
 */
async function migrationSchema(database: Database): Promise<string | undefined> {
  if (database.dialect.name !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database.db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no schema on the search_path exists');
  return schema;
}

/** Runs the pending migrations and returns the names of those it ran, in order (empty when already up to date). */
export async function migrate(database: Database): Promise<string[]> {
  const fail = (what: string, cause: unknown) =>
    new DatabaseError(`${database.description}: ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  let schema: string | undefined;
  try {
    schema = await migrationSchema(database);
  } catch (err) {
    throw fail('cannot use the database', err);
  }
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations(database.dialect) },
    // Our own names, so a database shared with another Kysely application keeps the two histories apart.
    migrationTableName: 'switchboard_migration',
    migrationLockTableName: 'switchboard_migration_lock',
    migrationTableSchema: schema,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw fail(failed ? `migration ${failed} failed` : 'migrations failed', error);
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
