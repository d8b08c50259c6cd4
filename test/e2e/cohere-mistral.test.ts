// The OpenAI SDK against the real gateway process in front of Cohere (v2 chat and embed) and Mistral, both fakes
// speaking their real wire formats. The Mistral fake enforces what Mistral enforces (9-character tool-call ids, 'any'
// rather than 'required', no unknown fields), so a request it accepts proves the gateway translated it.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  fake = await startFakeProviders();
  const config = `
logging: { level: warn }
providers:
  cohere: { type: cohere, api_key: \${CO_KEY}, base_url: "${fake.url}/cohere" }
  mistral: { type: mistral, api_key: mistral-fake, base_url: "${fake.url}/mistral/v1" }
`;
  gateway = await startGateway({ config, env: { CO_KEY: 'co-fake' } });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});

after(async () => {
  await gateway.stop();
  await fake.close();
});

beforeEach(() => fake.reset());

const MODELS = { cohere: 'cohere/command-a-03-2025', mistral: 'mistral/mistral-large-latest' } as const;
type Provider = keyof typeof MODELS;

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAABJRU5ErkJggg==';

function lastReceived(provider: Provider): RecordedRequest {
  const list = fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list.at(-1)!;
}

type Reasoned = { reasoning_content?: string };

for (const provider of ['cohere', 'mistral'] as const) {
  const model = MODELS[provider];

  describe(`OpenAI SDK -> gateway -> ${provider}`, () => {
    test('chat: system, developer and multi-turn messages, sampling parameters, usage', async () => {
      fake.script({ text: 'Bonjour!', usage: { input: 30, output: 4, cached: 10 } }, { provider });
      const res = await client.chat.completions
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
          seed: 42,
        })
        .withResponse();
      assert.equal(res.data.choices[0]!.message.content, 'Bonjour!');
      assert.equal(res.data.choices[0]!.finish_reason, 'stop');
      assert.equal(res.data.usage!.prompt_tokens, 30);
      assert.equal(res.data.usage!.completion_tokens, 4);
      assert.equal(res.response.headers.get('x-switchboard-provider'), provider);

      const got = lastReceived(provider);
      if (provider === 'cohere') {
        assert.equal(got.path, '/cohere/v2/chat');
        assert.equal(got.headers.authorization, 'Bearer co-fake');
        assert.equal(res.data.usage!.prompt_tokens_details?.cached_tokens, 10);
        assert.deepEqual(
          got.body.messages.map((m: { role: string }) => m.role),
          ['system', 'user', 'assistant', 'user'],
        );
        assert.equal(got.body.messages[0].content, 'You are terse.\n\nAnswer in French.');
        assert.deepEqual([got.body.max_tokens, got.body.temperature, got.body.seed, got.body.stop_sequences], [50, 0.2, 42, ['END']]);
      } else {
        assert.equal(got.path, '/mistral/v1/chat/completions');
        assert.equal(got.headers.authorization, 'Bearer mistral-fake');
        assert.deepEqual(
          got.body.messages.map((m: { role: string }) => m.role),
          ['system', 'system', 'user', 'assistant', 'user'],
        );
        assert.deepEqual([got.body.max_tokens, got.body.temperature, got.body.random_seed, got.body.stop], [50, 0.2, 42, ['END']]);
        assert.equal(got.body.seed, undefined);
      }
    });

    test('stream: role first, content deltas, finish_reason, usage when asked', async () => {
      fake.script({ text: 'one two three four', usage: { input: 12, output: 4 } }, { provider });
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'count' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let role: string | undefined;
      let content = '';
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        role ??= chunk.choices[0]?.delta.role;
        content += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage ??= chunk.usage;
      }
      assert.equal(role, 'assistant');
      assert.equal(content, 'one two three four');
      assert.equal(finish, 'stop');
      assert.equal(usage?.prompt_tokens, 12);
      assert.equal(usage?.completion_tokens, 4);
      if (provider === 'mistral') assert.equal(lastReceived(provider).body.stream_options, undefined);
    });

    test('tools: parallel calls, whole and streamed (accumulated by the SDK), tool_choice required', async () => {
      const calls = [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Rome' } },
      ];
      const asked = { model, messages: [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }], tools: [WEATHER_TOOL] };
      fake.script({ toolCalls: calls, reasoning: 'Both cities.' }, { provider });
      const res = await client.chat.completions.create({ ...asked, tool_choice: 'required' });
      assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
      const toolCalls = res.choices[0]!.message.tool_calls!;
      assert.deepEqual(
        toolCalls.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [])),
        calls.map((c) => [c.name, c.arguments]),
      );
      assert.ok(toolCalls.every((c) => c.id && c.type === 'function'));
      assert.equal((res.choices[0]!.message as Reasoned).reasoning_content, 'Both cities.');
      assert.equal(lastReceived(provider).body.tool_choice, provider === 'cohere' ? 'REQUIRED' : 'any');

      fake.script({ toolCalls: calls }, { provider });
      const final = await client.chat.completions.stream(asked).finalChatCompletion();
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(
        final.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [])),
        calls.map((c) => [c.name, c.arguments]),
      );
    });

    test('tool results: calls with ids minted by other providers go back linked to their results', async () => {
      fake.script({ text: 'Warmer in Rome.' }, { provider });
      const res = await client.chat.completions.create({
        model,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_PTLP8xhu3uwZk4l3nlnrrJha', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_PTLP8xhu3uwZk4l3nlnrrJha', content: '{"celsius":18}' },
          { role: 'tool', tool_call_id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', content: '{"celsius":24}' },
        ],
      });
      assert.equal(res.choices[0]!.message.content, 'Warmer in Rome.');
      const messages: { role: string; tool_calls?: { id: string }[]; tool_call_id?: string; content?: unknown }[] = lastReceived(provider).body.messages;
      const callIds = messages.find((m) => m.tool_calls)!.tool_calls!.map((c) => c.id);
      const resultIds = messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id);
      assert.deepEqual(resultIds, callIds);
      if (provider === 'mistral') assert.ok(callIds.every((id) => /^[a-zA-Z0-9]{9}$/.test(id)), `ids sent to Mistral: ${callIds.join(', ')}`);
      else assert.deepEqual(callIds, ['call_PTLP8xhu3uwZk4l3nlnrrJha', 'toolu_01T1x1fJ34qAmk2tNTrN7Up6']);
      assert.ok(JSON.stringify(messages).includes('celsius'));
    });

    test('response_format json_schema: the schema reaches the provider, the client gets JSON content', async () => {
      fake.script({ text: '{"name":"Ada","age":36}' }, { provider });
      const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
      const res = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Who wrote the first program?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      });
      assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { name: 'Ada', age: 36 });
      const format = lastReceived(provider).body.response_format;
      if (provider === 'cohere') assert.deepEqual(format, { type: 'json_object', json_schema: schema });
      else assert.deepEqual(format, { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } });
    });

    test('reasoning comes back as reasoning_content, whole and streamed, and goes back in the history', async () => {
      fake.script({ reasoning: 'Two plus two.', text: '4' }, { provider });
      const res = await client.chat.completions.create({ model, messages: [{ role: 'user', content: '2+2?' }], reasoning_effort: 'low' });
      assert.equal(res.choices[0]!.message.content, '4');
      assert.equal((res.choices[0]!.message as Reasoned).reasoning_content, 'Two plus two.');

      fake.script({ reasoning: 'Doubling.', text: '8' }, { provider });
      const stream = await client.chat.completions.create({
        model,
        stream: true,
        messages: [
          { role: 'user', content: '2+2?' },
          { role: 'assistant', content: '4', reasoning_content: 'Two plus two.' } as OpenAI.Chat.ChatCompletionAssistantMessageParam,
          { role: 'user', content: 'Doubled?' },
        ],
      });
      let reasoning = '';
      let content = '';
      for await (const chunk of stream) {
        reasoning += (chunk.choices[0]?.delta as Reasoned | undefined)?.reasoning_content ?? '';
        content += chunk.choices[0]?.delta.content ?? '';
      }
      assert.equal(reasoning, 'Doubling.');
      assert.equal(content, '8');
      const history = lastReceived(provider).body.messages[1];
      if (provider === 'cohere') assert.deepEqual(history.content, [{ type: 'thinking', thinking: 'Two plus two.' }, { type: 'text', text: '4' }]);
      else assert.deepEqual(history.content, [{ type: 'thinking', thinking: [{ type: 'text', text: 'Two plus two.' }] }, { type: 'text', text: '4' }]);
    });

    test('upstream errors keep their status and retry-after, in the OpenAI shape, naming the provider', async () => {
      fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider });
      const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.headers?.get('retry-after'), '7');
      assert.match(err.message, new RegExp(`${provider}: Injected fault: HTTP 429`));

      fake.fault({ kind: 'status', status: 503 }, { provider });
      await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 503);
    });
  });
}

