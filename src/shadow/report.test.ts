import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShadowRecord, ShadowSide } from './record.ts';
import { compare, percentiles } from './report.ts';

function side(over: Partial<ShadowSide> = {}): ShadowSide {
  return { target: 'openai/gpt-4o', status: 200, latency_ms: 100, input_tokens: 10, output_tokens: 5, cost_usd: 0.001, output_chars: 20, output: 'x', error: null, ...over };
}

function record(primary: Partial<ShadowSide>, shadow: Partial<ShadowSide>, exact_match: boolean): ShadowRecord {
  return { id: 'shd_1', model: 'smart', time: new Date(0).toISOString(), request_id: 'r', exact_match, primary: side(primary), shadow: side({ target: 'anthropic/claude', ...shadow }) };
}

test('nearest-rank percentiles are measured values', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1).reverse();
  assert.deepEqual(percentiles(values), { p50: 50, p95: 95, p99: 99, mean: 50.5 });
  assert.deepEqual(percentiles([7]), { p50: 7, p95: 7, p99: 7, mean: 7 });
  assert.equal(percentiles([]), null);
});

test('the comparison: error rates, latency over successes only, cost per request, output length, exact matches where both answered', () => {
  const report = compare([
    record({ latency_ms: 100 }, { latency_ms: 300, cost_usd: 0.004, output_chars: 40 }, true),
    record({ latency_ms: 200 }, { latency_ms: 5, status: 500, error: 'boom', cost_usd: 0, output_chars: 0 }, false),
    record({ latency_ms: 300 }, { latency_ms: 500, cost_usd: 0.002, output_chars: 60 }, false),
  ]);
  assert.equal(report.samples, 3);
  assert.equal(report.both_answered, 2);
  assert.equal(report.exact_match_rate, 0.5);
  assert.equal(report.primary.error_rate, 0);
  assert.equal(report.shadow.errors, 1);
  assert.equal(report.shadow.error_rate, 1 / 3);
  assert.deepEqual(report.shadow.latency_ms, { p50: 300, p95: 500, p99: 500, mean: 400 }, 'the fast failure is left out');
  assert.equal(report.primary.latency_ms!.p50, 200);
  assert.ok(Math.abs(report.shadow.cost_per_request_usd - 0.002) < 1e-12);
  assert.equal(report.shadow.output_chars_mean, 50);
  assert.deepEqual(report.shadow.targets, { 'anthropic/claude': 3 });
});

test('no samples: zeros and nulls, never NaN', () => {
  const report = compare([]);
  assert.equal(report.exact_match_rate, null);
  assert.equal(report.primary.latency_ms, null);
  assert.equal(report.primary.cost_per_request_usd, 0);
  for (const figures of [report.primary, report.shadow]) {
    for (const [name, v] of Object.entries(figures)) assert.ok(typeof v !== 'number' || Number.isFinite(v), `${name} is ${v}`);
  }
});
