// One load run, in a process of its own so the load generator never shares an event loop with the target it measures.
//   node --import tsx bench/load.ts '<LoadSpec as JSON>'   → prints one LoadResult as JSON

import autocannon, { type Options, type Result } from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult, LoadSpec } from './types.ts';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;

// autocannon's own histogram keeps whole milliseconds; the added-latency goal is sub-millisecond, so the raw
// (hrtime-based) response times of 2xx responses are collected here instead.
const latencies: number[] = [];

async function drive(connections: number, rate: number | null): Promise<Result> {
  const options: Options = {
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    body: spec.body,
    connections,
    duration: spec.durationS,
    timeout: 10,
    ...(spec.warmupS > 0 ? { warmup: { duration: spec.warmupS } } : {}),
    ...(rate !== null
      ? {
          overallRate: rate,
          // The coordinated-omission correction assumes an interval of ceil(1 / per-connection rate) = 1 ms and
          // back-fills each 60 ms response with synthetic samples of 59, 58 … 1 ms, halving p50. We want true latencies.
          ignoreCoordinatedOmission: true,
        }
      : {}),
  };
  const run = autocannon(options);
  run.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  return run;
}

/**
 * autocannon paces a rate per connection and per one-second tick, and all connections of one run tick together, so a
 * single rate-limited run sends its requests in waves of `connections` at once: the target then queues each wave and
 * p50 measures the wave, not the request. One single-connection run per connection, started at evenly spread offsets
 * through the first second, turns the waves into a near-even stream at the same overall rate.
 */
async function driveAtRate(connections: number, rate: number): Promise<Result[]> {
  const runs: Promise<Result>[] = [];
  for (let i = 0; i < connections; i++) {
    const share = Math.floor(rate / connections) + (i < rate % connections ? 1 : 0);
    runs.push(drive(1, share));
    await sleep(1000 / connections);
  }
  return Promise.all(runs);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const results = spec.rate === null ? [await drive(spec.connections, null)] : await driveAtRate(spec.connections, spec.rate);

const sum = (pick: (r: Result) => number): number => results.reduce((total, r) => total + pick(r), 0);
const statusCodes: Record<string, number> = {};
for (const r of results) {
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
}
const sorted = Float64Array.from(latencies).sort();

const out: LoadResult = {
  rps: sum((r) => r['2xx'] / r.duration),
  p50Ms: percentile(sorted, 50),
  p99Ms: percentile(sorted, 99),
  ok: sum((r) => r['2xx']),
  non2xx: sum((r) => r.non2xx),
  errors: sum((r) => r.errors),
  timeouts: sum((r) => r.timeouts),
  statusCodes,
  durationS: Math.max(...results.map((r) => r.duration)),
  responsesIncludingWarmup: sum((r) => r['2xx'] + r.non2xx + (r.warmup ? r.warmup['2xx'] + r.warmup.non2xx : 0)),
  loadGeneratorCpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
