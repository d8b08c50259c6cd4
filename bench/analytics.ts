// `npm run bench:analytics`: seeds a million usage records over a month and more into a scratch SQLite file and a
// scratch PostgreSQL schema through the ledger's own insert (store.usage.insertMany, which keeps the rollups), checks
// that the rollups sum exactly what usage_records holds, then times 30-day analytics queries through the repository
// method GET /admin/v1/analytics uses. The goal: under 200 ms each on both databases.

import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type Database } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import type { AnalyticsQuery } from '../src/store/repositories/analytics.ts';
import { Store } from '../src/store/store.ts';
import { backfillUsageRollups } from '../src/store/usage-rollups/backfill.ts';
import type { Tables } from '../src/store/tables.ts';
import type { UsageRecord } from '../src/usage/record.ts';
import { planSeries, ROLLUP_WIDTHS_MS } from '../src/usage/rollups/buckets.ts';
import { addEncoded, BINS } from '../src/usage/rollups/histogram.ts';
import { postgresTestSchema } from '../test/helpers/postgres.ts';
import { BENCH_DIR } from './paths.ts';
import { describeMachine } from './results.ts';

const GOAL_MS = 200;
const DAY = 86_400_000;

const USAGE = `Usage: npm run bench:analytics -- [options]
  --rows <n>      usage records to seed (default 1000000)
  --days <n>      days they span, ending now (default 32)
  --runs <n>      timed runs per query, after 2 warm-up runs (default 20)
  --batch <n>     records per insert, as the ledger's usage.batch_size (default 1000)
  --only <list>   sqlite, postgres or both (default sqlite,postgres)
  --help`;

