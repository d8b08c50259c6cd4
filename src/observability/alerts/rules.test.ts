// Rule evaluation as pure functions: thresholds, min_requests, subjects per model or provider, circuit targets, which
// subjects start and stop firing; the rule schema; and what the notifications say.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertRuleSchema, configSchema, type AlertRule } from '../../config/schema.ts';
import { LATENCY_BUCKETS, latencyBucket } from './histogram.ts';
import { alertJson, alertText } from './notify.ts';
import { observe, observeCircuits, transitions, type FiringState } from './rules.ts';
import type { WindowSeries } from './shared-minutes.ts';

const rule = (fields: Record<string, unknown>): AlertRule => alertRuleSchema.parse({ name: 'r', ...fields });

function series(model: string, provider: string, requests: number, errors: number, costUsd = 0, latencyMs?: number): WindowSeries {
  const latency = new Float64Array(LATENCY_BUCKETS);
  if (latencyMs !== undefined) latency[latencyBucket(latencyMs)] = requests - errors;
  return { model, provider, requests, errors, costUsd, latency };
}

const traffic = [series('smart', 'openai', 40, 8, 1.5, 300), series('smart', 'anthropic', 10, 5, 0.5, 2500), series('cheap', 'openai', 100, 1, 0.1, 50)];

describe('alert rules', () => {
  test('error_rate over all traffic: one subject, over the threshold only with enough requests', () => {
    assert.deepEqual(observe(rule({ kind: 'error_rate', threshold: 9 }), traffic), [{ key: '*', subject: {}, value: 9.33, holds: true }]);
    assert.equal(observe(rule({ kind: 'error_rate', threshold: 9.34 }), traffic)[0]!.holds, false, 'over, not at');
    const few = observe(rule({ kind: 'error_rate', threshold: 5, model: 'smart', provider: 'anthropic', min_requests: 11 }), traffic);
    assert.deepEqual(few, [{ key: '*', subject: { model: 'smart', provider: 'anthropic' }, value: 50, holds: false }]);
    assert.deepEqual(observe(rule({ kind: 'error_rate', threshold: 5, model: 'none' }), traffic), [{ key: '*', subject: { model: 'none' }, value: 0, holds: false }], 'no traffic: one subject at 0');
  });

  test('per model or provider: one subject each, within the filters the rule names', () => {
    const perModel = observe(rule({ kind: 'error_rate', threshold: 10, per: 'model', min_requests: 5 }), traffic);
    assert.deepEqual(perModel, [
      { key: 'model=smart', subject: { model: 'smart' }, value: 26, holds: true },
      { key: 'model=cheap', subject: { model: 'cheap' }, value: 1, holds: false },
    ]);
    const perProvider = observe(rule({ kind: 'error_rate', threshold: 10, per: 'provider', model: 'smart', min_requests: 5 }), traffic);
    assert.deepEqual(perProvider, [
      { key: 'provider=openai', subject: { model: 'smart', provider: 'openai' }, value: 20, holds: true },
      { key: 'provider=anthropic', subject: { model: 'smart', provider: 'anthropic' }, value: 50, holds: true },
    ]);
  });

  test('p95_latency over answered requests, with min_requests counting them; spend over the window regardless of count', () => {
    const [p95] = observe(rule({ kind: 'p95_latency', threshold: 1000, provider: 'openai', min_requests: 20 }), traffic);
    assert.ok(p95!.value > 250 && p95!.value < 400, `p95 ${p95!.value}`);
    assert.equal(p95!.holds, false);
    const slow = observe(rule({ kind: 'p95_latency', threshold: 1000, per: 'provider', min_requests: 5 }), traffic).find((o) => o.key === 'provider=anthropic');
    assert.equal(slow?.holds, true);
    assert.equal(observe(rule({ kind: 'p95_latency', threshold: 1000, per: 'provider', min_requests: 6 }), traffic).find((o) => o.key === 'provider=anthropic')?.holds, false, '5 answered of 10');

    assert.deepEqual(observe(rule({ kind: 'spend', threshold: 2, window_minutes: 60 }), traffic), [{ key: '*', subject: {}, value: 2.1, holds: true }]);
    assert.equal(observe(rule({ kind: 'spend', threshold: 0.4, model: 'smart', provider: 'anthropic' }), traffic)[0]!.holds, true, 'min_requests does not apply');
  });

  test('circuit_open: each open target within the filters; model matches the model id or a route to it', () => {
    const open = new Map([
      ['openai/gpt-4o', 2],
      ['anthropic/claude', 1],
    ]);
    const routes = (target: string) => (target === 'anthropic/claude' ? ['smart'] : []);
    assert.deepEqual(observeCircuits(rule({ kind: 'circuit_open' }), open, routes).map((o) => [o.key, o.value, o.holds]), [
      ['target=openai/gpt-4o', 2, true],
      ['target=anthropic/claude', 1, true],
    ]);
    assert.deepEqual(observeCircuits(rule({ kind: 'circuit_open', model: 'smart' }), open, routes)[0]!.subject, { target: 'anthropic/claude', provider: 'anthropic', model: 'claude' });
    assert.deepEqual(observeCircuits(rule({ kind: 'circuit_open', provider: 'openai', model: 'gpt-4o' }), open, routes).length, 1);
    assert.deepEqual(observeCircuits(rule({ kind: 'circuit_open', provider: 'gemini' }), open, routes), []);
  });

  test('transitions: new breaches fire, firing ones already are not repeated, and those that stopped or vanished resolve', () => {
    const since: FiringState = { subject: { model: 'a' }, value: 50, started_at: 1 };
    const firing = new Map([
      ['model=a', since],
      ['model=b', { ...since, subject: { model: 'b' } }],
      ['model=gone', { ...since, subject: { model: 'gone' } }],
    ]);
    const { fire, resolve } = transitions(
      [
        { key: 'model=a', subject: { model: 'a' }, value: 60, holds: true },
        { key: 'model=b', subject: { model: 'b' }, value: 2, holds: false },
        { key: 'model=c', subject: { model: 'c' }, value: 70, holds: true },
        { key: 'model=d', subject: { model: 'd' }, value: 1, holds: false },
      ],
      firing,
    );
    assert.deepEqual(fire.map((o) => o.key), ['model=c']);
    assert.deepEqual(resolve.map((r) => [r.key, r.value]), [
      ['model=b', 2],
      ['model=gone', 0],
    ]);
  });

  test('the schema: thresholds, names and defaults', () => {
    const parsed = rule({ kind: 'error_rate', threshold: '5' });
    assert.deepEqual([parsed.threshold, parsed.window_minutes, parsed.min_requests, parsed.per], [5, 5, 20, undefined]);
    assert.equal(alertRuleSchema.safeParse({ name: 'x', kind: 'spend' }).success, false, 'a threshold is needed');
    assert.equal(alertRuleSchema.safeParse({ name: 'x', kind: 'error_rate', threshold: 100 }).success, false, 'a rate cannot pass 100%');
    assert.equal(alertRuleSchema.safeParse({ name: 'x', kind: 'circuit_open' }).success, true);
    assert.equal(alertRuleSchema.safeParse({ name: 'has space', kind: 'circuit_open' }).success, false);
    const twice = configSchema.safeParse({ alerts: { rules: [{ name: 'same', kind: 'circuit_open' }, { name: 'same', kind: 'spend', threshold: 1 }] } });
    assert.equal(twice.success, false);
    assert.match(JSON.stringify(twice.error?.issues), /alert rule names must be unique/);
  });
});

