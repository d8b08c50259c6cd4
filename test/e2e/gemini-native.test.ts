// The Google GenAI SDK (@google/genai) against the real gateway process on its Gemini surface, in front of each
// provider type: Gemini natively (the fake must receive exactly what the SDK sent), OpenAI and Anthropic translated
// (the fake must receive the equivalent request in its own wire format).

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type, type Content, type FunctionDeclaration, type GenerateContentResponse } from '@google/genai';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

const MASTER_KEY = 'sb-gemini-e2e-master';

const PROVIDERS = {
  gemini: 'gemini-2.5-flash',
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4-5',
} as const;

type Provider = keyof typeof PROVIDERS;

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const WEATHER: FunctionDeclaration = {
  name: 'get_weather',
  description: 'Weather for a city',
  parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const TIME: FunctionDeclaration = {
  name: 'get_time',
  description: 'Local time in a city',
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
};

let fake: FakeProviders;
let gateway: RunningGateway;
let ai: GoogleGenAI;
/** The bodies the SDK sent to the gateway, in order. */
const sent: unknown[] = [];

before(async () => {
  fake = await startFakeProviders();
  gateway = await startGateway({
    config: `
server: { body_limit: 256kb }
logging: { level: warn }
auth: { master_key: ${MASTER_KEY} }
providers:
  openai: { type: openai, api_key: sk-openai-fake, base_url: "${fake.url}/openai/v1", models: [text-embedding-3-small] }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${fake.url}/anthropic" }
  gemini: { type: gemini, api_key: gemini-fake, base_url: "${fake.url}/gemini" }
models:
  - name: resilient
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: gemini, model: gemini-2.5-flash }
`,
  });
  ai = client(MASTER_KEY);
});
after(async () => {
  await gateway.stop();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  sent.length = 0;
});

function client(apiKey: string): GoogleGenAI {
  const recording: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
    return fetch(input, init);
  };
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gateway.url, fetch: recording } });
}

function lastReceived(provider: Provider): RecordedRequest {
  const list = fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list.at(-1)!;
}

/** A native target must receive the SDK's body untouched, under the provider's own key. */
function assertUntouched(got: RecordedRequest): void {
  assert.deepEqual(got.body, sent.at(-1));
  assert.equal(got.headers['x-goog-api-key'], 'gemini-fake');
}

/** The ApiError the SDK raised, with the Gemini error body it carried. */
async function apiError(promise: Promise<unknown>): Promise<{ status: number; body: { error: { code: number; message: string; status: string } } }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    const json = err.message.slice(err.message.indexOf('{'));
    return { status: err.status, body: JSON.parse(json) };
  }
  assert.fail('the call succeeded');
}

async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

