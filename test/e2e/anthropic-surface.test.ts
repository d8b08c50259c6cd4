// The Anthropic SDK against the gateway's /v1/messages, in front of each provider type: natively to Anthropic,
// translated to OpenAI and Gemini. Each case checks what the SDK got and what the provider received.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { RecordedRequest } from '../fake-providers/server.ts';
import { startE2E, type E2E } from './setup.ts';

let e2e: E2E;
let client: Anthropic;
before(async () => {
  e2e = await startE2E();
  client = new Anthropic({ baseURL: e2e.gateway.url, apiKey: 'sk-client', maxRetries: 0 });
});
after(() => e2e.stop());

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const TARGETS = {
  anthropic: 'anthropic/claude-sonnet-4-5',
  openai: 'openai/gpt-4o-mini',
  gemini: 'gemini/gemini-2.5-flash',
} as const;

function lastReceived(provider: RecordedRequest['provider']): RecordedRequest {
  const list = e2e.fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list[list.length - 1]!;
}

for (const [provider, model] of Object.entries(TARGETS) as [keyof typeof TARGETS, string][]) {
  describe(`Anthropic SDK -> gateway /v1/messages -> ${provider}`, () => {
    test('a plain message, with system, stop sequences and usage', async () => {
      e2e.fake.script({ text: 'Hello there', usage: { input: 20, output: 2, cached: 5 } });
      const msg = await client.messages.create({
        model,
        max_tokens: 100,
        system: 'Be brief.',
        stop_sequences: ['END'],
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(msg.type, 'message');
      assert.equal(msg.role, 'assistant');
      assert.deepEqual(msg.content.map((b) => b.type), ['text']);
      assert.equal((msg.content[0] as Anthropic.TextBlock).text, 'Hello there');
      assert.equal(msg.stop_reason, 'end_turn');
      assert.equal(msg.usage.input_tokens, 15);
      assert.equal(msg.usage.cache_read_input_tokens, 5);
      assert.equal(msg.usage.output_tokens, 2);
      const sent = JSON.stringify(lastReceived(provider).body);
      assert.match(sent, /Be brief\./);
      assert.match(sent, /END/);
    });

    test('streams text with the event sequence the SDK assembles', async () => {
      e2e.fake.script({ text: 'One two three four', usage: { input: 12, output: 4 } });
      const stream = client.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Count' }] });
      let deltas = '';
      stream.on('text', (t) => (deltas += t));
      const final = await stream.finalMessage();
      assert.equal(deltas, 'One two three four');
      assert.equal((final.content[0] as Anthropic.TextBlock).text, 'One two three four');
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, 4);
      assert.equal(lastReceived(provider).body.stream ?? lastReceived(provider).query.alt, provider === 'gemini' ? 'sse' : true);
    });

    test('tools: parallel calls, then tool results in the next turn', async () => {
      e2e.fake.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Rome' } }] });
      const first = await client.messages.create({
        model,
        max_tokens: 100,
        tools: [WEATHER_TOOL],
        tool_choice: { type: 'auto' },
        messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
      });
      assert.equal(first.stop_reason, 'tool_use');
      const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      assert.deepEqual(uses.map((u) => u.input), [{ city: 'Paris' }, { city: 'Rome' }]);
      assert.ok(uses.every((u) => u.id && u.name === 'get_weather'));

      e2e.fake.script({ text: 'Sunny in both' });
      const second = await client.messages.create({
        model,
        max_tokens: 100,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: uses.map((u, i) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: i === 0 ? '18C' : '24C' })),
          },
        ],
      });
      assert.equal((second.content[0] as Anthropic.TextBlock).text, 'Sunny in both');
      const sent = JSON.stringify(lastReceived(provider).body);
      assert.match(sent, /18C/);
      assert.match(sent, /24C/);
      assert.match(sent, /get_weather/);
    });

    test('streams tool calls as tool_use blocks with input_json deltas', async () => {
      e2e.fake.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }, { name: 'get_weather', arguments: { city: 'Bergen' } }] });
      const stream = client.messages.stream({ model, max_tokens: 100, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather?' }] });
      const final = await stream.finalMessage();
      const uses = final.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      assert.deepEqual(uses.map((u) => u.input), [{ city: 'Oslo' }, { city: 'Bergen' }]);
      assert.equal(final.stop_reason, 'tool_use');
    });

    test('images as base64 blocks reach the provider', async () => {
      await client.messages.create({
        model,
        max_tokens: 20,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }, { type: 'text', text: 'What is this?' }] }],
      });
      assert.ok(JSON.stringify(lastReceived(provider).body).includes(PNG_BASE64));
    });

    test('provider errors come back in the Anthropic error shape with their status', async () => {
      e2e.fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider });
      await assert.rejects(client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), (err: InstanceType<typeof Anthropic.APIError>) => {
        assert.equal(err.status, 429);
        assert.equal((err.error as { type: string }).type, 'error');
        assert.equal((err.error as { error: { type: string } }).error.type, 'rate_limit_error');
        assert.equal(err.headers?.get('retry-after'), '7');
        return true;
      });
    });
  });
}