describe('alert notifications', () => {
  const STARTED = Date.parse('2030-01-15T12:03:00Z');
  const RESOLVED = Date.parse('2030-01-15T12:20:30Z');
  const errors = rule({ name: 'high-errors', kind: 'error_rate', threshold: 10, min_requests: 20 });

  test('JSON: alert, kind, status, subject, value, threshold, window, times and the sending gateway', () => {
    const firing = alertJson({ rule: errors, status: 'firing', subject: { model: 'smart' }, value: 62.5, startedAt: STARTED, gateway: 'gw-1' });
    assert.deepEqual(firing, {
      alert: 'high-errors',
      kind: 'error_rate',
      status: 'firing',
      subject: { model: 'smart' },
      value: 62.5,
      threshold: 10,
      window_minutes: 5,
      started_at: '2030-01-15T12:03:00.000Z',
      gateway: 'gw-1',
    });
    const resolved = alertJson({ rule: rule({ name: 'c', kind: 'circuit_open' }), status: 'resolved', subject: { target: 'openai/gpt-4o' }, value: 0, startedAt: STARTED, resolvedAt: RESOLVED, gateway: 'gw-1' });
    assert.equal(resolved.resolved_at, '2030-01-15T12:20:30.000Z');
    assert.deepEqual([resolved.threshold, resolved.window_minutes], [null, null]);
  });

  test('Slack text: one readable line per kind and status', () => {
    const event = { rule: errors, subject: { model: 'smart', provider: 'openai' }, startedAt: STARTED, gateway: 'gw' };
    assert.equal(
      alertText({ ...event, status: 'firing', value: 62.5 }),
      '[FIRING] Switchboard alert high-errors: error rate 62.5% over the last 5 min for model smart, provider openai, over the threshold 10%.',
    );
    assert.equal(
      alertText({ ...event, status: 'resolved', value: 3.1, resolvedAt: RESOLVED }),
      '[RESOLVED] Switchboard alert high-errors: error rate 3.1% over the last 5 min for model smart, provider openai, back within the threshold 10% (firing since 2030-01-15 12:03 UTC).',
    );
    assert.match(alertText({ ...event, status: 'resolved', value: 40, resolvedAt: RESOLVED }), /from fewer than 20 requests, too few to judge/);
    const spend = rule({ name: 'spend', kind: 'spend', threshold: 50, window_minutes: 60 });
    assert.equal(alertText({ rule: spend, subject: {}, status: 'firing', value: 61.234, startedAt: STARTED, gateway: 'gw' }), '[FIRING] Switchboard alert spend: spend $61.23 over the last 60 min for all traffic, over the threshold $50.00.');
    const p95 = rule({ name: 'slow', kind: 'p95_latency', threshold: 2000 });
    assert.match(alertText({ rule: p95, subject: { provider: 'anthropic' }, status: 'firing', value: 2380, startedAt: STARTED, gateway: 'gw' }), /p95 latency 2380 ms over the last 5 min for provider anthropic, over the threshold 2000 ms/);
    const circuit = rule({ name: 'circuits', kind: 'circuit_open' });
    assert.equal(
      alertText({ rule: circuit, subject: { target: 'openai/gpt-4o' }, status: 'firing', value: 1, startedAt: STARTED, gateway: 'gw' }),
      '[FIRING] Switchboard alert circuits: the circuit of openai/gpt-4o is open on 1 instance; requests skip it.',
    );
    assert.equal(
      alertText({ rule: circuit, subject: { target: 'openai/gpt-4o' }, status: 'resolved', value: 0, startedAt: STARTED, resolvedAt: RESOLVED, gateway: 'gw' }),
      '[RESOLVED] Switchboard alert circuits: the circuit of openai/gpt-4o closed again (open since 2030-01-15 12:03 UTC).',
    );
  });
});
