// The OpenAI SDK's Responses API (client.responses) against the real gateway process, in front of OpenAI (served
// natively: the body goes through untouched) and Anthropic and Gemini (translated to their own formats and back).
// Each case checks what the SDK got and what the provider received.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startFakeGateway } from '../helpers/fake-gateway.ts';

let fake: FakeProviders;
let client: OpenAI;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ fake, client, stop } = await startFakeGateway(
    (url) => `
server: { body_limit: 256kb }
logging: { level: warn }
providers:
  openai: { type: openai, api_key: sk-openai-fake, base_url: "${url}/openai/v1" }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${url}/anthropic" }
  gemini: { type: gemini, api_key: gemini-fake, base_url: "${url}/gemini" }
  local: { type: vllm, base_url: "${url}/openai/v1" }
models:
  - name: resilient
    strategy: fallback
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: anthropic, model: claude-sonnet-4-5 }
`,
  ));
});
after(() => stop?.());

const MODELS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4-5',
  gemini: 'gemini/gemini-2.5-flash',
} as const;
type Provider = keyof typeof MODELS;

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAABJRU5ErkJggg==';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

type APIError = InstanceType<typeof OpenAI.APIError>;

function lastReceived(provider: RecordedRequest['provider']): RecordedRequest {
  const list = fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list[list.length - 1]!;
}

/** An OpenAI target gets the body as the SDK sent it, to /responses, with only the model replaced. */
function assertUntouched(params: object): void {
  const got = lastReceived('openai');
  assert.equal(got.path, '/openai/v1/responses');
  assert.equal(got.headers.authorization, 'Bearer sk-openai-fake');
  assert.deepEqual(got.body, { ...params, model: 'gpt-4o-mini' });
}

async function events(stream: AsyncIterable<OpenAI.Responses.ResponseStreamEvent>): Promise<OpenAI.Responses.ResponseStreamEvent[]> {
  const out: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const ev of stream) out.push(ev);
  return out;
}