describe('Anthropic surface specifics', () => {
  test('native passthrough keeps what translation cannot carry and the client protocol headers', async () => {
    await client.messages.create(
      {
        model: TARGETS.anthropic,
        max_tokens: 20,
        system: [{ type: 'text', text: 'Cached system', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'hi' }],
        ...{ top_k: 5 },
      },
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
    );
    const r = lastReceived('anthropic');
    assert.equal(r.body.model, 'claude-sonnet-4-5');
    assert.equal(r.body.top_k, 5);
    assert.deepEqual(r.body.system[0].cache_control, { type: 'ephemeral' });
    assert.equal(r.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
    assert.equal(r.headers['x-api-key'], 'sk-ant-fake');
  });

  test('what a translated provider cannot honour is a 400 naming the field, in the Anthropic shape', async () => {
    await assert.rejects(
      client.messages.create({ model: TARGETS.openai, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], ...{ top_k: 5 } }),
      (err: InstanceType<typeof Anthropic.APIError>) => err.status === 400 && /top_k/.test(err.message) && (err.error as { error: { type: string } }).error.type === 'invalid_request_error',
    );
    await assert.rejects(
      client.messages.create({ model: TARGETS.gemini, max_tokens: 20, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'hi' }] }),
      (err: InstanceType<typeof Anthropic.APIError>) => err.status === 400 && /web_search_20250305/.test(err.message),
    );
  });

  test('invalid requests and unknown models get Anthropic-shaped errors', async () => {
    const res = await fetch(`${e2e.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x', messages: [] }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.match(body.error.message, /max_tokens/);
    const bad = await fetch(`${e2e.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { type: string }).type, 'error');
    await assert.rejects(client.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), (err: InstanceType<typeof Anthropic.APIError>) => err.status === 404);
  });

  test('a body nested too deeply for the gateway to walk is a 400, not a crash', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const body = `{"model":"${TARGETS.openai}","messages":[{"role":"user","content":[{"type":"text","text":"x","extra":${deep}}]}]}`;
    const res = await fetch(`${e2e.gateway.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { type: string }).type, 'error');
  });

  test('count_tokens: counted by Anthropic natively, estimated for other providers', async () => {
    const native = await client.messages.countTokens({ model: TARGETS.anthropic, messages: [{ role: 'user', content: 'Hello world' }] });
    assert.ok(native.input_tokens > 1000, 'the fake provider counted it');
    assert.equal(lastReceived('anthropic').path, '/anthropic/v1/messages/count_tokens');
    const estimated = await client.messages.countTokens({ model: TARGETS.openai, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello world' }] });
    assert.ok(estimated.input_tokens > 0 && estimated.input_tokens < 20, `estimate ${estimated.input_tokens}`);
  });

  test('a translated stream that breaks mid-way ends with an error event the SDK raises', async () => {
    e2e.fake.script({ text: 'a long answer that will be cut somewhere in the middle' });
    e2e.fake.fault({ kind: 'cut', afterEvents: 3 }, { provider: 'openai' });
    const stream = client.messages.stream({ model: TARGETS.openai, max_tokens: 50, messages: [{ role: 'user', content: 'go' }] });
    await assert.rejects(stream.finalMessage(), /connection broke/);
  });
});
