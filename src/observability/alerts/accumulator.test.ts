// The per-instance counts (what a request adds, what a flush drains, how memory stays bounded), the latency histogram
// and its percentile, and the shared minutes in a kv: deltas of two instances added together, and the sliding window.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { MemoryKv } from '../../store/kv/memory.ts';
import { isFailure, MINUTE_MS, OTHER_MODEL, TrafficAccumulator } from './accumulator.ts';
import { bucketUpperMs, histogramCount, LATENCY_BUCKETS, latencyBucket, quantileMs } from './histogram.ts';
import { addDeltas, readMinutes, windowTotals } from './shared-minutes.ts';

const T0 = Date.parse('2030-01-15T12:00:00Z');

describe('latency histogram', () => {
  test('buckets: four per doubling, [0, 1] ms in the first, everything past the last bound in the last', () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(1), 0);
    assert.equal(latencyBucket(1.1), 1);
    assert.equal(latencyBucket(2), 4);
    assert.equal(latencyBucket(1024), 40);
    assert.equal(latencyBucket(1025), 41);
    assert.equal(latencyBucket(Number.NaN), 0);
    assert.equal(latencyBucket(1e12), LATENCY_BUCKETS - 1);
    for (const ms of [1.5, 7, 99, 1000, 45_000]) {
      const i = latencyBucket(ms);
      assert.ok(ms <= bucketUpperMs(i) && ms > bucketUpperMs(i - 1), `${ms} ms in bucket ${i}`);
    }
  });

  test('p95 of known distributions lies within a bucket width of the truth', () => {
    const counts = new Float64Array(LATENCY_BUCKETS);
    // 1..1000 ms, evenly: the true p95 is 950 ms.
    for (let ms = 1; ms <= 1000; ms++) counts[latencyBucket(ms)]!++;
    assert.equal(histogramCount(counts), 1000);
    const p95 = quantileMs(counts, 0.95);
    assert.ok(Math.abs(p95 - 950) / 950 < 0.19, `p95 ${p95}`);

    // 95 fast answers and 5 slow ones: the p95 is the slowest of the fast; the p99 one of the slow.
    const skewed = new Float64Array(LATENCY_BUCKETS);
    skewed[latencyBucket(100)]! += 95;
    skewed[latencyBucket(5000)]! += 5;
    assert.ok(quantileMs(skewed, 0.95) <= bucketUpperMs(latencyBucket(100)));
    assert.ok(quantileMs(skewed, 0.99) > 4000);
    assert.equal(quantileMs(new Float64Array(LATENCY_BUCKETS), 0.95), 0);
  });
});