function functionCalls(response: OpenAI.Responses.Response): OpenAI.Responses.ResponseFunctionToolCall[] {
  return response.output.filter((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
}

for (const [provider, model] of Object.entries(MODELS) as [Provider, string][]) {
  describe(`OpenAI SDK responses -> gateway -> ${provider}${provider === 'openai' ? ' (native)' : ' (translated)'}`, () => {
    test('plain: instructions, multi-turn input, sampling and limits; usage in Responses naming', async () => {
      fake.script({ text: 'Bonjour!', usage: { input: 30, output: 4, cached: 10 } }, { provider });
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
        model,
        instructions: 'You are terse.',
        input: [
          { role: 'developer', content: 'Answer in French.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: [{ type: 'input_text', text: 'Greet me' }] },
        ],
        temperature: 0.2,
        max_output_tokens: 50,
      };
      const res = await client.responses.create(params).withResponse();
      const response = res.data;
      assert.equal(response.object, 'response');
      assert.match(response.id, /^resp_/);
      assert.equal(response.status, 'completed');
      assert.equal(response.output_text, 'Bonjour!');
      assert.equal(response.usage?.input_tokens, 30);
      assert.equal(response.usage?.output_tokens, 4);
      assert.equal(response.usage?.input_tokens_details.cached_tokens, 10);
      assert.equal(res.response.headers.get('x-switchboard-provider'), provider);

      if (provider === 'openai') return assertUntouched(params);
      const got = lastReceived(provider).body;
      const text = JSON.stringify(got);
      for (const s of ['You are terse.', 'Answer in French.', 'Hello.', 'Greet me']) assert.ok(text.includes(s), `${provider} did not receive '${s}'`);
      assert.ok(!text.includes('sk-client'));
      if (provider === 'anthropic') {
        assert.match(JSON.stringify(got.system), /You are terse\.[\s\S]*Answer in French\./);
        assert.deepEqual(got.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user']);
        assert.equal(got.max_tokens, 50);
        assert.equal(got.temperature, 0.2);
      } else {
        assert.deepEqual(got.contents.map((c: { role: string }) => c.role), ['user', 'model', 'user']);
        assert.equal(got.generationConfig.maxOutputTokens, 50);
      }
    });

    test('stream: created, in_progress, item and part events, text deltas, completed with usage', async () => {
      fake.script({ text: 'one two three four', usage: { input: 12, output: 4 } }, { provider });
      const params = { model, input: 'count', stream: true } as const;
      const all = await events(await client.responses.create(params));
      const types = all.map((e) => e.type);
      assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
      assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
      assert.deepEqual(all.map((e) => e.sequence_number), all.map((_, i) => i));
      const deltas = all.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === 'response.output_text.delta');
      assert.ok(deltas.length >= 2, 'text arrived in several deltas');
      assert.equal(deltas.map((d) => d.delta).join(''), 'one two three four');
      const added = all[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
      assert.ok(deltas.every((d) => d.item_id === added.item.id && d.output_index === 0 && d.content_index === 0));
      const completed = all.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      assert.equal(completed.response.status, 'completed');
      assert.equal(completed.response.usage?.input_tokens, 12);
      assert.equal(completed.response.usage?.output_tokens, 4);
      if (provider === 'openai') assertUntouched(params);
      else if (provider === 'anthropic') assert.equal(lastReceived(provider).body.stream, true);
      else assert.match(lastReceived(provider).path, /:streamGenerateContent$/);

      fake.script({ text: 'streamed helper' }, { provider });
      const final = await client.responses.stream({ model, input: 'again' }).finalResponse();
      assert.equal(final.status, 'completed');
      assert.equal(final.output.flatMap((o) => (o.type === 'message' ? o.content : [])).map((c) => (c.type === 'output_text' ? c.text : '')).join(''), 'streamed helper');
    });

    test('tools: a single call, non-stream', async () => {
      fake.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }, { provider });
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = { model, input: 'Weather in Paris?', tools: [WEATHER_TOOL], tool_choice: 'auto' };
      const res = await client.responses.create(params);
      const [call, ...more] = functionCalls(res);
      assert.equal(more.length, 0);
      assert.equal(call!.name, 'get_weather');
      assert.deepEqual(JSON.parse(call!.arguments), { city: 'Paris' });
      assert.ok(call!.call_id);
      if (provider === 'openai') return assertUntouched(params);
      const text = JSON.stringify(lastReceived(provider).body);
      assert.ok(text.includes('get_weather') && text.includes('Weather for a city'), 'the tool definition reached the provider');
    });

    test('tools: parallel calls, streamed and accumulated by the SDK', async () => {
      const calls = [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Rome' } },
      ];
      fake.script({ toolCalls: calls }, { provider });
      const stream = client.responses.stream({ model, input: 'Weather in Paris and Rome?', tools: [WEATHER_TOOL], parallel_tool_calls: true });
      const argumentDeltas: string[] = [];
      stream.on('response.function_call_arguments.delta', (e) => argumentDeltas.push(e.delta));
      const final = await stream.finalResponse();
      assert.equal(final.status, 'completed');
      assert.deepEqual(functionCalls(final).map((c) => [c.name, JSON.parse(c.arguments)]), calls.map((c) => [c.name, c.arguments]));
      assert.ok(functionCalls(final).every((c) => c.call_id && c.id?.startsWith('fc_')));
      assert.ok(argumentDeltas.length >= 2);
    });

    test('tools: function_call and function_call_output go back linked to their call', async () => {
      fake.script({ text: 'It is sunny in Paris.' }, { provider });
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
        model,
        tools: [WEATHER_TOOL],
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_1', output: '{"forecast":"sunny"}' },
        ],
      };
      const res = await client.responses.create(params);
      assert.equal(res.output_text, 'It is sunny in Paris.');
      if (provider === 'openai') return assertUntouched(params);
      const got = lastReceived(provider).body;
      assert.ok(JSON.stringify(got).includes('sunny'), 'the tool result reached the provider');
      if (provider === 'anthropic') {
        const blocks = got.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
        const use = blocks.find((b: { type: string }) => b.type === 'tool_use');
        const result = blocks.find((b: { type: string }) => b.type === 'tool_result');
        assert.equal(use.id, 'call_1');
        assert.equal(result.tool_use_id, 'call_1');
      } else {
        const parts = got.contents.flatMap((c: { parts: unknown[] }) => c.parts);
        const response = parts.find((p: { functionResponse?: unknown }) => p.functionResponse);
        assert.equal(response.functionResponse.name, 'get_weather');
        assert.deepEqual(response.functionResponse.response, { forecast: 'sunny' });
      }
    });

    test('images: input_image as a base64 data URL and an https URL', async () => {
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
        model,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is in these?' },
              { type: 'input_image', image_url: PNG_DATA_URL, detail: 'auto' },
              { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
            ],
          },
        ],
      };
      await client.responses.create(params);
      if (provider === 'openai') return assertUntouched(params);
      const text = JSON.stringify(lastReceived(provider).body);
      assert.ok(text.includes('iVBORw0KGgo'), 'the base64 image reached the provider');
      assert.ok(text.includes('https://example.com/cat.jpg'), 'the image URL reached the provider');
      if (provider === 'anthropic') assert.ok(text.includes('"media_type":"image/png"'));
      else assert.ok(text.includes('"mimeType":"image/png"'));
    });

    test('text.format json_schema: the provider is asked for the schema, the client gets JSON output_text', async () => {
      fake.script({ text: '{"name":"Ada","age":36}' }, { provider });
      const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
        model,
        input: 'Who wrote the first program?',
        text: { format: { type: 'json_schema', name: 'person', schema, strict: true } },
      };
      const res = await client.responses.create(params);
      assert.deepEqual(JSON.parse(res.output_text), { name: 'Ada', age: 36 });
      if (provider === 'openai') return assertUntouched(params);
      const got = lastReceived(provider).body;
      assert.ok(JSON.stringify(got).includes('"age":{"type":"integer"}'), 'the schema reached the provider');
      if (provider === 'anthropic') assert.equal(got.output_config.format.type, 'json_schema');
      else assert.equal(got.generationConfig.responseMimeType, 'application/json');
      assert.equal(res.text?.format?.type, 'json_schema');
    });

    test('reasoning: effort asks for thinking; the thinking comes back as a reasoning item with a summary', async () => {
      fake.script({ reasoning: 'Let me think.', text: '42', usage: { input: 5, output: 20, reasoning: 15 } }, { provider });
      const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = { model, input: 'Answer?', reasoning: { effort: 'low', summary: 'auto' }, max_output_tokens: 4000 };
      const res = await client.responses.create(params);
      assert.equal(res.output_text, '42');
      const reasoning = res.output.find((o): o is OpenAI.Responses.ResponseReasoningItem => o.type === 'reasoning');
      assert.equal(reasoning?.summary[0]?.text, 'Let me think.');
      // Anthropic does not count thinking tokens apart from the rest of the output.
      if (provider !== 'anthropic') assert.equal(res.usage?.output_tokens_details.reasoning_tokens, 15);
      if (provider === 'openai') return assertUntouched(params);
      const got = lastReceived(provider).body;
      if (provider === 'anthropic') assert.deepEqual(got.thinking, { type: 'enabled', budget_tokens: 2048 });
      else assert.equal(got.generationConfig.thinkingConfig.thinkingBudget, 2048);
    });

    test('errors: upstream 429 keeps its status and retry-after; 401 is an authentication error; the provider is named', async () => {
      fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider });
      const err = await client.responses.create({ model, input: 'x' }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e as APIError,
      );
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.headers?.get('retry-after'), '7');
      assert.match(err.message, new RegExp(provider));

      fake.fault({ kind: 'status', status: 401 }, { provider });
      await assert.rejects(client.responses.create({ model, input: 'x', stream: true }), (e: APIError) => e.status === 401 && e.type === 'authentication_error');
    });

    test('a stream cut before any content is a plain HTTP error', async () => {
      fake.fault({ kind: 'cut', afterEvents: { openai: 2, anthropic: 1, gemini: 0 }[provider] }, { provider });
      await assert.rejects(client.responses.create({ model, input: 'x', stream: true }), (e: APIError) => e.status === 502 && e.message.includes(provider));
    });

    test('a stream cut mid-way ends with an error event, numbered after the content sent so far', async () => {
      fake.script({ text: 'alpha beta gamma delta epsilon' }, { provider });
      // Cut after the first text delta: OpenAI's fifth event, Anthropic's fourth (after message_start, a ping and content_block_start).
      fake.fault({ kind: 'cut', afterEvents: { openai: 5, anthropic: 4, gemini: 1 }[provider] }, { provider });
      const all = await events(await client.responses.create({ model, input: 'x', stream: true }));
      const last = all.at(-1) as OpenAI.Responses.ResponseErrorEvent;
      assert.equal(last.type, 'error');
      assert.match(String(last.code), /^(stream_interrupted|upstream_connection_lost)$/);
      assert.match(last.message, new RegExp(provider));
      assert.equal(last.param, null);
      assert.equal(last.sequence_number, all.length - 1);
      const text = all.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
      assert.ok(text.startsWith('alpha'), `content before the cut reached the client: '${text}'`);

      fake.script({ text: 'alpha beta gamma delta epsilon' }, { provider });
      fake.fault({ kind: 'cut', afterEvents: { openai: 5, anthropic: 4, gemini: 1 }[provider] }, { provider });
      await assert.rejects(client.responses.stream({ model, input: 'x' }).finalResponse(), (e: { type?: string; message?: string }) => e.type === 'error' && new RegExp(provider).test(e.message ?? ''));
    });
  });
}