function options() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '32' },
      runs: { type: 'string', default: '20' },
      batch: { type: 'string', default: '1000' },
      only: { type: 'string', default: 'sqlite,postgres' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const count = (flag: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} expects a positive whole number, got "${raw}"`);
    return n;
  };
  const only = values.only.split(',').map((s) => s.trim());
  for (const name of only) if (name !== 'sqlite' && name !== 'postgres') throw new Error(`--only: unknown database "${name}" (sqlite, postgres)`);
  return { rows: count('rows', values.rows), days: count('days', values.days), runs: count('runs', values.runs), batch: count('batch', values.batch), only };
}

type Options = NonNullable<ReturnType<typeof options>>;

const log = (line: string) => process.stderr.write(`${line}\n`);

// ---- the data: four organizations of different sizes, each with teams, people, keys and a few models per key

interface Key {
  org_id: string;
  team_id: string | null;
  user_id: string | null;
  key_id: string;
  models: (readonly [string, string])[];
}

const MODELS = [
  ['gpt-4o', 'openai'],
  ['gpt-4o-mini', 'openai'],
  ['claude-sonnet-4-5', 'anthropic'],
  ['claude-haiku-4-5', 'anthropic'],
  ['gemini-2.5-flash', 'gemini'],
  ['smart', 'anthropic'],
  ['text-embedding-3-small', 'openai'],
  ['mistral-large', 'mistral'],
] as const;
const ORG_SHARES = [0.4, 0.3, 0.2, 0.1];

function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

function population(): { keys: Key[]; weights: number[] } {
  const keys: Key[] = [];
  const weights: number[] = [];
  ORG_SHARES.forEach((share, o) => {
    const org = `org_bench${o}`;
    const orgKeys: Key[] = [];
    const models = (i: number) => [0, 1, 2].map((j) => MODELS[(i * 3 + j * 5 + o) % MODELS.length]!);
    for (let t = 0; t < 4; t++) {
      for (let u = 0; u < 4; u++) orgKeys.push({ org_id: org, team_id: `team_${o}_${t}`, user_id: `usr_${o}_${t}_${u}`, key_id: `key_${o}_${t}_${u}`, models: models(t * 5 + u) });
      orgKeys.push({ org_id: org, team_id: `team_${o}_${t}`, user_id: null, key_id: `key_${o}_${t}_ci`, models: models(t * 5 + 4) });
    }
    orgKeys.push({ org_id: org, team_id: null, user_id: null, key_id: `key_${o}_ops`, models: models(99) });
    // Some keys are busier than others.
    const keyWeights = orgKeys.map((_, i) => 1 + (i % 5));
    const sum = keyWeights.reduce((a, b) => a + b, 0);
    keys.push(...orgKeys);
    weights.push(...keyWeights.map((w) => (share * w) / sum));
  });
  return { keys, weights };
}

/** Records in time order, `batch` at a time, the same on every run. */
function* batches(opts: Options, end: number): Generator<UsageRecord[]> {
  const random = generator(42);
  const { keys, weights } = population();
  const cumulative = weights.map(((sum) => (w: number) => (sum += w))(0));
  const start = end - opts.days * DAY;
  const step = (opts.days * DAY) / opts.rows;
  for (let i = 0; i < opts.rows; i += opts.batch) {
    const out: UsageRecord[] = [];
    for (let j = i; j < Math.min(opts.rows, i + opts.batch); j++) {
      const r = random();
      const key = keys[cumulative.findIndex((c) => r <= c)] ?? keys[keys.length - 1]!;
      let [model, provider] = key.models[Math.floor(random() * key.models.length)]!;
      if (model === 'smart' && random() < 0.1) provider = 'openai';
      const failed = random() < 0.03;
      const streamed = random() < 0.6;
      const input = Math.floor(200 + random() * 4000);
      const output = failed ? 0 : Math.floor(20 + random() * 800);
      out.push({
        request_id: `bench-${j.toString().padStart(9, '0')}`,
        time: new Date(Math.floor(start + (j + random()) * step)).toISOString(),
        key_id: key.key_id,
        team_id: key.team_id,
        user_id: key.user_id,
        org_id: key.org_id,
        surface: 'openai',
        model,
        provider,
        provider_model: model,
        attempts: 1,
        status: failed ? [400, 429, 500, 502][Math.floor(random() * 4)]! : 200,
        input_tokens: input,
        output_tokens: output,
        cached_tokens: random() < 0.2 ? Math.floor(input / 2) : 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        cost_usd: (input * 2.5 + output * 10) / 1e6,
        priced: true,
        // Log-normal around 700 ms, in whole microseconds.
        latency_ms: Math.round(700 * Math.exp(2.4 * (random() - 0.5)) * 1000) / 1000,
        ttft_ms: streamed && !failed ? Math.round(180 * Math.exp(2 * (random() - 0.5)) * 1000) / 1000 : null,
        cache_hit: random() < 0.05,
        estimated: false,
      });
    }
    yield out;
  }
}

// ---- checks

const SUMS = ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nano_usd', 'latency_sum_us', 'ttft_count', 'ttft_sum_us'] as const;

/** Per organization, the raw sums over usage_records against the rollups' at every width; returns the mismatches. */
async function verify(db: Kysely<Tables>, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const us = (column: string) => (dialect === 'postgres' ? sql`sum(round(${sql.ref(column)} * 1000)::bigint)` : sql`sum(cast(round(${sql.ref(column)} * 1000) as integer))`);
  const raw = await db
    .selectFrom('usage_records')
    .select([
      'org_id',
      sql`count(*)`.as('requests'),
      sql`sum(case when status >= 400 then 1 else 0 end)`.as('errors'),
      sql`sum(case when cache_hit then 1 else 0 end)`.as('cache_hits'),
      sql`sum(input_tokens)`.as('input_tokens'),
      sql`sum(output_tokens)`.as('output_tokens'),
      sql`sum(cached_tokens)`.as('cached_tokens'),
      sql`sum(cost_nano_usd)`.as('cost_nano_usd'),
      us('latency_ms').as('latency_sum_us'),
      sql`count(ttft_ms)`.as('ttft_count'),
      us('ttft_ms').as('ttft_sum_us'),
    ])
    .groupBy('org_id')
    .execute();
  const problems: string[] = [];
  for (const width of ROLLUP_WIDTHS_MS) {
    const rows = await db
      .selectFrom('usage_rollups')
      .select(['org_id', ...SUMS.map((c) => sql`sum(${sql.ref(c)})`.as(c))])
      .where('width_ms', '=', width)
      .groupBy('org_id')
      .execute();
    const rolled = new Map(rows.map((r) => [r.org_id, r as Record<string, unknown>]));
    for (const org of raw as Record<string, unknown>[]) {
      const got = rolled.get(String(org.org_id));
      for (const column of SUMS) {
        if (Number(got?.[column]) !== Number(org[column])) problems.push(`${org.org_id} width ${width} ${column}: rollups ${got?.[column]}, records ${org[column]}`);
      }
    }
    // Every request is in one latency bin, every streamed one in one first-token bin.
    const bins = await db.selectFrom('usage_rollups').select(['requests', 'latency_hist', 'ttft_count', 'ttft_hist']).where('width_ms', '=', width).execute();
    let binned = 0;
    let ttftBinned = 0;
    let requests = 0;
    let ttfts = 0;
    for (const b of bins) {
      const latency = new Float64Array(BINS);
      const ttft = new Float64Array(BINS);
      addEncoded(b.latency_hist, latency);
      addEncoded(b.ttft_hist, ttft);
      binned += latency.reduce((a, n) => a + n, 0);
      ttftBinned += ttft.reduce((a, n) => a + n, 0);
      requests += Number(b.requests);
      ttfts += Number(b.ttft_count);
    }
    if (binned !== requests || ttftBinned !== ttfts) problems.push(`width ${width}: histograms hold ${binned} / ${ttftBinned}, counts ${requests} / ${ttfts}`);
  }
  return problems;
}

// ---- timing

interface Timing {
  query: string;
  points: number;
  rows_read: number;
  p50_ms: number;
  max_ms: number;
}

async function time(name: string, runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; max: number }> {
  for (let i = 0; i < 2; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const result = { p50: samples[Math.floor((samples.length - 1) / 2)]!, max: samples[samples.length - 1]! };
  log(`  ${name.padEnd(80)} p50 ${result.p50.toFixed(1).padStart(7)} ms   max ${result.max.toFixed(1).padStart(7)} ms`);
  return result;
}

async function runDialect(name: 'sqlite' | 'postgres', url: string, opts: Options, end: number) {
  log(`\n== ${name} (${url.replace(/\?.*/, '')})`);
  const database: Database = openDatabase(url);
  await migrate(database);
  const store = new Store(database);
  try {
    const t0 = performance.now();
    let seeded = 0;
    let first: UsageRecord[] | undefined;
    for (const batch of batches(opts, end)) {
      first ??= batch;
      seeded += await store.usage.insertMany(batch);
      if (seeded % 100_000 < opts.batch) log(`  seeded ${seeded.toLocaleString('en')} records (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const seedS = (performance.now() - t0) / 1000;
    const replayed = await store.usage.insertMany(first!);
    log(`  seeded ${seeded.toLocaleString('en')} records in ${seedS.toFixed(1)} s (${Math.round(seeded / seedS).toLocaleString('en')}/s, rollups included); replayed first batch: ${replayed} new`);
    if (name === 'postgres') await sql`analyze`.execute(database.db);

    const widths = await database.db.selectFrom('usage_rollups').select(['width_ms', sql<number>`count(*)`.as('rows')]).groupBy('width_ms').execute();
    const rollupRows = Object.fromEntries(widths.map((w) => [`${Number(w.width_ms) / 60_000}m`, Number(w.rows)]));
    log(`  rollup rows per width: ${JSON.stringify(rollupRows)}`);
    const problems = await verify(database.db, name);
    log(problems.length === 0 ? '  verified: the rollups at every width sum exactly what usage_records holds, per organization' : `  MISMATCH:\n    ${problems.join('\n    ')}`);

    // What the migration does to a database that already holds the records: roll them all up again, from scratch.
    await database.db.deleteFrom('usage_rollups').execute();
    const b0 = performance.now();
    await database.db.transaction().execute((trx) => backfillUsageRollups(trx, name));
    const backfillS = (performance.now() - b0) / 1000;
    const backfillProblems = await verify(database.db, name);
    problems.push(...backfillProblems.map((p) => `after the backfill: ${p}`));
    log(`  backfill (the migration's, over every record): ${backfillS.toFixed(1)} s; ${backfillProblems.length === 0 ? 'verified again' : `MISMATCH:\n    ${backfillProblems.join('\n    ')}`}`);
    if (name === 'postgres') await sql`vacuum analyze usage_rollups`.execute(database.db);

    // The largest organization, the last 30 days.
    const org = 'org_bench0';
    const tenant = store.tenant(org);
    const to = end;
    const from = end - 30 * DAY;
    const plan = planSeries(from, to);
    const busiest = await database.db
      .selectFrom('usage_records')
      .select(['key_id', sql<number>`count(*)`.as('n')])
      .where('org_id', '=', org)
      .groupBy('key_id')
      .orderBy(sql`count(*)`, 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const rowsRead = async (query: Omit<AnalyticsQuery, 'plan'>) => {
      let q = database.db.selectFrom('usage_rollups').select(sql<number>`count(*)`.as('n')).where('org_id', '=', org).where('width_ms', '=', plan.rollupMs).where('start_ms', '>=', plan.fromMs).where('start_ms', '<', plan.toMs);
      if (query.key_id) q = q.where('key_id', '=', query.key_id);
      if (query.visible) q = q.where((eb) => eb.or([eb('team_id', 'in', query.visible!.team_ids), eb('user_id', '=', query.visible!.user_id ?? '')]));
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    const queries: [string, Omit<AnalyticsQuery, 'plan'>][] = [
      ['30 days: series', {}],
      ['30 days: series + breakdown by model', { group_by: 'model' }],
      ['30 days: series + breakdown by team', { group_by: 'team' }],
      ['30 days: series + breakdown by provider, key_id filter', { group_by: 'provider', key_id: busiest.key_id! }],
      ['30 days: team-scoped caller, series + breakdown by key', { group_by: 'key', visible: { team_ids: ['team_0_1'], user_id: 'usr_0_2_0' } }],
    ];
    log(`  org ${org}: ${(await tenant.analytics.report({ plan })).total.requests.toLocaleString('en')} records in the range; auto bucket ${plan.bucket} (${plan.points} points) from ${plan.rollupMs / 60_000}-minute rollups`);
    const timings: Timing[] = [];
    for (const [label, query] of queries) {
      const rows = await rowsRead(query);
      const { p50, max } = await time(`${label} (${rows.toLocaleString('en')} rollup rows)`, opts.runs, () => tenant.analytics.report({ plan, ...query }));
      timings.push({ query: label, points: plan.points, rows_read: rows, p50_ms: round(p50), max_ms: round(max) });
    }
    const day = planSeries(end - DAY, end);
    const { p50: dayP50, max: dayMax } = await time(`24 hours (${day.bucket} buckets): series + breakdown by model`, opts.runs, () => tenant.analytics.report({ plan: day, group_by: 'model' }));
    const info = { query: '24 hours: series + breakdown by model', points: day.points, p50_ms: round(dayP50), max_ms: round(dayMax) };
    // For comparison: the same 30 days summed from the records themselves (GET /admin/v1/usage's query).
    const rawRuns = Math.min(3, opts.runs);
    const { p50: rawP50 } = await time('for comparison: /usage summary by model over the raw records', rawRuns, () =>
      tenant.usage.summary({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: 'model' }),
    );
    return { seeded, seed_seconds: round(seedS), replayed_new: replayed, backfill_seconds: round(backfillS), rollup_rows: rollupRows, verified: problems.length === 0, problems, timings, info: [info], raw_usage_summary_p50_ms: round(rawP50) };
  } finally {
    await store.close();
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<number> {
  const opts = options();
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  const end = Date.now();
  const results: Record<string, unknown> = {};
  let failed = false;
  if (opts.only.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-analytics-'));
    try {
      results.sqlite = await runDialect('sqlite', `sqlite://${join(dir, 'bench.db')}`, opts, end);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (opts.only.includes('postgres')) {
    const schema = await postgresTestSchema();
    if ('skip' in schema) {
      log(`\n== postgres: skipped (${schema.skip})`);
      results.postgres = { skipped: schema.skip };
    } else {
      try {
        results.postgres = await runDialect('postgres', schema.url, opts, end);
      } finally {
        await schema.drop();
      }
    }
  }

  log(`\nGoal: every 30-day query under ${GOAL_MS} ms (p50 of ${opts.runs} runs; max shown)`);
  for (const [dialect, r] of Object.entries(results) as [string, { timings?: Timing[]; verified?: boolean }][]) {
    if (!r.timings) continue;
    const worst = Math.max(...r.timings.map((t) => t.p50_ms));
    const worstMax = Math.max(...r.timings.map((t) => t.max_ms));
    const met = worst < GOAL_MS;
    log(`  ${dialect.padEnd(9)} slowest p50 ${worst} ms, slowest max ${worstMax} ms: ${met ? 'met' : 'MISSED'}; rollups ${r.verified ? 'verified' : 'DO NOT MATCH'}`);
    if (!r.verified) failed = true;
  }
  const date = new Date().toISOString();
  const dir = join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `analytics-${date.slice(0, 10)}.json`);
  await writeFile(path, `${JSON.stringify({ date, machine: describeMachine(), options: opts, goal_ms: GOAL_MS, results }, null, 2)}\n`);
  log(`\nwrote ${path}`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