describe('cohere specifics', () => {
  test('images: base64 data URL and https URL as image_url parts', async () => {
    await client.chat.completions.create({
      model: MODELS.cohere,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          ],
        },
      ],
    });
    assert.deepEqual(lastReceived('cohere').body.messages[0].content.slice(1), [
      { type: 'image_url', image_url: { url: PNG_DATA_URL } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
    ]);
  });

  test('embeddings: the SDK default (base64) and floats; input_type passes through as an extra field', async () => {
    const res = await client.embeddings.create({ model: 'embed-v4.0', input: ['hello', 'goodbye'] });
    assert.equal(res.data.length, 2);
    assert.equal(res.data[0]!.embedding.length, 8);
    assert.ok(res.usage.prompt_tokens > 0);
    assert.deepEqual(lastReceived('cohere').body, { model: 'embed-v4.0', texts: ['hello', 'goodbye'], input_type: 'search_document', embedding_types: ['float'] });

    const floats = await client.embeddings.create({
      model: 'cohere/embed-v4.0',
      input: 'hello',
      encoding_format: 'float',
      input_type: 'search_query',
    } as OpenAI.EmbeddingCreateParams);
    assert.equal(lastReceived('cohere').body.input_type, 'search_query');
    // The same text, as floats this time: the base64 the gateway packed for the SDK held the same vector (as float32).
    floats.data[0]!.embedding.forEach((x, i) => assert.ok(Math.abs(x - res.data[0]!.embedding[i]!) < 1e-6));
  });

  test('a parameter Cohere cannot honour is refused before anything is sent; a cut stream is an error', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: MODELS.cohere, messages: [{ role: 'user', content: 'x' }], n: 2 }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.message.includes("'n'"),
    );
    assert.equal(fake.received.length, 0);

    fake.script({ text: 'alpha beta gamma delta epsilon' }, { provider: 'cohere' });
    fake.fault({ kind: 'cut', afterEvents: 3 }, { provider: 'cohere' });
    const stream = await client.chat.completions.create({ model: MODELS.cohere, messages: [{ role: 'user', content: 'x' }], stream: true });
    let content = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
      })(),
      (e: Error) => /stream|ended|interrupted|terminated|socket|closed/i.test(e.message),
    );
    assert.ok(content.startsWith('alpha'), `content before the cut reached the client: '${content}'`);
  });
});

describe('mistral specifics', () => {
  test("Mistral's own fields go through; its validation errors reach the client with the field named", async () => {
    fake.script({ text: 'ok' }, { provider: 'mistral' });
    await client.chat.completions.create({
      model: MODELS.mistral,
      messages: [{ role: 'user', content: 'x' }],
      safe_prompt: true,
      prompt_mode: 'reasoning',
    } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    assert.equal(lastReceived('mistral').body.safe_prompt, true);
    assert.equal(lastReceived('mistral').body.prompt_mode, 'reasoning');

    await assert.rejects(
      client.chat.completions.create({ model: MODELS.mistral, messages: [{ role: 'user', content: 'x' }], user: 'u-1' }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 422 && e.param === 'user' && e.message.endsWith('mistral: user: Extra inputs are not permitted'),
    );
  });
});
