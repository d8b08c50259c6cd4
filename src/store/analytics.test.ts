// The usage rollups and the analytics read from them, run against SQLite (in memory, and in a file, where the rollups
// are written by the insert thread) and against a real PostgreSQL (a fresh schema, dropped after; skipped with the
// reason when no server answers on 127.0.0.1:5432), like store.test.ts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { storeBackends } from '../../test/helpers/store-backends.ts';
import { usageRecordFixture } from '../../test/helpers/usage-record.ts';
import type { UsageRecord } from '../usage/record.ts';
import { planSeries, ROLLUP_WIDTHS_MS, type SeriesBucket } from '../usage/rollups/buckets.ts';
import { addEncoded, binOf, BINS } from '../usage/rollups/histogram.ts';
import { openDatabase, type Database } from './db.ts';
import { migrate } from './migrate.ts';
import type { AnalyticsQuery } from './repositories/analytics.ts';
import { Store, type TenantStore } from './store.ts';
import { backfillUsageRollups } from './usage-rollups/backfill.ts';

const BACKENDS = await storeBackends('analytics');

const unique = (label: string) => `${label}_${randomBytes(4).toString('hex')}`;

/** A seeded generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** `n` records of `org` spread over `days` days from `start`, with varied owners, models, outcomes and latencies. */
function records(org: string, start: string, days: number, n: number, seed = 1): UsageRecord[] {
  const random = generator(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const t0 = Date.parse(start);
  return Array.from({ length: n }, () => {
    const key = pick(['key_a', 'key_b', 'key_c', 'key_d']);
    const team = { key_a: 'team_red', key_b: 'team_red', key_c: 'team_blue', key_d: null }[key];
    const user = { key_a: 'usr_ann', key_b: null, key_c: 'usr_bob', key_d: 'usr_cy' }[key];
    const [model, provider] = pick([['smart', 'openai'], ['smart', 'anthropic'], ['fast', 'openai'], ['embed', 'cohere']] as const);
    return usageRecordFixture({
      org_id: org,
      key_id: key,
      team_id: team,
      user_id: user,
      model,
      provider,
      time: new Date(t0 + Math.floor(random() * days * 86_400_000)).toISOString(),
      status: random() < 0.1 ? pick([400, 429, 500, 502]) : 200,
      input_tokens: Math.floor(random() * 5000),
      output_tokens: Math.floor(random() * 800),
      cached_tokens: Math.floor(random() * 100),
      cost_usd: random() / 1000,
      // Log-normal around 600 ms, in whole microseconds.
      latency_ms: Math.round(600 * Math.exp(2 * (random() - 0.5) * 2.5) * 1000) / 1000,
      ttft_ms: random() < 0.6 ? Math.round(150 * Math.exp(2 * (random() - 0.5) * 2) * 1000) / 1000 : null,
      cache_hit: random() < 0.05,
    });
  });
}

type Sums = { requests: number; errors: number; cache_hits: number; input_tokens: number; output_tokens: number; cached_tokens: number; cost_nano_usd: number; latency_sum_us: number; ttft_count: number; ttft_sum_us: number; latency: number[]; ttft: number[] };

/** What the rollups of `width` must hold for these records: computed here record by record, not by the rollup code. */
function expectedRollups(list: readonly UsageRecord[], width: number): Map<string, Sums> {
  const rows = new Map<string, Sums>();
  for (const r of list) {
    const start = Math.floor(Date.parse(r.time) / width) * width;
    const id = JSON.stringify([r.org_id, width, start, r.team_id ?? '', r.user_id ?? '', r.key_id ?? '', r.model, r.provider]);
    let s = rows.get(id);
    if (!s) {
      s = { requests: 0, errors: 0, cache_hits: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_nano_usd: 0, latency_sum_us: 0, ttft_count: 0, ttft_sum_us: 0, latency: Array(BINS).fill(0), ttft: Array(BINS).fill(0) };
      rows.set(id, s);
    }
    s.requests += 1;
    s.errors += r.status >= 400 ? 1 : 0;
    s.cache_hits += r.cache_hit ? 1 : 0;
    s.input_tokens += r.input_tokens;
    s.output_tokens += r.output_tokens;
    s.cached_tokens += r.cached_tokens;
    s.cost_nano_usd += Math.round(r.cost_usd * 1e9);
    s.latency_sum_us += Math.round(r.latency_ms * 1000);
    s.latency[binOf(r.latency_ms)]! += 1;
    if (r.ttft_ms !== null) {
      s.ttft_count += 1;
      s.ttft_sum_us += Math.round(r.ttft_ms * 1000);
      s.ttft[binOf(r.ttft_ms)]! += 1;
    }
  }
  return rows;
}

const bins = (text: string) => {
  const counts = new Float64Array(BINS);
  addEncoded(text, counts);
  return [...counts];
};

/** The exact nearest-rank percentile. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(p * sorted.length) - 1]!;
}

for (const backend of BACKENDS) {
  describe(`usage rollups and analytics on ${backend.name}`, { skip: backend.skip }, () => {
    let database: Database;
    let store: Store;

    before(async () => {
      database = openDatabase(backend.url);
      await migrate(database);
      store = new Store(database);
    });
    after(async () => {
      await store?.close();
      await backend.cleanup();
    });

    async function storedRollups(org: string, width: number): Promise<Map<string, Sums>> {
      const rows = await database.db.selectFrom('usage_rollups').selectAll().where('org_id', '=', org).where('width_ms', '=', width).execute();
      return new Map(
        rows.map((r) => [
          JSON.stringify([r.org_id, r.width_ms, Number(r.start_ms), r.team_id, r.user_id, r.key_id, r.model, r.provider]),
          {
            requests: Number(r.requests),
            errors: Number(r.errors),
            cache_hits: Number(r.cache_hits),
            input_tokens: Number(r.input_tokens),
            output_tokens: Number(r.output_tokens),
            cached_tokens: Number(r.cached_tokens),
            cost_nano_usd: Number(r.cost_nano_usd),
            latency_sum_us: Number(r.latency_sum_us),
            ttft_count: Number(r.ttft_count),
            ttft_sum_us: Number(r.ttft_sum_us),
            latency: bins(r.latency_hist),
            ttft: bins(r.ttft_hist),
          },
        ]),
      );
    }

    async function assertRollupsMatch(org: string, list: readonly UsageRecord[]): Promise<void> {
      for (const width of ROLLUP_WIDTHS_MS) assert.deepEqual(await storedRollups(org, width), expectedRollups(list, width), `width ${width}`);
    }

    const report = (tenant: TenantStore, from: string, to: string, bucket: SeriesBucket | undefined, extra: Omit<AnalyticsQuery, 'plan'> = {}) =>
      tenant.analytics.report({ plan: planSeries(Date.parse(from), Date.parse(to), bucket), ...extra });

    test('rollups hold exactly the records inserted, at every width: a replayed batch and repeats within a batch count once', async () => {
      const org = unique('org');
      const list = records(org, '2030-01-01T00:00:00Z', 3, 400);
      const [first, second] = [list.slice(0, 150), list.slice(150)];
      assert.equal(await store.usage.insertMany(first), 150);
      assert.equal(await store.usage.insertMany([...second, ...second.slice(0, 20), ...first.slice(0, 5)]), 250);
      assert.equal(await store.usage.insertMany(first), 0, 'a replay of the journal');
      await assertRollupsMatch(org, list);

      // And they agree with the raw sums over usage_records.
      const raw = await database.db
        .selectFrom('usage_records')
        .select((eb) => [eb.fn.countAll().as('requests'), eb.fn.sum('input_tokens').as('input'), eb.fn.sum('cost_nano_usd').as('cost')])
        .where('org_id', '=', org)
        .executeTakeFirstOrThrow();
      for (const width of ROLLUP_WIDTHS_MS) {
        const rolled = await database.db
          .selectFrom('usage_rollups')
          .select((eb) => [eb.fn.sum('requests').as('requests'), eb.fn.sum('input_tokens').as('input'), eb.fn.sum('cost_nano_usd').as('cost')])
          .where('org_id', '=', org)
          .where('width_ms', '=', width)
          .executeTakeFirstOrThrow();
        assert.deepEqual([rolled.requests, rolled.input, rolled.cost].map(Number), [raw.requests, raw.input, raw.cost].map(Number));
      }
    });

    test('the backfill rolls up the records already there into the same rows as the inserts did', async () => {
      const org = unique('org');
      const list = records(org, '2030-02-01T00:00:00Z', 2, 200, 2);
      await store.usage.insertMany(list);
      const before = await Promise.all(ROLLUP_WIDTHS_MS.map((w) => storedRollups(org, w)));
      await database.db.deleteFrom('usage_rollups').execute();
      const rolled = await database.db.transaction().execute((trx) => backfillUsageRollups(trx, database.dialect.name));
      assert.ok(rolled >= list.length, `${rolled} records`);
      assert.deepEqual(await Promise.all(ROLLUP_WIDTHS_MS.map((w) => storedRollups(org, w))), before);
      await assertRollupsMatch(org, list);
    });

    test('report: a series over every bucket of the range, totals, percentiles within a bin of the exact values', async () => {
      const org = unique('org');
      const list = records(org, '2030-03-01T00:00:00Z', 1, 600, 3);
      await store.usage.insertMany(list);
      const tenant = store.tenant(org);
      const result = await report(tenant, '2030-03-01T00:00:00Z', '2030-03-02T00:00:00Z', '1h');
      assert.equal(result.series.length, 24);
      assert.deepEqual(result.series.slice(0, 2).map((p) => p.time), ['2030-03-01T00:00:00.000Z', '2030-03-01T01:00:00.000Z']);
      assert.equal(result.series.reduce((n, p) => n + p.requests, 0), 600);
      assert.deepEqual(result.breakdown, []);

      const t = result.total;
      const errors = list.filter((r) => r.status >= 400).length;
      const hits = list.filter((r) => r.cache_hit).length;
      assert.deepEqual(
        [t.requests, t.errors, t.error_rate, t.cache_hits, t.cache_hit_rate],
        [600, errors, errors / 600, hits, hits / 600],
      );
      assert.equal(t.input_tokens, list.reduce((n, r) => n + r.input_tokens, 0));
      assert.equal(t.output_tokens, list.reduce((n, r) => n + r.output_tokens, 0));
      assert.equal(t.cost_usd, list.reduce((n, r) => n + Math.round(r.cost_usd * 1e9), 0) / 1e9);

      const latencies = list.map((r) => r.latency_ms);
      const ttfts = list.flatMap((r) => (r.ttft_ms === null ? [] : [r.ttft_ms]));
      for (const [name, values, got] of [['latency', latencies, t.latency_ms], ['ttft', ttfts, t.ttft_ms]] as const) {
        for (const p of ['p50', 'p95', 'p99'] as const) {
          const exact = exactPercentile(values, Number(p.slice(1)) / 100);
          const estimate = got[p]!;
          assert.ok(Math.abs(binOf(estimate) - binOf(exact)) <= 1, `${name} ${p}: ${estimate} vs ${exact}`);
        }
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        assert.ok(Math.abs(got.mean! - mean) < 0.001, `${name} mean: ${got.mean} vs ${mean}`);
      }

      // An hour without records is a point with zero requests and no rates.
      const empty = await report(tenant, '2030-03-05T00:00:00Z', '2030-03-05T03:00:00Z', '1h');
      assert.deepEqual(empty.series.map((p) => [p.requests, p.error_rate, p.latency_ms.p50, p.ttft_ms.mean]), [[0, null, null, null], [0, null, null, null], [0, null, null, null]]);
    });

    test('report: every rollup width gives the same totals; the automatic bucket reads the width that fits the range', async () => {
      const org = unique('org');
      const list = records(org, '2030-04-01T00:00:00Z', 30, 800, 4);
      await store.usage.insertMany(list);
      const tenant = store.tenant(org);
      const totals = [];
      for (const bucket of ['5m', '1h', '6h', '1d', '7d', undefined] as const) {
        const r = await report(tenant, '2030-04-01T00:00:00Z', '2030-05-01T00:00:00Z', bucket);
        assert.equal(r.series.reduce((n, p) => n + p.requests, 0), 800, String(bucket));
        totals.push(r.total);
      }
      for (const total of totals.slice(1)) assert.deepEqual(total, totals[0]);
      const auto = planSeries(Date.parse('2030-04-01T00:00:00Z'), Date.parse('2030-05-01T00:00:00Z'));
      assert.deepEqual([auto.bucket, auto.rollupMs, auto.points], ['6h', 6 * 3_600_000, 120]);
    });

    test('report: breakdowns by model, provider, team, key or user, and filters on each', async () => {
      const org = unique('org');
      const list = records(org, '2030-06-01T00:00:00Z', 2, 300, 5);
      await store.usage.insertMany(list);
      const tenant = store.tenant(org);
      const range = ['2030-06-01T00:00:00Z', '2030-06-03T00:00:00Z'] as const;
      const count = (pred: (r: UsageRecord) => boolean) => list.filter(pred).length;
      const columns = { model: 'model', provider: 'provider', team: 'team_id', key: 'key_id', user: 'user_id' } as const;

      for (const [group_by, column] of Object.entries(columns) as [keyof typeof columns, (typeof columns)[keyof typeof columns]][]) {
        const r = await report(tenant, ...range, undefined, { group_by });
        const expected = [...new Set(list.map((rec) => rec[column]))].map((value) => [value, count((rec) => rec[column] === value)] as const);
        expected.sort((a, b) => b[1] - a[1] || (a[0] === b[0] ? 0 : a[0] === null ? 1 : b[0] === null ? -1 : a[0] < b[0] ? -1 : 1));
        assert.deepEqual(r.breakdown.map((g) => [g.group, g.requests]), expected, group_by);
        assert.equal(r.breakdown.reduce((n, g) => n + g.errors, 0), r.total.errors);
      }

      const filters = { key_id: 'key_c', team_id: 'team_red', user_id: 'usr_cy', model: 'fast', provider: 'anthropic' } as const;
      for (const [name, value] of Object.entries(filters) as [keyof typeof filters, string][]) {
        const r = await report(tenant, ...range, '1h', { [name]: value });
        assert.equal(r.total.requests, count((rec) => rec[name] === value), name);
      }
      const both = await report(tenant, ...range, '1d', { model: 'smart', team_id: 'team_red', group_by: 'provider' });
      assert.deepEqual(
        both.breakdown.map((g) => [g.group, g.requests]).sort(),
        ['anthropic', 'openai'].map((p) => [p, count((rec) => rec.model === 'smart' && rec.team_id === 'team_red' && rec.provider === p)]).filter(([, n]) => n !== 0),
      );
    });

    test('report: team-scoped visibility, and one organization never sees another', async () => {
      const org = unique('org');
      const other = unique('org');
      const list = records(org, '2030-07-01T00:00:00Z', 1, 200, 6);
      await store.usage.insertMany([...list, ...records(other, '2030-07-01T00:00:00Z', 1, 50, 7)]);
      const range = ['2030-07-01T00:00:00Z', '2030-07-02T00:00:00Z'] as const;
      const tenant = store.tenant(org);
      const visible = async (team_ids: string[], user_id: string | null) => (await report(tenant, ...range, undefined, { visible: { team_ids, user_id } })).total.requests;
      assert.equal(await visible(['team_blue'], 'usr_cy'), list.filter((r) => r.team_id === 'team_blue' || r.user_id === 'usr_cy').length);
      assert.equal(await visible(['team_red'], null), list.filter((r) => r.team_id === 'team_red').length);
      assert.equal(await visible([], null), 0);
      assert.equal((await report(store.tenant(other), ...range, undefined)).total.requests, 50);
      assert.equal((await report(store.tenant(unique('org')), ...range, undefined)).total.requests, 0);
    });

    test('retention prunes the 5-minute rollups past it, a day at a time, and keeps the coarser ones', async () => {
      const org = (await store.organizations.create({ name: unique('pruned') })).id;
      const list = records(org, '2001-03-01T00:00:00Z', 4, 120);
      await store.usage.insertMany(list);
      const fine = ROLLUP_WIDTHS_MS[0];
      const before = await storedRollups(org, fine);
      const cutoff = '2001-03-03T00:00:00.000Z';
      const pruned = await store.requestLogs.pruneFineRollupsOlderThan(cutoff);
      const after = await storedRollups(org, fine);
      assert.ok(pruned > 0);
      assert.equal(after.size, before.size - pruned);
      for (const key of after.keys()) assert.ok((JSON.parse(key) as number[])[2]! >= Date.parse(cutoff), key);
      for (const width of ROLLUP_WIDTHS_MS.slice(1)) assert.deepEqual(await storedRollups(org, width), expectedRollups(list, width), `width ${width} is kept`);
      assert.equal(await store.requestLogs.pruneFineRollupsOlderThan(cutoff), 0, 'pruning twice is harmless');
    });
  });
}