for (const [provider, model] of Object.entries(PROVIDERS) as [Provider, string][]) {
  describe(`Google GenAI SDK -> gateway -> ${provider}`, () => {
    test('generateContent: system instruction, multi-turn, generation config, usage', async () => {
      fake.script({ text: 'Bonjour!', usage: { input: 30, output: 4, cached: 10 } }, { provider });
      const res = await ai.models.generateContent({
        model,
        contents: [
          { role: 'user', parts: [{ text: 'Hi' }] },
          { role: 'model', parts: [{ text: 'Hello.' }] },
          { role: 'user', parts: [{ text: 'Greet me' }] },
        ],
        config: { systemInstruction: 'You are terse.', temperature: 0.2, maxOutputTokens: 50, stopSequences: ['END'] },
      });
      assert.equal(res.text, 'Bonjour!');
      assert.equal(res.candidates?.[0]?.finishReason, 'STOP');
      assert.deepEqual(
        { ...res.usageMetadata, promptTokensDetails: undefined },
        { promptTokenCount: 30, candidatesTokenCount: 4, totalTokenCount: 34, cachedContentTokenCount: 10, promptTokensDetails: undefined },
      );
      assert.equal(res.sdkHttpResponse?.headers?.['x-switchboard-provider'], provider);

      const got = lastReceived(provider);
      if (provider === 'gemini') {
        assertUntouched(got);
        assert.match(got.path, /\/models\/gemini-2\.5-flash:generateContent$/);
      } else if (provider === 'openai') {
        assert.equal(got.headers.authorization, 'Bearer sk-openai-fake');
        assert.deepEqual(got.body.messages, [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: 'Greet me' },
        ]);
        assert.equal(got.body.max_completion_tokens, 50);
        assert.equal(got.body.temperature, 0.2);
        assert.deepEqual(got.body.stop, ['END']);
      } else {
        assert.match(JSON.stringify(got.body.system), /You are terse\./);
        assert.deepEqual(got.body.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user']);
        assert.equal(got.body.max_tokens, 50);
        assert.deepEqual(got.body.stop_sequences, ['END']);
      }
    });

    test('generateContentStream: text in slices, finish reason and usage on the last chunk', async () => {
      fake.script({ text: 'one two three four five six', usage: { input: 12, output: 6 } }, { provider });
      const chunks = await collect(await ai.models.generateContentStream({ model, contents: 'Count to six' }));
      assert.ok(chunks.length > 1, 'the answer came in one piece');
      assert.equal(chunks.map((c) => c.text ?? '').join(''), 'one two three four five six');
      const last = chunks.at(-1)!;
      assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
      assert.equal(last.usageMetadata?.promptTokenCount, 12);
      assert.equal(last.usageMetadata?.totalTokenCount, 18);
      const got = lastReceived(provider);
      if (provider === 'gemini') {
        assertUntouched(got);
        assert.match(got.path, /:streamGenerateContent$/);
        assert.equal(got.query.alt, 'sse');
      } else if (provider === 'openai') {
        assert.equal(got.body.stream, true);
        assert.deepEqual(got.body.stream_options, { include_usage: true });
      } else {
        assert.equal(got.body.stream, true);
      }
    });

    test('tools: parallel function calls, then their responses round trip', async () => {
      fake.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Rome' } }] }, { provider });
      const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] };
      const tools = [{ functionDeclarations: [WEATHER, TIME] }];
      const first = await ai.models.generateContent({
        model,
        contents: [question],
        config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } } },
      });
      const calls = first.functionCalls ?? [];
      assert.deepEqual(calls.map((c) => [c.name, c.args]), [['get_weather', { city: 'Paris' }], ['get_weather', { city: 'Rome' }]]);
      assert.equal(first.candidates?.[0]?.finishReason, 'STOP');
      let got = lastReceived(provider);
      if (provider === 'openai') {
        assert.equal(got.body.tool_choice, 'auto');
        assert.deepEqual(got.body.tools[1].function.parameters, { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
      } else if (provider === 'anthropic') {
        assert.deepEqual(got.body.tools.map((t: { name: string }) => t.name), ['get_weather', 'get_time']);
      }

      fake.script({ text: 'Sunny in Paris, rain in Rome.' }, { provider });
      const answer = await ai.models.generateContent({
        model,
        contents: [
          question,
          first.candidates![0]!.content!,
          {
            role: 'user',
            parts: calls.map((c, i) => ({ functionResponse: { ...(c.id !== undefined && { id: c.id }), name: c.name!, response: { output: i === 0 ? 'sunny' : 'rain' } } })),
          },
        ],
        config: { tools },
      });
      assert.equal(answer.text, 'Sunny in Paris, rain in Rome.');
      got = lastReceived(provider);
      if (provider === 'gemini') {
        assertUntouched(got);
      } else if (provider === 'openai') {
        const [, assistant, ...results] = got.body.messages;
        assert.equal(assistant.tool_calls.length, 2);
        assert.deepEqual(
          results.map((m: { role: string; tool_call_id: string; content: string }) => [m.role, m.tool_call_id, m.content]),
          [
            ['tool', assistant.tool_calls[0].id, '{"output":"sunny"}'],
            ['tool', assistant.tool_calls[1].id, '{"output":"rain"}'],
          ],
        );
      } else {
        const [, assistant, user] = got.body.messages;
        const uses = assistant.content.filter((b: { type: string }) => b.type === 'tool_use');
        const results = user.content.filter((b: { type: string }) => b.type === 'tool_result');
        assert.equal(uses.length, 2);
        assert.deepEqual(results.map((r: { tool_use_id: string }) => r.tool_use_id), uses.map((u: { id: string }) => u.id));
      }
    });

    test('tools streamed: each function call arrives whole, with its arguments as an object', async () => {
      fake.script({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: { city: 'Rome' } }] }, { provider });
      const chunks = await collect(await ai.models.generateContentStream({ model, contents: 'Weather in Paris, time in Rome?', config: { tools: [{ functionDeclarations: [WEATHER, TIME] }] } }));
      const calls = chunks.flatMap((c) => c.functionCalls ?? []);
      assert.deepEqual(calls.map((c) => [c.name, c.args]), [['get_weather', { city: 'Paris' }], ['get_time', { city: 'Rome' }]]);
      assert.equal(chunks.at(-1)!.candidates?.[0]?.finishReason, 'STOP');
      assert.ok(chunks.at(-1)!.usageMetadata?.totalTokenCount);
    });

    test('images: inlineData', async () => {
      fake.script({ text: 'A red pixel.' }, { provider });
      const res = await ai.models.generateContent({
        model,
        contents: [{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }] }],
      });
      assert.equal(res.text, 'A red pixel.');
      const got = lastReceived(provider);
      if (provider === 'gemini') assertUntouched(got);
      else if (provider === 'openai') {
        assert.deepEqual(got.body.messages[0].content, [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
        ]);
      } else {
        assert.deepEqual(got.body.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } });
      }
    });

    test('JSON output with a response schema', async () => {
      fake.script({ text: '{"answer":"42"}' }, { provider });
      const res = await ai.models.generateContent({
        model,
        contents: 'The answer?',
        config: { responseMimeType: 'application/json', responseSchema: { type: Type.OBJECT, properties: { answer: { type: Type.STRING } }, required: ['answer'] } },
      });
      assert.deepEqual(JSON.parse(res.text!), { answer: '42' });
      const got = lastReceived(provider);
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      if (provider === 'gemini') assertUntouched(got);
      else if (provider === 'openai') assert.deepEqual(got.body.response_format, { type: 'json_schema', json_schema: { name: 'response', schema } });
      else assert.equal(got.body.output_config.format.type, 'json_schema');
    });

    test('errors: an upstream 429 is RESOURCE_EXHAUSTED; a stream cut midway ends in an error the SDK raises', async () => {
      fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider });
      const limited = await apiError(ai.models.generateContent({ model, contents: 'Hi' }));
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.status, 'RESOURCE_EXHAUSTED');
      assert.equal(limited.body.error.code, 429);

      fake.script({ text: 'this answer will be cut before it is complete' }, { provider });
      fake.fault({ kind: 'cut', afterEvents: provider === 'anthropic' ? 4 : 2 }, { provider });
      const cut = await apiError(collect(await ai.models.generateContentStream({ model, contents: 'Tell me' })));
      assert.equal(cut.status, 502);
      assert.equal(cut.body.error.status, 'UNAVAILABLE');
    });
  });
}

