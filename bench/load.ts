// One load run, in a process of its own so the load generator never shares an event loop with the target it measures.
//   node --import tsx bench/load.ts '<LoadSpec as JSON>'   → prints one LoadResult as JSON

import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './types.ts';

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;

const run = autocannon({
  url: spec.url,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...spec.headers },
  body: spec.body,
  connections: spec.connections,
  duration: spec.durationS,
  timeout: 10,
  ...(spec.warmupS > 0 ? { warmup: { duration: spec.warmupS } } : {}),
  ...(spec.rate !== null
    ? {
        overallRate: spec.rate,
        // autocannon's coordinated-omission correction uses an expected interval of ceil(1 / per-connection rate) = 1 ms,
        // which back-fills every 60 ms response with synthetic samples of 59, 58 … 1 ms and drags p50 to about half
        // the real latency. Comparing targets needs the true latencies.
        ignoreCoordinatedOmission: true,
      }
    : {}),
});

// autocannon's own histogram keeps whole milliseconds; the added-latency target is sub-millisecond, so the raw
// (hrtime-based) response times are kept here instead.
const latencies: number[] = [];
run.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
  if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
});

const result = await run;
const sorted = Float64Array.from(latencies).sort();
const responses = (r: typeof result): number => r['2xx'] + r.non2xx;

const out: LoadResult = {
  rps: result['2xx'] / result.duration,
  p50Ms: percentile(sorted, 50),
  p99Ms: percentile(sorted, 99),
  ok: result['2xx'],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  durationS: result.duration,
  responsesIncludingWarmup: responses(result) + (result.warmup ? responses(result.warmup) : 0),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
