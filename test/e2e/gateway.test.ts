// Gateway behaviour around the providers: errors and their shapes, limits, models, embeddings, request ids,
// timeouts, failover, presets and health, through the real process.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeProviders } from '../fake-providers/server.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startE2E, type E2E } from './setup.ts';

let e2e: E2E;
before(async () => {
  e2e = await startE2E();
});
after(() => e2e.stop());

type APIError = InstanceType<typeof OpenAI.APIError>;

async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await request(`${e2e.gateway.url}${path}`, { method: 'POST', body, headers });
  return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as { error: { message: string; type: string; code: string; param: string | null } } };
}

describe('errors come in the OpenAI shape with the right status and say what to fix', () => {
  test('unknown model: 404 naming the model', async () => {
    await assert.rejects(e2e.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, 'model_not_found');
      assert.match(e.message, /'no-such-model'/);
      return true;
    });
  });

  test('malformed JSON: 400 invalid_json', async () => {
    const res = await post('/v1/chat/completions', '{"model": "x", "messages": [');
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'invalid_json');
    assert.equal(res.json.error.type, 'invalid_request_error');
  });

  test('wrong types: 400 naming the field', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'x' }], max_tokens: 'ten' }));
    assert.equal(res.status, 400);
    assert.equal(res.json.error.param, 'max_tokens');
    assert.match(res.json.error.message, /max_tokens/);
  });

  test('body over the limit: 413', async () => {
    const big = JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'x'.repeat(300 * 1024) }] });
    const res = await post('/v1/chat/completions', big);
    assert.equal(res.status, 413);
    assert.equal(res.json.error.type, 'request_too_large');
    assert.match(res.json.error.message, /262144 bytes/);
  });

  test('not JSON at all: 415 saying to send JSON', async () => {
    const res = await post('/v1/chat/completions', 'hello', { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match(res.json.error.message, /application\/json/);
  });

  test('unknown route: 404 in the same shape', async () => {
    const res = await post('/v1/nope', '{}');
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'unknown_route');
  });

  test('upstream does not answer in time: 504 naming the timeout', async () => {
    e2e.fake.fault({ kind: 'latency', ms: 2000 }, { provider: 'openai' });
    await assert.rejects(e2e.client.chat.completions.create({ model: 'impatient/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => {
      assert.equal(e.status, 504);
      assert.match(e.message, /first_byte_ms \(400 ms\)/);
      return true;
    });
  });

  test('a call that outlasts total_ms: 504 naming it', async () => {
    e2e.fake.fault({ kind: 'latency', ms: 3000 }, { provider: 'openai' });
    await assert.rejects(e2e.client.chat.completions.create({ model: 'bounded/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => {
      assert.equal(e.status, 504);
      assert.match(e.message, /total_ms \(600 ms\)/);
      return true;
    });
  });

  test('a stream that stalls mid-way ends with an error event, not a hang', async () => {
    e2e.fake.fault({ kind: 'hang' }, { provider: 'openai' });
    await assert.rejects(e2e.client.chat.completions.create({ model: 'impatient/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true }), (e: APIError) => e.status === 504);
  });

  test('unreachable provider: 502 naming it', async () => {
    await assert.rejects(e2e.client.chat.completions.create({ model: 'nowhere/gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => {
      assert.equal(e.status, 502);
      assert.match(e.message, /nowhere: could not reach the provider \(ECONNREFUSED\)/);
      return true;
    });
  });
});

describe('client disconnects', () => {
  async function until(check: () => boolean, what: string) {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(check(), what);
  }

  test('a client that gives up aborts the upstream call (non-streaming)', async () => {
    e2e.fake.reset();
    e2e.fake.fault({ kind: 'hang' }, { provider: 'anthropic' });
    const controller = new AbortController();
    const pending = e2e.client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal });
    await until(() => e2e.fake.received.length === 1, 'the provider got the call');
    controller.abort();
    await assert.rejects(pending);
    await until(() => e2e.fake.abandoned === 1, 'the gateway closed the upstream call');
  });

  test('a client that leaves mid-stream aborts the upstream stream', async () => {
    // A provider that drips its stream, so the client can leave while it is still sending.
    const slow = await startFakeProviders({ streamEventDelayMs: 50 });
    const gateway = await startGateway({ config: `providers:\n  g: { type: gemini, api_key: k, base_url: "${slow.url}/gemini" }\n` });
    try {
      slow.script({ text: 'word '.repeat(200) }, { provider: 'gemini' });
      const res = await request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'g/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      assert.equal(res.statusCode, 200);
      for await (const _ of res.body) break;
      res.body.destroy();
      for (let i = 0; i < 100 && slow.abandoned === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(slow.abandoned, 1, 'the gateway closed the upstream stream');
    } finally {
      await gateway.stop();
      await slow.close();
    }
  });
});

describe('headers', () => {
  test('x-request-id is echoed when the client sends one, generated otherwise; x-switchboard-provider names the provider', async () => {
    const mine = await e2e.client.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-request-id': 'req-abc-123' } })
      .withResponse();
    assert.equal(mine.response.headers.get('x-request-id'), 'req-abc-123');
    assert.equal(mine.response.headers.get('x-switchboard-provider'), 'anthropic');
    const generated = await e2e.client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    assert.match(generated.response.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    const error = await post('/v1/chat/completions', '{');
    assert.ok(error.headers['x-request-id']);
  });

  test('a request id that could inject into logs or headers is replaced', async () => {
    const res = await request(`${e2e.gateway.url}/health`, { headers: { 'x-request-id': 'a b\tc' } });
    await res.body.dump();
    assert.notEqual(res.headers['x-request-id'], 'a b\tc');
  });

  test('streams carry the same headers', async () => {
    const { response } = await e2e.client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    assert.equal(response.headers.get('x-switchboard-provider'), 'anthropic');
    assert.match(response.headers.get('content-type')!, /text\/event-stream/);
    await response.body?.cancel();
  });
});

describe('routing', () => {
  test('a fallback model moves to the next target when the first fails before answering', async () => {
    e2e.fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
    const { data, response } = await e2e.client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    assert.equal(data.choices[0]!.message.content, 'Echo: hello');
    assert.equal(response.headers.get('x-switchboard-provider'), 'gemini');
  });

  test('a target that answers 200 but breaks before the first byte reaches the client still fails over', async () => {
    for (const stream of [false, true]) {
      e2e.fake.fault({ kind: 'cut', afterEvents: 0 }, { provider: 'openai' });
      e2e.fake.script({ text: 'from gemini' }, { provider: 'gemini' });
      const res = await request(`${e2e.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'resilient', messages: [{ role: 'user', content: 'x' }], stream }),
      });
      const text = await res.body.text();
      assert.equal(res.statusCode, 200, text);
      assert.equal(res.headers['x-switchboard-provider'], 'gemini');
      assert.ok(stream ? text.includes('from') && text.endsWith('data: [DONE]\n\n') : JSON.parse(text).choices[0].message.content === 'from gemini', text);
    }
  });

  test('an error event at the very start of a stream fails over too', async () => {
    e2e.fake.fault({ kind: 'status', status: 200, body: 'data: {"error":{"message":"overloaded"}}\n\n' }, { provider: 'openai' });
    const stream = await e2e.client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    assert.equal(content, 'Echo: hi');
  });

  test('a client error from the first target is not retried elsewhere', async () => {
    e2e.fake.fault({ kind: 'status', status: 400 }, { provider: 'openai' });
    await assert.rejects(e2e.client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'hello' }] }), (e: APIError) => e.status === 400);
  });

  test('bare model names reach the provider type that serves them; presets speak the OpenAI wire format', async () => {
    const bare = await e2e.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bare' }] }).withResponse();
    assert.equal(bare.response.headers.get('x-switchboard-provider'), 'openai');
    const local = await e2e.client.chat.completions.create({ model: 'local/qwen2.5', messages: [{ role: 'user', content: 'local' }], max_completion_tokens: 9 }).withResponse();
    assert.equal(local.data.choices[0]!.message.content, 'Echo: local');
    assert.equal(local.response.headers.get('x-switchboard-provider'), 'local');
    const got = e2e.fake.received.at(-1)!;
    assert.equal(got.body.model, 'qwen2.5');
    assert.equal(got.headers.authorization, undefined, 'a preset without a key sends none');
  });
});

describe('models', () => {
  test('GET /v1/models lists configured names and declared provider models', async () => {
    const ids = [];
    for await (const m of e2e.client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['smart', 'resilient', 'embed', 'openai/gpt-4o-mini', 'openai/text-embedding-3-small']);
  });

  test('GET /v1/models/{id} answers for listed and directly addressed models, 404 otherwise', async () => {
    assert.equal((await e2e.client.models.retrieve('smart')).owned_by, 'switchboard');
    assert.equal((await e2e.client.models.retrieve('anthropic/claude-opus-4-1')).owned_by, 'anthropic');
    await assert.rejects(e2e.client.models.retrieve('nothing-here'), (e: APIError) => e.status === 404);
    const encoded = await request(`${e2e.gateway.url}/v1/models/a%25`);
    assert.equal(encoded.statusCode, 404, 'an encoded id is decoded once, not crashed on');
    await encoded.body.dump();
  });
});

describe('parameters', () => {
  test('a parameter a translating provider has no equivalent for is refused by name; false and null ask for nothing', async () => {
    await assert.rejects(
      e2e.client.chat.completions.create({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], modalities: ['text', 'audio'] }),
      (e: APIError) => e.status === 400 && e.param === 'modalities' && /gemini/.test(e.message),
    );
    const ok = await e2e.client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'x' }], store: false, prediction: null } as never);
    assert.equal(ok.choices[0]!.message.content, 'Echo: x');
  });

  test('OpenAI-wire providers receive unknown parameters untouched', async () => {
    await e2e.client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], service_tier: 'flex', prediction: { type: 'content', content: 'x' } });
    const got = e2e.fake.received.at(-1)!.body;
    assert.equal(got.service_tier, 'flex');
    assert.deepEqual(got.prediction, { type: 'content', content: 'x' });
  });
});

describe('embeddings', () => {
  test('OpenAI and Gemini embeddings through the OpenAI SDK', async () => {
    const openai = await e2e.client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['hello', 'world'] });
    assert.equal(openai.data.length, 2);
    assert.equal(openai.data[1]!.index, 1);
    assert.ok(openai.data[0]!.embedding.length > 0);

    e2e.fake.script({ embedding: [0.5, 0.25, 0.125] }, { provider: 'gemini' });
    const gemini = await e2e.client.embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'float' });
    assert.deepEqual(gemini.data[0]!.embedding, [0.5, 0.25, 0.125]);
    const got = e2e.fake.received.at(-1)!;
    assert.match(got.path, /gemini-embedding-001:batchEmbedContents$/);
  });

  test('the SDK default (base64) works on every provider: the gateway packs floats for non-OpenAI wire formats', async () => {
    e2e.fake.script({ embedding: [0.5, -0.25, 0.125] }, { provider: 'gemini' });
    const gemini = await e2e.client.embeddings.create({ model: 'embed', input: ['hello'] });
    assert.deepEqual(Array.from(gemini.data[0]!.embedding), [0.5, -0.25, 0.125]);
    e2e.fake.script({ embedding: [1, 2] }, { provider: 'openai' });
    const openai = await e2e.client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'hello' });
    assert.deepEqual(Array.from(openai.data[0]!.embedding), [1, 2]);
    assert.equal(e2e.fake.received.at(-1)!.body.encoding_format, 'base64', 'OpenAI-wire providers encode it themselves');
  });

  test('a provider without embeddings gets a 400 that says so', async () => {
    await assert.rejects(e2e.client.embeddings.create({ model: 'anthropic/claude-sonnet-4-5', input: 'x' }), (e: APIError) => e.status === 400 && /has no embeddings API/.test(e.message));
  });
});

describe('auth', () => {
  test('with auth.master_key, every proxied route requires it; Bearer, x-api-key and api-key all work', async () => {
    const gateway = await startGateway({
      config: `auth: { master_key: \${MASTER} }\nproviders:\n  openai: { type: openai, api_key: k, base_url: "${e2e.fake.url}/openai/v1" }\n`,
      env: { MASTER: 'sb-master-0123456789' },
    });
    try {
      const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sb-wrong', maxRetries: 0 });
      await assert.rejects(wrong.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => e.status === 401 && e.code === 'invalid_api_key');
      await assert.rejects(wrong.models.list(), (e: APIError) => e.status === 401);
      const right = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sb-master-0123456789', maxRetries: 0 });
      assert.equal((await right.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hey' }] })).choices[0]!.message.content, 'Echo: hey');
      for (const header of ['x-api-key', 'api-key']) {
        const res = await request(`${gateway.url}/v1/models`, { headers: { [header]: 'sb-master-0123456789' } });
        assert.equal(res.statusCode, 200, header);
        await res.body.dump();
      }
      assert.match(gateway.output(), /auth: clients must send auth\.master_key/);
      assert.ok(!gateway.output().includes('sb-master-0123456789'), 'the master key is never printed');
    } finally {
      await gateway.stop();
    }
  });
});

describe('health', () => {
  test('/health and /ready', async () => {
    const health = await request(`${e2e.gateway.url}/health`);
    assert.deepEqual(await health.body.json(), { status: 'ok' });
    const ready = await request(`${e2e.gateway.url}/ready`);
    assert.equal(ready.statusCode, 200);
    const body = (await ready.body.json()) as { providers: string[]; limits: unknown; usage_ledger: Record<string, number> };
    assert.deepEqual(body.providers, ['openai', 'anthropic', 'gemini', 'local', 'impatient', 'bounded', 'nowhere']);
    // Requests admitted unchecked for want of the limits backend, and the ledger's progress, as counts.
    assert.deepEqual(body.limits, { backend: 'memory', backend_errors: 0 });
    assert.deepEqual(Object.keys(body.usage_ledger), ['queued', 'journaled', 'committed', 'failures', 'lost']);
    assert.ok(Object.values(body.usage_ledger).every((n) => Number.isInteger(n)));
  });
});