describe('Google GenAI SDK -> gateway: the rest of the surface', () => {
  test('a fallback route serves Gemini clients from the next target, natively', async () => {
    fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
    const res = await ai.models.generateContent({ model: 'resilient', contents: 'Hi there' });
    assert.equal(res.text, 'Echo: Hi there');
    assert.equal(res.sdkHttpResponse?.headers?.['x-switchboard-provider'], 'gemini');
    assertUntouched(lastReceived('gemini'));
  });

  test('what a target cannot honour is a 400 INVALID_ARGUMENT naming it; topK reaches OpenAI-wire servers', async () => {
    const topK = await apiError(ai.models.generateContent({ model: PROVIDERS.anthropic, contents: 'Hi', config: { topK: 40 } }));
    assert.equal(topK.status, 400);
    assert.equal(topK.body.error.status, 'INVALID_ARGUMENT');
    assert.match(topK.body.error.message, /top_k/);
    const candidates = await apiError(ai.models.generateContent({ model: PROVIDERS.anthropic, contents: 'Hi', config: { candidateCount: 2 } }));
    assert.equal(candidates.status, 400);
    const search = await apiError(ai.models.generateContent({ model: PROVIDERS.openai, contents: 'Hi', config: { tools: [{ googleSearch: {} }] } }));
    assert.equal(search.status, 400);
    assert.match(search.body.error.message, /tools\[0\]\.googleSearch/);
    assert.equal(fake.received.length, 0);

    await ai.models.generateContent({ model: PROVIDERS.openai, contents: 'Hi', config: { topK: 40 } });
    assert.equal(lastReceived('openai').body.top_k, 40);
  });

  test('auth by x-goog-api-key; unknown models and methods are NOT_FOUND', async () => {
    const denied = await apiError(client('wrong-key').models.generateContent({ model: PROVIDERS.gemini, contents: 'Hi' }));
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error.status, 'UNAUTHENTICATED');
    const missing = await apiError(ai.models.generateContent({ model: 'no-such-model', contents: 'Hi' }));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.status, 'NOT_FOUND');

    const headers = { 'content-type': 'application/json', 'x-goog-api-key': MASTER_KEY };
    const unknown = await fetch(`${gateway.url}/v1beta/models/${PROVIDERS.gemini}:summonDragons`, { method: 'POST', headers, body: '{}' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    const noSse = await fetch(`${gateway.url}/v1beta/models/${PROVIDERS.gemini}:streamGenerateContent`, { method: 'POST', headers, body: '{"contents":[]}' });
    assert.equal(noSse.status, 400);
    assert.equal(fake.received.length, 0);
  });

  test('countTokens: Gemini counts; other providers get an estimate', async () => {
    const native = await ai.models.countTokens({ model: PROVIDERS.gemini, contents: 'How many tokens is this?' });
    assert.ok(native.totalTokens! > 1000, 'the fake Gemini count adds 1000');
    assertUntouched(lastReceived('gemini'));
    const estimated = await ai.models.countTokens({ model: PROVIDERS.openai, contents: 'How many tokens is this?' });
    assert.ok(estimated.totalTokens! > 0 && estimated.totalTokens! < 100);
    assert.equal(fake.received.filter((r) => r.provider === 'openai').length, 0);
  });

  test('embedContent: natively to Gemini, translated to OpenAI', async () => {
    const native = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'], config: { taskType: 'RETRIEVAL_QUERY' } });
    assert.equal(native.embeddings?.length, 2);
    assertUntouched(lastReceived('gemini'));

    const translated = await ai.models.embedContent({ model: 'openai/text-embedding-3-small', contents: ['alpha', 'beta'], config: { outputDimensionality: 8 } });
    assert.equal(translated.embeddings?.length, 2);
    assert.equal(translated.embeddings?.[0]?.values?.length, 8);
    const got = lastReceived('openai');
    assert.deepEqual(got.body.input, ['alpha', 'beta']);
    assert.equal(got.body.dimensions, 8);
  });

  test('models.list and models.get', async () => {
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name!);
    assert.ok(names.includes('models/resilient'), names.join(', '));
    assert.ok(names.includes('models/openai/text-embedding-3-small'), names.join(', '));
    const one = await ai.models.get({ model: 'resilient' });
    assert.equal(one.name, 'models/resilient');
  });
});
