// Two evaluators sharing one kv, as two gateway instances sharing Redis: their traffic is judged together and each
// notification goes out once between them, firing and resolved, to JSON and Slack webhooks (a local HTTP server). The
// kv is Redis on 127.0.0.1:6379 when it answers, else two memory clients on one store, said so in the test's output.
// The clock is the test's, so windows and intervals pass at once.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { configSchema } from '../../config/schema.ts';
import type { Kv } from '../../store/kv/index.ts';
import { MemoryKv, MemoryStore } from '../../store/kv/memory.ts';
import { RedisKv } from '../../store/kv/redis.ts';
import { REDIS_URL, redisSkipReason } from '../../../test/helpers/redis.ts';
import { MINUTE_MS } from './accumulator.ts';
import { AlertEvaluator } from './evaluator.ts';

let server: Server;
let base = '';
const received: { path: string; body: any }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const redisDown = await redisSkipReason();
const namespaces: string[] = [];
const clients: Kv[] = [];
after(async () => {
  await Promise.all(clients.map((kv) => kv.close()));
  if (redisDown || namespaces.length === 0) return;
  const admin = new Redis(REDIS_URL);
  for (const namespace of namespaces) {
    const keys = await admin.keys(`${namespace}:*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

/** Two clients of one store, as two instances have. */
async function sharedKv(t: TestContext): Promise<[Kv, Kv]> {
  const namespace = `alerts-eval-${randomUUID()}`;
  let pair: [Kv, Kv];
  if (redisDown) {
    t.diagnostic(`on the memory kv: ${redisDown}`);
    const store = new MemoryStore();
    pair = [new MemoryKv({ store, namespace }), new MemoryKv({ store, namespace })];
  } else {
    namespaces.push(namespace);
    pair = [await RedisKv.connect(REDIS_URL, { namespace }), await RedisKv.connect(REDIS_URL, { namespace })];
  }
  clients.push(...pair);
  return pair;
}

const warnings: { fields: Record<string, unknown>; message: string }[] = [];
const logger = {
  info: () => {},
  warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }),
} as unknown as ConstructorParameters<typeof AlertEvaluator>[0]['logger'];

const EVERY = 1_000;
/** The test's clock, shared by both instances. */
let clock = Date.parse('2030-01-15T12:00:10Z');

function evaluators(kvs: [Kv, Kv], rules: unknown[], hooks: { json: string; slack: string }, routes: Record<string, string[]> = {}): [AlertEvaluator, AlertEvaluator] {
  const config = configSchema.parse({
    alerts: {
      evaluate_every_ms: EVERY,
      webhooks: [
        { url: base + hooks.json, format: 'json', headers: { authorization: 'Bearer hook' } },
        { url: base + hooks.slack, format: 'slack' },
      ],
      rules,
    },
  }).alerts;
  const make = (kv: Kv, gateway: string) =>
    new AlertEvaluator({ config, kv, logger, now: () => clock, gateway, routesOf: (t) => routes[t] ?? [], webhook: { retries: 0 } });
  return [make(kvs[0], 'gw-a'), make(kvs[1], 'gw-b')];
}

const hooks = (label: string) => ({ json: `/${label}-json-${randomUUID()}`, slack: `/${label}-slack-${randomUUID()}` });
const at = (path: string) => received.filter((r) => r.path === path).map((r) => r.body);

/** Both instances flush and evaluate, each in an interval of its own so that both get to evaluate. */
async function tickBoth(a: AlertEvaluator, b: AlertEvaluator): Promise<void> {
  clock += EVERY;
  await a.tick();
  clock += EVERY;
  await b.tick();
  await Promise.all([a.settled(), b.settled()]);
}

function fail(e: AlertEvaluator, n: number, model = 'smart', provider = 'openai'): void {
  for (let i = 0; i < n; i++) e.observer!.record(model, provider, 502, 40, 0, clock);
}
function succeed(e: AlertEvaluator, n: number, latencyMs = 100, model = 'smart', provider = 'openai'): void {
  for (let i = 0; i < n; i++) e.observer!.record(model, provider, 200, latencyMs, 0.01, clock);
}

describe('alert evaluator, two instances on one kv', () => {
  test("an error rate fires on both instances' traffic together, once, and resolves once", async (t) => {
    const kvs = await sharedKv(t);
    const h = hooks('rate');
    const [a, b] = evaluators(kvs, [{ name: 'errors', kind: 'error_rate', threshold: 50, window_minutes: 1, min_requests: 10 }], h);
    fail(a, 6);
    fail(b, 6);
    succeed(b, 2);
    await tickBoth(a, b);
    const [firing, ...more] = at(h.json);
    assert.equal(more.length, 0, 'one notification between the two instances');
    assert.deepEqual({ ...firing, started_at: undefined, gateway: undefined }, {
      alert: 'errors',
      kind: 'error_rate',
      status: 'firing',
      subject: {},
      value: 85.71,
      threshold: 50,
      window_minutes: 1,
      started_at: undefined,
      gateway: undefined,
    });
    assert.ok(['gw-a', 'gw-b'].includes(firing.gateway));
    assert.deepEqual(at(h.slack).map((body) => Object.keys(body)), [['text']]);
    assert.match(at(h.slack)[0].text, /^\[FIRING\] Switchboard alert errors: error rate 85\.71% over the last 1 min for all traffic/);

    const [status] = await b.status();
    assert.equal(status?.state, 'firing');
    assert.deepEqual(status?.firing.map((f) => [f.subject, f.value, f.since]), [[{}, 85.71, firing.started_at]]);

    fail(a, 4);
    await tickBoth(a, b);
    assert.equal(at(h.json).length, 1, 'no repeat while firing');

    succeed(a, 20);
    succeed(b, 20);
    // a evaluates first, before b has added its own: 16 failures in 38.
    await tickBoth(a, b);
    const resolved = at(h.json).slice(1);
    assert.deepEqual(resolved.map((r) => [r.status, r.started_at, r.value]), [['resolved', firing.started_at, 42.11]]);
    assert.ok(resolved[0].resolved_at > firing.started_at);
    assert.match(at(h.slack)[1].text, /^\[RESOLVED\] .* back within the threshold 50% \(firing since /);
    assert.equal((await a.status())[0]?.state, 'ok');
    await tickBoth(a, b);
    assert.equal(at(h.json).length, 2);
  });

  test('per-model subjects fire and resolve apart; the window passing resolves what traffic left behind', async (t) => {
    const kvs = await sharedKv(t);
    const h = hooks('per-model');
    const [a, b] = evaluators(kvs, [{ name: 'slow', kind: 'p95_latency', threshold: 1000, window_minutes: 2, min_requests: 5, per: 'model' }], h);
    succeed(a, 10, 3000, 'big');
    succeed(b, 10, 200, 'small');
    await tickBoth(a, b);
    assert.deepEqual(at(h.json).map((r) => [r.status, r.subject]), [['firing', { model: 'big' }]]);
    assert.ok(at(h.json)[0].value > 2500 && at(h.json)[0].value < 3500);

    clock += 3 * MINUTE_MS;
    await tickBoth(a, b);
    assert.deepEqual(at(h.json).map((r) => [r.status, r.subject, r.value]).slice(1), [['resolved', { model: 'big' }, 0]]);
  });

  test('the last counts reach the kv when an instance closes', async (t) => {
    const kvs = await sharedKv(t);
    const h = hooks('close');
    const [a, b] = evaluators(kvs, [{ name: 'spend', kind: 'spend', threshold: 0.5, window_minutes: 60 }], h);
    succeed(a, 60);
    await a.close();
    clock += EVERY;
    await b.tick();
    await b.settled();
    assert.deepEqual(at(h.json).map((r) => [r.status, r.value]), [['firing', 0.6]]);
  });

  test('circuit_open fires when the first instance opens a circuit and resolves when the last one closes it', async (t) => {
    const kvs = await sharedKv(t);
    const h = hooks('circuit');
    const [a, b] = evaluators(kvs, [{ name: 'circuits', kind: 'circuit_open', model: 'smart' }], h, { 'openai/gpt-4o': ['smart'] });
    const settle = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await Promise.all([a.settled(), b.settled()]);
    };
    a.circuitChanged('openai/gpt-4o', 'open');
    a.circuitChanged('gemini/other', 'open');
    await settle();
    b.circuitChanged('openai/gpt-4o', 'open');
    b.circuitChanged('openai/gpt-4o', 'half-open');
    await settle();
    assert.deepEqual(at(h.json).map((r) => [r.status, r.subject, r.value]), [['firing', { target: 'openai/gpt-4o', provider: 'openai', model: 'gpt-4o' }, 1]]);
    assert.equal(at(h.slack)[0].text, '[FIRING] Switchboard alert circuits: the circuit of openai/gpt-4o is open on 1 instance; requests skip it.');

    a.circuitChanged('openai/gpt-4o', 'closed');
    await settle();
    await tickBoth(a, b);
    assert.equal(at(h.json).length, 1, 'still open on the other instance');
    b.circuitChanged('openai/gpt-4o', 'closed');
    await settle();
    assert.deepEqual(at(h.json).map((r) => r.status), ['firing', 'resolved']);
    assert.match(at(h.slack)[1].text, /^\[RESOLVED\] Switchboard alert circuits: the circuit of openai\/gpt-4o closed again/);
  });

  test('a circuit left open by an instance that died resolves once its mark runs out', async (t) => {
    const kvs = await sharedKv(t);
    const h = hooks('died');
    const [a, b] = evaluators(kvs, [{ name: 'circuits', kind: 'circuit_open' }], h);
    a.circuitChanged('openai/gpt-4o', 'open');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await a.settled();
    assert.equal(at(h.json).length, 1);
    // a is gone without a word: no close, no more ticks. b goes on.
    clock += EVERY;
    await b.tick();
    assert.equal(at(h.json).length, 1, 'within its time the mark still counts');
    clock += 4 * EVERY;
    await b.tick();
    await b.settled();
    assert.deepEqual(at(h.json).map((r) => r.status), ['firing', 'resolved']);
  });
});

describe('alert evaluator failures', () => {
  test('a kv or webhook out of reach is logged; nothing throws', async () => {
    const down = () => Promise.reject(new Error('kv down'));
    const broken = { incrBy: down, hincrBy: down, hgetAll: down, hset: down, hsetIfAbsent: down, hdel: down } as unknown as Kv;
    const config = configSchema.parse({
      alerts: { evaluate_every_ms: EVERY, webhooks: [{ url: 'http://127.0.0.1:9/hook?token=s3cr3t' }], rules: [{ name: 'c', kind: 'circuit_open' }, { name: 'e', kind: 'error_rate', threshold: 1, min_requests: 1 }] },
    }).alerts;
    const e = new AlertEvaluator({ config, kv: broken, logger, now: () => clock, webhook: { retries: 0 } });
    warnings.length = 0;
    e.observer!.record('m', 'p', 500, 1, 0, clock);
    await e.tick();
    e.circuitChanged('p/m', 'open');
    await e.settled();
    await assert.rejects(e.status(), /kv down/);
    await e.close();
    assert.deepEqual(warnings.map((w) => w.message).sort(), ['alerts: circuit change not evaluated', 'alerts: evaluation failed (the kv is unreachable?)', 'alerts: the last counts did not reach the kv']);

    // The webhook: a memory kv this time, so the alert fires and its delivery fails.
    const kv = new MemoryKv();
    clients.push(kv);
    const sending = new AlertEvaluator({ config, kv, logger, now: () => clock, webhook: { retries: 0 } });
    warnings.length = 0;
    sending.circuitChanged('p/m', 'open');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sending.settled();
    const failed = warnings.find((w) => w.message === 'alert webhook failed');
    assert.deepEqual([failed?.fields.webhook, failed?.fields.alert, failed?.fields.status], ['http://127.0.0.1:9', 'c', 'firing']);
    assert.ok(!JSON.stringify(warnings).includes('s3cr3t'));
    await sending.close();
  });

  test('without rules nothing is counted and no timer runs', async () => {
    const kv = new MemoryKv();
    clients.push(kv);
    const e = new AlertEvaluator({ config: configSchema.parse({}).alerts, kv, logger });
    assert.equal(e.observer, undefined);
    e.start();
    e.circuitChanged('p/m', 'open');
    assert.deepEqual(await e.status(), []);
    await e.close();
  });
});
