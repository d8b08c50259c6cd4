// The OpenAI SDK against the real gateway process, in front of each provider type (fake providers speaking their real
// wire formats). Each case checks what the SDK got and what the provider received.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type { RecordedRequest } from '../fake-providers/server.ts';
import { PROVIDER_MODELS, startE2E, type E2E } from './setup.ts';

let e2e: E2E;
before(async () => {
  e2e = await startE2E();
});
after(() => e2e.stop());

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function lastReceived(provider: RecordedRequest['provider']): RecordedRequest {
  const list = e2e.fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list[list.length - 1]!;
}

/** The text of every message the provider received, whatever its wire format. */
function receivedText(r: RecordedRequest): string {
  return JSON.stringify(r.body);
}

for (const [provider, model] of Object.entries(PROVIDER_MODELS) as [keyof typeof PROVIDER_MODELS, string][]) {
  describe(`OpenAI SDK -> gateway -> ${provider}`, () => {
    test('chat: system + developer + multi-turn, usage mapped', async () => {
      e2e.fake.script({ text: 'Bonjour!', usage: { input: 30, output: 4, cached: 10 } }, { provider });
      const res = await e2e.client.chat.completions
        .create({
          model,
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'developer', content: 'Answer in French.' },
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hello.' },
            { role: 'user', content: 'Greet me' },
          ],
          temperature: 0.2,
          max_tokens: 50,
          stop: ['END'],
        })
        .withResponse();
      const completion = res.data;
      assert.equal(completion.choices[0]!.message.content, 'Bonjour!');
      assert.equal(completion.choices[0]!.finish_reason, 'stop');
      assert.equal(completion.usage!.prompt_tokens, 30);
      assert.equal(completion.usage!.completion_tokens, 4);
      assert.equal(completion.usage!.prompt_tokens_details?.cached_tokens, 10);
      assert.equal(res.response.headers.get('x-switchboard-provider'), provider);
      assert.ok(res.response.headers.get('x-request-id'));

      const got = lastReceived(provider);
      const text = receivedText(got);
      for (const s of ['You are terse.', 'Answer in French.', 'Hello.', 'Greet me', 'END']) assert.ok(text.includes(s), `${provider} did not receive '${s}'`);
      if (provider === 'openai') {
        assert.equal(got.headers.authorization, 'Bearer sk-openai-fake');
        assert.equal(got.body.model, 'gpt-4o-mini');
      } else if (provider === 'anthropic') {
        assert.equal(got.headers['x-api-key'], 'sk-ant-fake');
        assert.match(JSON.stringify(got.body.system), /You are terse\.[\s\S]*Answer in French\./);
        assert.deepEqual(got.body.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user']);
        assert.equal(got.body.max_tokens, 50);
        assert.equal(got.body.temperature, 0.2);
      } else {
        assert.equal(got.headers['x-goog-api-key'], 'gemini-fake');
        assert.match(got.path, /gemini-2\.5-flash:generateContent$/);
        assert.deepEqual(got.body.contents.map((c: { role: string }) => c.role), ['user', 'model', 'user']);
        assert.equal(got.body.generationConfig.maxOutputTokens, 50);
      }
      assert.ok(!text.includes('sk-client'), 'the client key must never reach the provider');
    });

    test('stream: role first, content deltas, finish_reason, usage chunk when asked', async () => {
      e2e.fake.script({ text: 'one two three four', usage: { input: 12, output: 4 } }, { provider });
      const stream = await e2e.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'count' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let content = '';
      let role: string | undefined;
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | undefined | null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        role ??= chunk.choices[0]?.delta.role;
        content += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(role, 'assistant');
      assert.equal(content, 'one two three four');
      assert.equal(finish, 'stop');
      assert.ok(chunks >= 3, 'content arrived in several chunks');
      assert.equal(usage?.prompt_tokens, 12);
      assert.equal(usage?.completion_tokens, 4);
    });

    test('stream without include_usage sends no usage chunk', async () => {
      const stream = await e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const chunk of stream) assert.ok(!chunk.usage, 'no usage chunk expected');
    });

    test('tools: parallel tool calls, non-stream and stream (accumulated by the SDK)', async () => {
      const calls = [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Rome' } },
      ];
      e2e.fake.script({ toolCalls: calls }, { provider });
      const res = await e2e.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
        tools: [WEATHER_TOOL],
        tool_choice: 'auto',
      });
      const msg = res.choices[0]!.message;
      assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(
        msg.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [])),
        calls.map((c) => [c.name, c.arguments]),
      );
      assert.ok(msg.tool_calls!.every((c) => c.id));
      const got = receivedText(lastReceived(provider));
      assert.ok(got.includes('get_weather') && got.includes('Weather for a city'), 'tool definition reached the provider');

      e2e.fake.script({ toolCalls: calls }, { provider });
      const stream = e2e.client.chat.completions.stream({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
        tools: [WEATHER_TOOL],
      });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(
        final.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [])),
        calls.map((c) => [c.name, c.arguments]),
      );
    });

    test('tool results go back to the provider linked to their call', async () => {
      e2e.fake.script({ text: 'It is sunny in Paris.' }, { provider });
      const res = await e2e.client.chat.completions.create({
        model,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"forecast":"sunny"}' },
        ],
      });
      assert.equal(res.choices[0]!.message.content, 'It is sunny in Paris.');
      const got = lastReceived(provider).body;
      const text = JSON.stringify(got);
      assert.ok(text.includes('sunny'), 'tool result reached the provider');
      if (provider === 'anthropic') {
        const blocks = got.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
        const use = blocks.find((b: { type: string }) => b.type === 'tool_use');
        const result = blocks.find((b: { type: string }) => b.type === 'tool_result');
        assert.equal(result.tool_use_id, use.id);
      }
      if (provider === 'gemini') {
        const parts = got.contents.flatMap((c: { parts: unknown[] }) => c.parts);
        const response = parts.find((p: { functionResponse?: unknown }) => p.functionResponse);
        assert.equal(response.functionResponse.name, 'get_weather');
        assert.deepEqual(response.functionResponse.response, { forecast: 'sunny' });
      }
    });

    test('images: base64 data URL and https URL', async () => {
      await e2e.client.chat.completions.create({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these?' },
              { type: 'image_url', image_url: { url: PNG_DATA_URL } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            ],
          },
        ],
      });
      const text = receivedText(lastReceived(provider));
      assert.ok(text.includes('iVBORw0KGgo'), 'the base64 image reached the provider');
      assert.ok(text.includes('https://example.com/cat.jpg'), 'the image URL reached the provider');
      if (provider === 'anthropic') assert.ok(text.includes('"media_type":"image/png"'));
      if (provider === 'gemini') assert.ok(text.includes('"mimeType":"image/png"'));
    });

    test('response_format json_schema: the provider is asked for the schema, the client gets JSON content', async () => {
      e2e.fake.script({ text: '{"name":"Ada","age":36}' }, { provider });
      const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
      const res = await e2e.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Who wrote the first program?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      });
      assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { name: 'Ada', age: 36 });
      assert.equal(res.choices[0]!.finish_reason, 'stop');
      const got = lastReceived(provider).body;
      assert.ok(JSON.stringify(got).includes('"age":{"type":"integer"}'), 'the schema reached the provider');
      if (provider === 'anthropic') assert.equal(got.output_config.format.type, 'json_schema');
      if (provider === 'gemini') assert.equal(got.generationConfig.responseMimeType, 'application/json');
      if (provider === 'openai') assert.equal(got.response_format.json_schema.name, 'person');
    });

    test('reasoning_effort asks for thinking; thinking comes back as reasoning_content', async () => {
      e2e.fake.script({ reasoning: 'Let me think.', text: '42', usage: { input: 5, output: 20, reasoning: 15 } }, { provider });
      const res = await e2e.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Answer?' }],
        reasoning_effort: 'low',
        max_completion_tokens: 4000,
      });
      const message = res.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
      assert.equal(message.content, '42');
      if (provider !== 'openai') {
        assert.equal(message.reasoning_content, 'Let me think.');
        const got = lastReceived(provider).body;
        if (provider === 'anthropic') assert.deepEqual(got.thinking, { type: 'enabled', budget_tokens: 2048 });
        if (provider === 'gemini') assert.equal(got.generationConfig.thinkingConfig.thinkingBudget, 2048);
      } else {
        assert.equal(lastReceived(provider).body.reasoning_effort, 'low');
      }
      if (provider === 'gemini') assert.equal(res.usage?.completion_tokens_details?.reasoning_tokens, 15);
    });

    test('upstream 429 keeps its status and retry-after; 500 stays a 5xx; the provider is named', async () => {
      e2e.fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider });
      const err = await e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
      assert.equal(err.status, 429);
      assert.equal(err.headers?.get('retry-after'), '7');
      assert.match(err.message, new RegExp(provider));

      e2e.fake.fault({ kind: 'status', status: 500 }, { provider });
      await assert.rejects(e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 500);

      e2e.fake.fault({ kind: 'status', status: 401 }, { provider });
      await assert.rejects(e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401 && e.type === 'authentication_error');
    });

    test('a stream cut before any content is a plain HTTP error', async () => {
      e2e.fake.fault({ kind: 'cut', afterEvents: 0 }, { provider });
      await assert.rejects(e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], stream: true }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 502 && e.message.includes(provider));
    });

    test('a stream cut mid-way ends with an error the SDK raises, after the content sent so far', async () => {
      e2e.fake.script({ text: 'alpha beta gamma delta epsilon' }, { provider });
      // Cut after the first content event: Anthropic opens with message_start, a ping and content_block_start.
      e2e.fake.fault({ kind: 'cut', afterEvents: { openai: 2, anthropic: 4, gemini: 1 }[provider] }, { provider });
      const stream = await e2e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], stream: true });
      let content = '';
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
        })(),
        (e: Error) => /stream|ended|interrupted|terminated|socket|closed/i.test(e.message),
      );
      // The rejection above shows the stream did not finish; the content sent before the cut still arrived.
      assert.ok(content.startsWith('alpha'), `content before the cut reached the client: '${content}'`);
    });
  });
}

describe('parameters a provider cannot honour are refused, not dropped', () => {
  test('seed and n on Anthropic', async () => {
    for (const extra of [{ seed: 1 }, { n: 2 }]) {
      await assert.rejects(
        e2e.client.chat.completions.create({ model: PROVIDER_MODELS.anthropic, messages: [{ role: 'user', content: 'x' }], ...extra }),
        (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.message.includes(Object.keys(extra)[0]!),
      );
    }
  });
  test('audio parts on a translating provider', async () => {
    await assert.rejects(
      e2e.client.chat.completions.create({
        model: PROVIDER_MODELS.gemini,
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
      }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && /input_audio/.test(e.message),
    );
  });
});
