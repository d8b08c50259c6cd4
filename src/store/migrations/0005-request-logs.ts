// The request log: the usage ledger's rows gain what an operator looks a request up by (its operation, whether it
// streamed, how it failed, the targets it went through, the client's address and metadata), captured bodies get a
// table of their own, and keys and teams say whether theirs are captured. Rows written before this migration have
// nulls in the new columns.
//
// Listings read one organization's rows newest first, paged by (time, request_id): (org_id, time, request_id) serves
// that order and its cursor, and replaces (org_id, time), of which it is an extension. Pruning goes by time alone,
// oldest first, and (time, request_id) replaces (time) the same way. Failed requests are few: a partial index keeps
// "errors only" fast without a scan of the successes.

import { sql, type ColumnDataType, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function requestLogs({ types, bool }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const columns: [string, ColumnDataType][] = [
        ['operation', 'text'],
        ['stream', types.boolean],
        ['error_type', 'text'],
        ['error_code', 'text'],
        ['error_message', 'text'],
        // JSON kept as text on both databases: jsonb refuses some strings JSON allows (\u0000, a lone surrogate), and a
        // row the database refuses would hold the ledger up for good. The filters search it as text anyway.
        ['route', 'text'],
        ['client_ip', 'text'],
        ['metadata', 'text'],
      ];
      // One column per statement: SQLite adds no more at once.
      for (const [name, type] of columns) await db.schema.alterTable('usage_records').addColumn(name, type).execute();

      await db.schema.dropIndex('usage_records_org_time').execute();
      await db.schema.createIndex('usage_records_org_time_id').on('usage_records').columns(['org_id', 'time', 'request_id']).execute();
      await db.schema.dropIndex('usage_records_time').execute();
      await db.schema.createIndex('usage_records_time_id').on('usage_records').columns(['time', 'request_id']).execute();
      await db.schema
        .createIndex('usage_records_org_errors')
        .on('usage_records')
        .columns(['org_id', 'time', 'request_id'])
        .where(sql<boolean>`status >= 400`)
        .execute();

      // No foreign key to usage_records: a record and its bodies are inserted in the same batch and pruned together,
      // and the ledger's inserts stay free of constraint checks. org_id keeps the table behind the tenant scope.
      await db.schema
        .createTable('request_payloads')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text')
        .addColumn('request_body', 'text')
        .addColumn('response_body', 'text')
        .addColumn('request_truncated', types.boolean, (c) => c.notNull())
        .addColumn('response_truncated', types.boolean, (c) => c.notNull())
        .execute();

      for (const table of ['virtual_keys', 'teams']) {
        await db.schema
          .alterTable(table)
          .addColumn('log_payloads', types.boolean, (c) => c.notNull().defaultTo(bool(false)))
          .execute();
      }
    },
  };
}
