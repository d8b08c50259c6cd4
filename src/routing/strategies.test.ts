import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { Pricing } from '../usage/pricing.ts';
import { Router } from './router.ts';
import { observeLatency } from './strategies.ts';

function router(strategy: string, extra = '', opts: ConstructorParameters<typeof Router>[2] = {}) {
  const config = parseConfig(
    `
providers:
  a: { type: openai, api_key: k }
  b: { type: openai, api_key: k }
  c: { type: anthropic, api_key: k }
pricing:
  models:
    a/m1: { input_per_mtok: 5, output_per_mtok: 15 }
    b/m2: { input_per_mtok: 0.1, output_per_mtok: 0.4 }
models:
  - name: group
    strategy: ${strategy}
    targets:
      - { provider: a, model: m1${extra} }
      - { provider: b, model: m2 }
      - { provider: c, model: m3 }
  - name: single
    strategy: ${strategy}
    targets: [{ provider: a, model: m1 }]
`,
    {},
    'r.yaml',
  );
  return new Router(config, 1700000000, { pricing: new Pricing(config.pricing.models), ...opts });
}

const names = (r: ReturnType<Router['pick']>) => r.targets.map((t) => t.provider.name).join('');

/** A seeded generator, so the distributions below are the same on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('fallback, and any single-target route, keep the configured route itself: no copy per request', () => {
  const r = router('fallback');
  assert.equal(r.pick('group'), r.resolve('group'));
  for (const s of ['weighted', 'round-robin', 'least-busy', 'latency', 'cost']) {
    const rs = router(s);
    assert.equal(rs.pick('single'), rs.resolve('single'), s);
  }
});

test('weighted: the first choice follows the weights; the others stay behind it as fallbacks in configured order', () => {
  const r = router('weighted', ', weight: 6', { random: seeded(42) });
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  const n = 16_000;
  for (let i = 0; i < n; i++) {
    const route = r.pick('group');
    counts[route.targets[0]!.provider.name]!++;
    assert.equal(route.targets.length, 3);
  }
  // Weights 6:1:1. Each share's standard deviation is under 0.004 here: 0.02 is five of them.
  assert.ok(Math.abs(counts.a! / n - 0.75) < 0.02, JSON.stringify(counts));
  assert.ok(Math.abs(counts.b! / n - 0.125) < 0.02, JSON.stringify(counts));
  assert.ok(Math.abs(counts.c! / n - 0.125) < 0.02, JSON.stringify(counts));
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(names(r.pick('group')));
  assert.deepEqual([...seen].sort(), ['abc', 'bac', 'cab']);
});

test('round-robin: each request starts at the next target', () => {
  const r = router('round-robin');
  assert.deepEqual([1, 2, 3, 4, 5].map(() => names(r.pick('group'))), ['abc', 'bac', 'cab', 'abc', 'bac']);
});

test('least-busy: the target with the fewest requests in flight first; ties go to configured order', () => {
  const r = router('least-busy');
  const [a, b, c] = r.resolve('group').targets;
  assert.equal(names(r.pick('group')), 'abc');
  a!.stats.inFlight = 3;
  b!.stats.inFlight = 1;
  c!.stats.inFlight = 2;
  assert.equal(names(r.pick('group')), 'bac');
  b!.stats.inFlight = 5;
  assert.equal(names(r.pick('group')), 'cab');
});

test('latency: unmeasured targets first, then the lowest moving average; a target silent for 30 s is measured again', () => {
  let now = 1_000_000;
  const r = router('latency', '', { now: () => now });
  const [a, b, c] = r.resolve('group').targets;
  observeLatency(a!.stats, 300, now);
  observeLatency(b!.stats, 40, now);
  assert.equal(r.pick('group').targets[0], c, 'c has no figure yet');
  observeLatency(c!.stats, 90, now);
  assert.equal(r.pick('group').targets[0], b);
  // b slows down: its average moves towards the new samples until c is faster.
  for (let i = 0; i < 10; i++) observeLatency(b!.stats, 400, now);
  assert.equal(r.pick('group').targets[0], c);
  now += 31_000;
  observeLatency(c!.stats, 90, now);
  observeLatency(b!.stats, 90, now);
  assert.equal(r.pick('group').targets[0], a, 'a was last measured over 30 s ago');
});

test('observeLatency: the first sample is taken as it is, later ones move the average by a fifth', () => {
  const stats = { inFlight: 0, latencyMs: 0, sampledAt: 0 };
  observeLatency(stats, 100, 1);
  assert.equal(stats.latencyMs, 100);
  observeLatency(stats, 200, 2);
  assert.equal(stats.latencyMs, 120);
});

test('cost: the cheapest priced target first, unpriced ones last', () => {
  const r = router('cost');
  // b/m2 is cheaper than a/m1; c/m3 is priced nowhere.
  assert.equal(names(r.pick('group')), 'bac');
  assert.equal(r.pick('group'), r.pick('group'), 'the order is worked out once');
});
