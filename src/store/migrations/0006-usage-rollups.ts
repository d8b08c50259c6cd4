// Usage rollups for GET /admin/v1/analytics: usage_records summed per rollup width (5 minutes, 1 hour, 6 hours, 1 day),
// bucket start and who / what (organization, team, user, key, model, provider), with latency and time-to-first-token
// histograms, so a month's series reads thousands of rows rather than a million records. The usage insert keeps them
// (store/usage-rollups/), in the transaction that inserts the records, counting only records that were new.
//
// The primary key leads with what every query fixes (organization, width) and then the time range it reads. On SQLite
// the table is clustered by it (WITHOUT ROWID), so a query reads one contiguous run of rows. On PostgreSQL, rows are
// updated in place by every batch that adds to them: pages keep room for those updates (fillfactor).
//
// Records already in the database are rolled up here, in the migration's transaction, so no record is counted twice
// or missed by a gateway starting meanwhile: once, about 25 seconds per million records on SQLite and 45 on PostgreSQL
// (npm run bench:analytics).

import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import { backfillUsageRollups } from '../usage-rollups/backfill.ts';

export function usageRollups({ name }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const run = async (trx: Kysely<unknown>) => {
        let table: CreateTableBuilder<'usage_rollups', string> = trx.schema
          .createTable('usage_rollups')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('width_ms', 'integer', (c) => c.notNull())
          .addColumn('start_ms', 'bigint', (c) => c.notNull());
        for (const column of ['team_id', 'user_id', 'key_id', 'model', 'provider']) table = table.addColumn(column, 'text', (c) => c.notNull());
        for (const column of ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nano_usd', 'latency_sum_us']) {
          table = table.addColumn(column, 'bigint', (c) => c.notNull());
        }
        await table
          .addColumn('latency_hist', 'text', (c) => c.notNull())
          .addColumn('ttft_count', 'bigint', (c) => c.notNull())
          .addColumn('ttft_sum_us', 'bigint', (c) => c.notNull())
          .addColumn('ttft_hist', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('usage_rollups_pkey', ['org_id', 'width_ms', 'start_ms', 'team_id', 'user_id', 'key_id', 'model', 'provider'])
          .modifyEnd(name === 'sqlite' ? sql`without rowid` : sql`with (fillfactor = 80)`)
          .execute();
        await backfillUsageRollups(trx, name);
      };
      // PostgreSQL migrations already run in a transaction; SQLite's do not.
      await (db.isTransaction ? run(db) : db.transaction().execute(run));
    },
  };
}
