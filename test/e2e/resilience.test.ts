// Failure handling through the real gateway process, driven by the openai SDK against the fake providers' fault
// injection: retries (Retry-After, backoff, then fallback), circuit breakers and their admin API, per-target
// timeouts, streams failing before and after their first byte, context-window and content-filter fallbacks, and key
// pools. Each test routes to model ids of its own: a target's circuit and figures are shared by every route naming it.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { APIError } from 'openai';
import { startFakeGateway, type FakeGateway } from '../helpers/fake-gateway.ts';

const MASTER = 'sk-master-resilience-0123456789';
let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `
logging: { level: warn }
auth: { master_key: ${MASTER}, secret: resilience-e2e-secret-0123456789abcdef }
providers:
  openai: { type: openai, api_key: sk-fake, base_url: "${url}/openai/v1" }
  gemini: { type: gemini, api_key: g-fake, base_url: "${url}/gemini" }
  pooled:
    type: openai
    base_url: "${url}/openai/v1"
    api_keys: [sk-pool-a, { key: sk-pool-b, weight: 1 }]
routing:
  retry: { initial_backoff_ms: 10, max_backoff_ms: 3000 }
  circuit_breaker: { consecutive_failures: 3, cooldown_ms: 400 }
models:
  - name: patient
    retry: { max_attempts: 3 }
    targets: [{ provider: openai, model: gpt-r1 }]
  - name: impatient
    retry: { max_attempts: 3 }
    targets: [{ provider: openai, model: gpt-r2 }, { provider: gemini, model: gem-r2 }]
  - name: retry-then-fallback
    retry: { max_attempts: 2, retry_on: [500] }
    targets: [{ provider: openai, model: gpt-r3 }, { provider: gemini, model: gem-r3 }]
  - name: fragile
    targets: [{ provider: openai, model: gpt-c1 }, { provider: gemini, model: gem-c1 }]
  - name: lonely
    targets: [{ provider: openai, model: gpt-c2 }]
  - name: quick
    targets:
      - { provider: openai, model: gpt-t1, timeouts: { first_byte_ms: 200 } }
      - { provider: gemini, model: gem-t1 }
  - name: streamy
    targets: [{ provider: openai, model: gpt-s1 }, { provider: gemini, model: gem-s1 }]
  - name: long
    fallback_on: [context_window_exceeded]
    targets: [{ provider: openai, model: gpt-l1 }, { provider: gemini, model: gem-l1 }]
  - name: strict
    targets: [{ provider: openai, model: gpt-l2 }, { provider: gemini, model: gem-l2 }]
  - name: filtered
    fallback_on: [content_filter]
    targets: [{ provider: openai, model: gpt-f1 }, { provider: gemini, model: gem-f1 }]
  - name: pooled
    targets: [{ provider: pooled, model: gpt-p1 }]
`,
    { apiKey: MASTER },
  );
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

const hi = [{ role: 'user' as const, content: 'hi' }];

async function ask(model: string): Promise<{ target: string | null; attempts: string | null; fallback: string | null; text: string }> {
  const { data, response } = await e.client.chat.completions.create({ model, messages: hi }).withResponse();
  const h = response.headers;
  return { target: h.get('x-switchboard-target'), attempts: h.get('x-switchboard-attempts'), fallback: h.get('x-switchboard-fallback'), text: data.choices[0]!.message.content ?? '' };
}

async function failure(model: string): Promise<APIError> {
  try {
    await e.client.chat.completions.create({ model, messages: hi });
  } catch (err) {
    assert.ok(err instanceof APIError, String(err));
    return err;
  }
  assert.fail('the request succeeded');
}

/** The model each request to `provider` named: in the body, or in the path (Gemini's models/<id>:generateContent). */
const models = (provider: string) =>
  e.fake.received.filter((r) => r.provider === provider).map((r) => (r.body.model as string | undefined) ?? /models\/([^:/]+):/.exec(r.path)?.[1]);

