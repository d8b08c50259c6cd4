// The usage ledger: one row per request that reached a provider (src/usage/record.ts), keyed by the request id so a
// record replayed from the journal after a crash or an outage is written once.
//
// No foreign keys: a record outlives the key, team, user and organization it names (like the audit log), and an
// insert must never fail because one of them was deleted meanwhile. Cost is kept twice: as the priced figure in USD,
// and as integer nano-USD (Math.round(cost_usd * 1e9)), the unit the limiter counts budgets in, so sums seeded from
// the ledger are exact and equal to what the counters added.

import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function usage({ types }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('usage_records')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('time', types.timestamp, (c) => c.notNull())
        .addColumn('org_id', 'text')
        .addColumn('team_id', 'text')
        .addColumn('user_id', 'text')
        .addColumn('key_id', 'text')
        .addColumn('surface', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('provider_model', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('input_tokens', 'bigint', (c) => c.notNull())
        .addColumn('output_tokens', 'bigint', (c) => c.notNull())
        .addColumn('cached_tokens', 'bigint', (c) => c.notNull())
        .addColumn('cache_write_tokens', 'bigint', (c) => c.notNull())
        .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull())
        .addColumn('cost_usd', 'double precision', (c) => c.notNull())
        .addColumn('cost_nano_usd', 'bigint', (c) => c.notNull())
        .addColumn('priced', types.boolean, (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('ttft_ms', 'double precision')
        .addColumn('cache_hit', types.boolean, (c) => c.notNull())
        .addColumn('estimated', types.boolean, (c) => c.notNull())
        .execute();
      // Reports read one organization's period; limits and budgets seed their counters per subject, model or target
      // from a window's start, and the global ones from the time alone.
      const indexes: [string, string[]][] = [
        ['usage_records_org_time', ['org_id', 'time']],
        ['usage_records_key_time', ['key_id', 'time']],
        ['usage_records_team_time', ['team_id', 'time']],
        ['usage_records_user_time', ['user_id', 'time']],
        ['usage_records_model_time', ['model', 'time']],
        ['usage_records_target_time', ['provider', 'provider_model', 'time']],
        ['usage_records_time', ['time']],
      ];
      for (const [name, columns] of indexes) await db.schema.createIndex(name).on('usage_records').columns(columns).execute();
    },
  };
}
