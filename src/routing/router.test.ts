import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import { Router } from './router.ts';

const config = parseConfig(
  `
providers:
  openai: { type: openai, api_key: k }
  claude: { type: anthropic, api_key: k, models: [claude-haiku-4-5] }
  local: { type: ollama, models: [llama3.2] }
models:
  - name: smart
    targets: [{ provider: claude, model: claude-sonnet-4-5 }, { provider: openai, model: gpt-4o }]
`,
  {},
  'r.yaml',
);
const router = new Router(config, 1700000000);

test('a configured model name resolves to its targets in order', () => {
  const route = router.resolve('smart');
  assert.deepEqual(route.targets.map((t) => [t.provider.name, t.model]), [['claude', 'claude-sonnet-4-5'], ['openai', 'gpt-4o']]);
});

test('<provider>/<model> addresses a provider directly, model ids with slashes included', () => {
  assert.deepEqual(router.resolve('local/library/llama3:8b').targets.map((t) => [t.provider.name, t.model]), [['local', 'library/llama3:8b']]);
});

test('bare names resolve through declared provider models, then by provider type convention', () => {
  assert.equal(router.resolve('llama3.2').targets[0]!.provider.name, 'local');
  assert.equal(router.resolve('gpt-4o-mini').targets[0]!.provider.name, 'openai');
  assert.equal(router.resolve('o3-mini').targets[0]!.provider.name, 'openai');
  assert.equal(router.resolve('claude-opus-4-1').targets[0]!.provider.name, 'claude');
});

test('an unknown model is a 404 naming it', () => {
  for (const name of ['nope', 'nobody/gpt-4o', 'gemini-2.5-flash']) {
    assert.throws(() => router.resolve(name), (err: GatewayError) => err.status === 404 && err.message.includes(`'${name}'`) && err.code === 'model_not_found');
  }
});

test('models() lists configured names and declared provider models', () => {
  assert.deepEqual(router.models().map((m) => [m.id, m.owned_by]), [
    ['smart', 'switchboard'],
    ['claude/claude-haiku-4-5', 'claude'],
    ['local/llama3.2', 'local'],
  ]);
  assert.equal(router.model('openai/gpt-4o').owned_by, 'openai');
  assert.throws(() => router.model('missing'), GatewayError);
});

test('targets with the same id share figures and circuit across routes; the circuit reports its changes; health lists them', () => {
  const changes: string[][] = [];
  const shared = parseConfig(
    `
providers:
  openai: { type: openai, api_key: k }
routing:
  circuit_breaker: { consecutive_failures: 2 }
models:
  - name: a
    targets: [{ provider: openai, model: gpt-4o }]
  - name: b
    targets: [{ provider: openai, model: gpt-4o, timeouts: { first_byte_ms: 5 } }]
`,
    {},
    'r.yaml',
  );
  const r = new Router(shared, 1, { onCircuitChange: (id, from, to) => changes.push([id, from, to]) });
  const [a, b] = [r.resolve('a').targets[0]!, r.resolve('b').targets[0]!];
  assert.equal(a.stats, b.stats);
  assert.equal(a.circuit, b.circuit);
  assert.equal(b.provider.timeouts.first_byte_ms, 5);
  assert.equal(a.provider.timeouts.first_byte_ms, shared.providers.get('openai')!.timeouts.first_byte_ms, 'the other route keeps the provider\'s');
  for (let i = 0; i < 2; i++) {
    assert.ok(a.circuit!.acquire());
    a.circuit!.failed();
  }
  assert.deepEqual(changes, [['openai/gpt-4o', 'closed', 'open']]);
  const [health] = r.health();
  assert.deepEqual({ ...health, circuit: health!.circuit!.state }, { id: 'openai/gpt-4o', provider: 'openai', model: 'gpt-4o', routes: ['a', 'b'], in_flight: 0, latency_ms: null, circuit: 'open', keys: null, probe: null });
  assert.ok(r.resetCircuit('openai/gpt-4o'));
  assert.equal(a.circuit!.state, 'closed');
  assert.ok(!r.resetCircuit('openai/gpt-5'));
  assert.equal(r.resolve('openai/gpt-4o-mini').targets[0]!.circuit, undefined, 'a directly addressed model no route names keeps no state');
});

test('health checks probe every real target their models reach, once each, at the tightest interval; results show in health()', () => {
  const checked = new Router(
    parseConfig(
      `
providers:
  openai: { type: openai, api_key: k }
  claude: { type: anthropic, api_key: k }
models:
  - name: inner
    health_check: { interval_ms: 60000, timeout_ms: 3000 }
    targets: [{ provider: claude, model: claude-haiku-4-5 }]
  - name: outer
    health_check: { interval_ms: 10000 }
    targets: [{ group: inner }, { provider: openai, model: gpt-4o }]
  - name: unchecked
    targets: [{ provider: openai, model: gpt-4o-mini }]
`,
      {},
      'r.yaml',
    ),
  );
  const plans = checked.probePlans();
  assert.deepEqual(
    plans.map((p) => [p.target.id, p.interval_ms, p.timeout_ms]),
    [
      ['claude/claude-haiku-4-5', 10_000, 3_000],
      ['openai/gpt-4o', 10_000, 10_000],
    ],
  );
  const result = { at: new Date(0).toISOString(), healthy: false, status: 503, latency_ms: 5, error: 'claude: overloaded' };
  plans[0]!.record(result);
  assert.deepEqual(checked.health().find((t) => t.id === 'claude/claude-haiku-4-5')!.probe, result);
  assert.equal(checked.health().find((t) => t.id === 'openai/gpt-4o-mini')!.probe, null);
});
