// Shadow samples: one row per request mirrored to a model's shadow (src/shadow/), with both sides' figures and the
// start of both answers, for the comparison GET /admin/v1/shadow/{model} reports. Platform data, like the routing
// configuration it measures: no organization column, no foreign keys; rows are pruned by age.

import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function shadow({ types }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      let table = db.schema
        .createTable('shadow_samples')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('time', types.timestamp, (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('exact_match', types.boolean, (c) => c.notNull());
      for (const side of ['primary', 'shadow']) {
        table = table
          // Null: the side never reached a target (the shadow's request could not be made, every target was open).
          .addColumn(`${side}_target`, 'text')
          .addColumn(`${side}_status`, 'integer', (c) => c.notNull())
          .addColumn(`${side}_latency_ms`, 'double precision', (c) => c.notNull())
          .addColumn(`${side}_input_tokens`, 'bigint', (c) => c.notNull())
          .addColumn(`${side}_output_tokens`, 'bigint', (c) => c.notNull())
          .addColumn(`${side}_cost_usd`, 'double precision', (c) => c.notNull())
          .addColumn(`${side}_output_chars`, 'integer', (c) => c.notNull())
          .addColumn(`${side}_output`, 'text', (c) => c.notNull())
          .addColumn(`${side}_error`, 'text');
      }
      await table.execute();
      await db.schema.createIndex('shadow_samples_model_time').on('shadow_samples').columns(['model', 'time']).execute();
      await db.schema.createIndex('shadow_samples_time').on('shadow_samples').columns(['time']).execute();
    },
  };
}