describe('traffic accumulator', () => {
  test('a request adds to its minute and pair: failures are 5xx and 429, latency counts answered requests only', () => {
    assert.deepEqual([200, 400, 404, 429, 499, 500, 503].map(isFailure), [false, false, false, true, false, true, true]);
    const acc = new TrafficAccumulator(30_000);
    acc.record('smart', 'openai', 200, 120, 0.01, T0);
    acc.record('smart', 'openai', 500, 30, 0, T0 + 1_000);
    acc.record('smart', 'openai', 429, 5, 0, T0 + 2_000);
    acc.record('smart', 'openai', 400, 10, 0, T0 + 3_000);
    acc.record('smart', 'anthropic', 200, 800, 0.02, T0 + 4_000);
    acc.record('smart', 'openai', 200, 150, 0.03, T0 + MINUTE_MS);
    const deltas = acc.drain(T0 + MINUTE_MS + 1);
    const summary = deltas.map((d) => [d.minute - T0 / MINUTE_MS, d.model, d.provider, d.requests, d.errors, Math.round(d.costUsd * 100), histogramCount(d.latency)]);
    assert.deepEqual(summary.sort(), [
      [0, 'smart', 'anthropic', 1, 0, 2, 1],
      [0, 'smart', 'openai', 4, 2, 1, 1],
      [1, 'smart', 'openai', 1, 0, 3, 1],
    ]);
    assert.deepEqual(acc.drain(T0 + MINUTE_MS + 2), [], 'drained counts are gone');
    acc.record('smart', 'openai', 200, 1, 0, T0 + MINUTE_MS + 3);
    assert.equal(acc.drain(T0 + MINUTE_MS + 4)[0]?.requests, 1, 'a drained minute keeps counting');
  });

  test('observe() takes a usage record', () => {
    const acc = new TrafficAccumulator(30_000);
    acc.observe({ model: 'm', provider: 'p', status: 502, latency_ms: 10, cost_usd: 0.5 } as Parameters<TrafficAccumulator['observe']>[0]);
    const [d] = acc.drain(Date.now());
    assert.deepEqual([d?.model, d?.provider, d?.requests, d?.errors, d?.costUsd], ['m', 'p', 1, 1, 0.5]);
  });

  test('pairs idle for longer than the ring are dropped, and past the cap new models count as (other)', () => {
    const acc = new TrafficAccumulator(30_000);
    acc.record('old', 'p', 200, 1, 0, T0);
    acc.drain(T0);
    acc.record('new', 'p', 200, 1, 0, T0 + 10 * MINUTE_MS);
    acc.record('old', 'p', 200, 1, 0, T0 + 10 * MINUTE_MS);
    assert.equal(acc.drain(T0 + 10 * MINUTE_MS).length, 2, 'a dropped pair starts again when it comes back');

    const capped = new TrafficAccumulator(30_000);
    for (let i = 0; i < 1_005; i++) capped.record(`client-model-${i}`, 'p', 200, 1, 0, T0);
    const deltas = capped.drain(T0);
    assert.equal(deltas.length, 1_001);
    assert.equal(deltas.find((d) => d.model === OTHER_MODEL)?.requests, 5);
  });
});

describe('shared minutes', () => {
  test("two instances' deltas add up in the kv, and a window weighs its oldest minute by the share still inside", async () => {
    const kv = new MemoryKv({ namespace: `minutes-${randomUUID()}` });
    const [a, b] = [new TrafficAccumulator(30_000), new TrafficAccumulator(30_000)];
    for (let i = 0; i < 10; i++) a.record('smart', 'openai', i < 4 ? 500 : 200, 100, 0.001, T0 + 10_000);
    for (let i = 0; i < 10; i++) b.record('smart', 'openai', 200, 2000, 0.002, T0 + 20_000);
    b.record('odd\u001fname', 'openai', 200, 5, 0, T0 + 20_000);
    a.record('smart', 'openai', 500, 100, 0, T0 + MINUTE_MS + 5_000);
    await addDeltas(kv, a.drain(T0 + MINUTE_MS + 5_000), 10 * MINUTE_MS);
    await addDeltas(kv, b.drain(T0 + MINUTE_MS + 5_000), 10 * MINUTE_MS);

    const minute = T0 / MINUTE_MS;
    const minutes = await readMinutes(kv, minute - 1, minute + 1, true);
    const first = minutes.get(minute)!.get('smart\u001fopenai')!;
    assert.deepEqual([first.requests, first.errors, Math.round(first.costUsd * 1000)], [20, 4, 30]);
    assert.equal(histogramCount(first.latency), 16);
    assert.equal(minutes.get(minute)!.get('odd\u001fname\u001fopenai')?.model, 'odd\u001fname', 'a separator in a model name survives');

    // A one-minute window at 12:01:30 covers the second half of 12:00 and the first half of 12:01.
    const [half] = windowTotals(minutes, T0 + 90_000, 1).filter((s) => s.model === 'smart');
    assert.deepEqual([half!.requests, half!.errors], [11, 3]);
    const [whole] = windowTotals(minutes, T0 + MINUTE_MS, 1).filter((s) => s.model === 'smart');
    assert.deepEqual([whole!.requests, whole!.errors], [21, 5]);
    assert.deepEqual(windowTotals(minutes, T0 + 3 * MINUTE_MS, 1), [], 'past the window nothing is left');

    const histogramsSkipped = await readMinutes(kv, minute, minute, false);
    assert.equal(histogramCount(histogramsSkipped.get(minute)!.get('smart\u001fopenai')!.latency), 0);
    await kv.close();
  });
});