describe('what only OpenAI can provide', () => {
  test('translated targets refuse stored state and built-in tools with a 400 that says why', async () => {
    const cases: [Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming>, string][] = [
      [{ store: true }, 'store'],
      [{ previous_response_id: 'resp_123' }, 'previous_response_id'],
      [{ background: true }, 'background'],
      [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'tools[0].type'],
    ];
    for (const model of [MODELS.anthropic, MODELS.gemini]) {
      for (const [extra, param] of cases) {
        await assert.rejects(client.responses.create({ model, input: 'x', ...extra }), (e: APIError) => {
          assert.equal(e.status, 400, JSON.stringify(extra));
          assert.equal(e.param, param);
          assert.equal(e.code, 'unsupported_parameter');
          assert.match(e.message, /OpenAI/);
          return true;
        });
      }
    }
  });

  test('the same request goes to OpenAI untouched', async () => {
    const params: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
      model: MODELS.openai,
      input: 'x',
      store: true,
      previous_response_id: 'resp_123',
      tools: [{ type: 'web_search' }],
      include: ['web_search_call.action.sources'],
    };
    await client.responses.create(params);
    assertUntouched(params);
  });

  test('an invalid request is a 400 in the OpenAI error shape', async () => {
    await assert.rejects(client.responses.create({ model: MODELS.anthropic, input: 'x', temperature: 7 }), (e: APIError) => e.status === 400 && e.param === 'temperature' && e.type === 'invalid_request_error');
    await assert.rejects(client.responses.create({ input: 'x' } as never), (e: APIError) => e.status === 400 && e.param === 'model');
    await assert.rejects(client.responses.create({ model: 'nope-model', input: 'x' }), (e: APIError) => e.status === 404 && e.code === 'model_not_found');
  });
});

describe('routing', () => {
  test('an OpenAI-compatible preset is translated to chat completions', async () => {
    fake.script({ text: 'from vllm' }, { provider: 'openai' });
    const res = await client.responses.create({ model: 'local/qwen3', input: 'hi', instructions: 'Be brief.' });
    assert.equal(res.output_text, 'from vllm');
    const got = lastReceived('openai');
    assert.equal(got.path, '/openai/v1/chat/completions');
    assert.deepEqual(got.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  test('failover from a native target to a translated one, streamed', async () => {
    fake.fault({ kind: 'status', status: 500 }, { provider: 'openai' });
    fake.script({ text: 'from claude' }, { provider: 'anthropic' });
    const stream = await client.responses.create({ model: 'resilient', input: 'hi', stream: true }).withResponse();
    assert.equal(stream.response.headers.get('x-switchboard-provider'), 'anthropic');
    const all = await events(stream.data);
    assert.equal(all.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join(''), 'from claude');
    assert.equal(all.at(-1)!.type, 'response.completed');
  });
});