async function admin(method: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${e.gateway.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${MASTER}` } });
  return { status: res.status, body: await res.json() };
}

async function circuitOf(id: string): Promise<any> {
  const { status, body } = await admin('GET', '/routing/targets');
  assert.equal(status, 200);
  return body.items.find((t: any) => t.id === id)?.circuit;
}

test('a 429 is retried on the same target after the Retry-After it names', async () => {
  e.fake.fault({ kind: 'status', status: 429, retryAfter: '1' }, { provider: 'openai' });
  const started = performance.now();
  const r = await ask('patient');
  assert.deepEqual(r, { target: 'openai/gpt-r1', attempts: '2', fallback: null, text: 'Echo: hi' });
  // Correctness, not speed: the gateway waited at least what the provider asked before asking again.
  assert.ok(performance.now() - started >= 950, `retried after ${performance.now() - started} ms`);
  assert.deepEqual(models('openai'), ['gpt-r1', 'gpt-r1']);
});

test('a Retry-After longer than the policy ever waits moves on to the next target at once', async () => {
  e.fake.fault({ kind: 'status', status: 429, retryAfter: '120' }, { provider: 'openai' });
  const r = await ask('impatient');
  assert.deepEqual(r, { target: 'gemini/gem-r2', attempts: '2', fallback: 'true', text: 'Echo: hi' });
  assert.deepEqual(models('openai'), ['gpt-r2']);
});

test('with one target and a long Retry-After, the client gets the 429 with the Retry-After preserved', async () => {
  e.fake.fault({ kind: 'status', status: 429, retryAfter: '120' }, { provider: 'openai' });
  const err = await failure('patient');
  assert.equal(err.status, 429);
  assert.equal(err.headers?.get('retry-after'), '120');
  assert.deepEqual(models('openai'), ['gpt-r1']);
});

test('5xx: retried with backoff up to max_attempts on one target, then the next target answers', async () => {
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai', times: 1 });
  const recovered = await ask('retry-then-fallback');
  assert.deepEqual(recovered, { target: 'openai/gpt-r3', attempts: '2', fallback: null, text: 'Echo: hi' });
  e.fake.reset();
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai', times: 2 });
  const fellBack = await ask('retry-then-fallback');
  assert.deepEqual(fellBack, { target: 'gemini/gem-r3', attempts: '3', fallback: 'true', text: 'Echo: hi' });
  assert.deepEqual(models('openai'), ['gpt-r3', 'gpt-r3']);
});

test('a status the policy does not name (503 under retry_on: [500]) falls back without a retry', async () => {
  e.fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
  assert.deepEqual(await ask('retry-then-fallback'), { target: 'gemini/gem-r3', attempts: '2', fallback: 'true', text: 'Echo: hi' });
  assert.deepEqual(models('openai'), ['gpt-r3']);
});

test('a burst of 500s opens the circuit: the target is skipped, then one half-open probe closes it again', async () => {
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai', times: 3 });
  for (let i = 0; i < 3; i++) assert.equal((await ask('fragile')).target, 'gemini/gem-c1');
  const open = await circuitOf('openai/gpt-c1');
  assert.equal(open.state, 'open');
  assert.equal(open.consecutive_failures, 3);
  assert.ok(open.retry_at);

  // Open: the failing target is not even asked.
  const skipped = await ask('fragile');
  assert.deepEqual(skipped, { target: 'gemini/gem-c1', attempts: '1', fallback: 'true', text: 'Echo: hi' });
  assert.deepEqual(models('openai'), ['gpt-c1', 'gpt-c1', 'gpt-c1']);

  // After the cooldown, the next request is the probe; it succeeds and the circuit closes.
  await new Promise((r) => setTimeout(r, 450));
  assert.equal((await circuitOf('openai/gpt-c1')).state, 'half-open');
  assert.deepEqual(await ask('fragile'), { target: 'openai/gpt-c1', attempts: '1', fallback: null, text: 'Echo: hi' });
  const closed = await circuitOf('openai/gpt-c1');
  assert.equal(closed.state, 'closed');
  assert.equal(closed.times_opened, 1);
});

test('a failed half-open probe reopens the circuit; with no other target the client gets 503 circuit_open and a Retry-After', async () => {
  e.fake.fault({ kind: 'status', status: 502 }, { provider: 'openai', times: 4 });
  for (let i = 0; i < 3; i++) assert.equal((await failure('lonely')).status, 502);
  const refused = await failure('lonely');
  assert.equal(refused.status, 503);
  assert.equal((refused.error as any)?.code, 'circuit_open');
  assert.equal(refused.headers?.get('retry-after'), '1');
  await new Promise((r) => setTimeout(r, 450));
  assert.equal((await failure('lonely')).status, 502, 'the probe went out and failed');
  assert.equal((await circuitOf('openai/gpt-c2')).state, 'open');
  assert.equal((await circuitOf('openai/gpt-c2')).times_opened, 2);
  assert.equal(models('openai').length, 4);

  // An operator who fixed the provider closes the circuit at once.
  const reset = await admin('POST', '/routing/targets/openai/gpt-c2/reset');
  assert.equal(reset.status, 200);
  assert.equal(reset.body.circuit.state, 'closed');
  assert.equal((await ask('lonely')).target, 'openai/gpt-c2');
  assert.equal((await admin('POST', '/routing/targets/openai/no-such-model/reset')).status, 404);
});

test('a target with its own first_byte_ms times out before the first byte and the next target answers', async () => {
  e.fake.fault({ kind: 'latency', ms: 1500 }, { provider: 'openai' });
  assert.deepEqual(await ask('quick'), { target: 'gemini/gem-t1', attempts: '2', fallback: 'true', text: 'Echo: hi' });
});

test('a stream cut before its first byte fails over; one cut after it ends with an error and is not retried', async () => {
  e.fake.fault({ kind: 'cut', afterEvents: 0 }, { provider: 'openai' });
  const { data, response } = await e.client.chat.completions.create({ model: 'streamy', messages: hi, stream: true }).withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'Echo: hi');
  assert.equal(response.headers.get('x-switchboard-target'), 'gemini/gem-s1');
  assert.equal(response.headers.get('x-switchboard-fallback'), 'true');

  e.fake.reset();
  e.fake.fault({ kind: 'cut', afterEvents: 2 }, { provider: 'openai' });
  const cut = await e.client.chat.completions.create({ model: 'streamy', messages: hi, stream: true });
  let partial = '';
  await assert.rejects(async () => {
    for await (const chunk of cut) partial += chunk.choices[0]?.delta.content ?? '';
  });
  assert.ok('Echo: hi'.startsWith(partial) && partial.length < 'Echo: hi'.length, partial);
  assert.deepEqual(models('gemini'), [], 'nothing was retried once bytes reached the client');
});

const TOO_LONG = JSON.stringify({
  error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' },
});

test('context window exceeded falls back when the route says so, and is the client\'s 400 when it does not', async () => {
  e.fake.fault({ kind: 'status', status: 400, body: TOO_LONG }, { provider: 'openai' });
  assert.deepEqual(await ask('long'), { target: 'gemini/gem-l1', attempts: '2', fallback: 'true', text: 'Echo: hi' });
  e.fake.fault({ kind: 'status', status: 400, body: TOO_LONG }, { provider: 'openai' });
  const err = await failure('strict');
  assert.equal(err.status, 400);
  assert.equal((err.error as any)?.code, 'context_length_exceeded');
  assert.deepEqual(models('gemini'), ['gem-l1']);
});

test('an answer stopped by the content filter is asked of the next target when the route says so', async () => {
  e.fake.script({ text: '', finish: 'content_filter' }, { provider: 'openai' });
  assert.deepEqual(await ask('filtered'), { target: 'gemini/gem-f1', attempts: '2', fallback: 'true', text: 'Echo: hi' });
  // The last target's filtered answer is still the answer.
  e.fake.script({ text: '', finish: 'content_filter' }, { provider: 'openai' });
  const { data } = await e.client.chat.completions.create({ model: 'strict', messages: hi }).withResponse();
  assert.equal(data.choices[0]!.finish_reason, 'content_filter');
});

test('key pool: a key answered 429 rests and the other key serves at once; with every key resting the client gets 429', async () => {
  e.fake.fault({ kind: 'status', status: 429 }, { provider: 'openai' });
  const r = await ask('pooled');
  assert.deepEqual(r, { target: 'pooled/gpt-p1', attempts: '2', fallback: null, text: 'Echo: hi' });
  const keys = e.fake.received.map((q) => q.headers.authorization);
  assert.equal(keys.length, 2);
  assert.notEqual(keys[0], keys[1], 'the retry used the other key');
  for (let i = 0; i < 10; i++) await ask('pooled');
  assert.deepEqual(new Set(e.fake.received.slice(2).map((q) => q.headers.authorization)), new Set([keys[1]]), 'the rate-limited key rests');
  const pool = (await admin('GET', '/routing/targets')).body.items.find((t: any) => t.id === 'pooled/gpt-p1').keys;
  assert.equal(pool.filter((k: any) => k.resting_until !== null).length, 1);
  assert.ok(!JSON.stringify(pool).includes('sk-pool'), 'the admin API never shows a key');

  e.fake.reset();
  e.fake.fault({ kind: 'status', status: 429 }, { provider: 'openai' });
  const err = await failure('pooled');
  assert.equal(err.status, 429);
  assert.equal((err.error as any)?.code, 'keys_cooling_down');
  assert.ok(Number(err.headers?.get('retry-after')) > 0);
});
