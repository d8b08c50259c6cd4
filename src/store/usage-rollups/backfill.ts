// Rolls up the usage records already in the database, for the migration that creates usage_rollups, through the same
// batch and upsert code as the live inserts, so both sum and bin a record alike. One UTC day at a time, since every
// rollup width's buckets end within the day: each rollup row is written once. The day's records are read an hour at a
// time, so memory holds an hour of records and a day of rollup rows.

import type { Kysely } from 'kysely';
import { readBool, readTime, writeTime, type DialectName } from '../dialect.ts';
import type { Tables } from '../tables.ts';
import { UsageRollupBatch } from './batch.ts';
import { upsertRollups } from './upsert.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Returns how many records were rolled up. Run it in a transaction: with rows already rolled up it would add them twice. */
export async function backfillUsageRollups(database: Kysely<any>, dialect: DialectName): Promise<number> {
  const db = database as Kysely<Tables>;
  const range = await db
    .selectFrom('usage_records')
    .select((eb) => [eb.fn.min('time').as('first'), eb.fn.max('time').as('last')])
    .executeTakeFirst();
  if (!range?.first || !range.last) return 0;
  const last = Date.parse(readTime(range.last));
  let total = 0;
  for (let day = Math.floor(Date.parse(readTime(range.first)) / DAY) * DAY; day <= last; day += DAY) {
    const batch = new UsageRollupBatch();
    for (let hour = day; hour < day + DAY && hour <= last; hour += HOUR) {
      const records = await db
        .selectFrom('usage_records')
        .select(['time', 'org_id', 'team_id', 'user_id', 'key_id', 'model', 'provider', 'status', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nano_usd', 'latency_ms', 'ttft_ms', 'cache_hit'])
        .where('time', '>=', writeTime(new Date(hour)))
        .where('time', '<', writeTime(new Date(hour + HOUR)))
        .execute();
      for (const r of records) {
        batch.add({
          ...r,
          time: readTime(r.time),
          input_tokens: Number(r.input_tokens),
          output_tokens: Number(r.output_tokens),
          cached_tokens: Number(r.cached_tokens),
          cost_nano_usd: Number(r.cost_nano_usd),
          cache_hit: readBool(r.cache_hit),
        });
      }
      total += records.length;
    }
    await upsertRollups(db, dialect, batch.rows());
  }
  return total;
}
