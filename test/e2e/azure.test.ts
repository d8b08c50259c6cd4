// The OpenAI SDK against the real gateway process in front of Azure OpenAI providers (the fake speaking Azure's wire
// format): api-key and Microsoft Entra ID auth, the deployments API and the v1 API. Each case checks what the SDK got
// and what Azure (and its token endpoint) received.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { FAKE_ENTRA_SECRET, fakeEntraToken } from '../fake-providers/azure.ts';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

const STATIC_TOKEN = fakeEntraToken({ tid: 'contoso-tenant', appid: 'elsewhere', exp: Math.floor(Date.now() / 1000) + 86_400 });

before(async () => {
  fake = await startFakeProviders();
  const base = `${fake.url}/azure`;
  const entra = (secret: string) =>
    `{ tenant_id: contoso-tenant, client_id: gateway-app, client_secret: ${secret}, authority_host: "${fake.url}/azure/login" }`;
  const config = `
logging: { level: warn }
providers:
  az-key:
    type: azure-openai
    api_key: \${AZURE_KEY}
    base_url: "${base}"
    deployments: { gpt-4o: prod-4o, text-embedding-3-small: embed-small }
  az-entra:
    type: azure-openai
    base_url: "${base}"
    api_version: "2025-04-01-preview"
    entra: ${entra('${ENTRA_SECRET}')}
  az-v1: { type: azure-openai, api_key: azure-fake-key, base_url: "${base}/openai/v1", api_version: v1 }
  az-token: { type: azure-openai, base_url: "${base}", azure_ad_token: "${STATIC_TOKEN}" }
  az-bad-entra: { type: azure-openai, base_url: "${base}", entra: ${entra('wrong-secret')} }
`;
  gateway = await startGateway({ config, env: { AZURE_KEY: 'azure-fake-key', ENTRA_SECRET: FAKE_ENTRA_SECRET } });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});

after(async () => {
  await gateway.stop();
  await fake.close();
});

beforeEach(() => fake.reset());

const modelCalls = (): RecordedRequest[] => fake.received.filter((r) => r.path.startsWith('/azure/openai/'));
const tokenCalls = (): RecordedRequest[] => fake.received.filter((r) => r.path.startsWith('/azure/login/'));
const lastCall = (): RecordedRequest => {
  const calls = modelCalls();
  assert.ok(calls.length > 0, 'the azure fake received no model call');
  return calls.at(-1)!;
};

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('OpenAI SDK -> gateway -> Azure OpenAI', () => {
  test('chat with an api-key: the deployments API, the mapped deployment, the GA api-version, the key in api-key', async () => {
    fake.script({ text: 'Bonjour!', usage: { input: 20, output: 3, cached: 8 } }, { provider: 'azure' });
    const res = await client.chat.completions
      .create({
        model: 'az-key/gpt-4o',
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'Greet me' },
        ],
        temperature: 0.2,
        max_completion_tokens: 20,
      })
      .withResponse();
    assert.equal(res.data.choices[0]!.message.content, 'Bonjour!');
    assert.equal(res.data.choices[0]!.finish_reason, 'stop');
    assert.equal(res.data.usage!.prompt_tokens_details?.cached_tokens, 8);
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'az-key');

    const got = lastCall();
    assert.equal(got.path, '/azure/openai/deployments/prod-4o/chat/completions');
    assert.deepEqual(got.query, { 'api-version': '2024-10-21' });
    assert.equal(got.headers['api-key'], 'azure-fake-key');
    assert.equal(got.headers.authorization, undefined);
    assert.equal(got.body.model, 'prod-4o');
    assert.equal(got.body.max_completion_tokens, 20);
    assert.ok(!JSON.stringify(got).includes('sk-client'), 'the client key never reaches Azure');
  });

  test('stream with Entra ID: one token for several calls, prompt and filter annotations never reach the client', async () => {
    fake.script({ text: 'one two three four', usage: { input: 12, output: 4 } }, { provider: 'azure' });
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'az-entra/gpt-4o',
        messages: [{ role: 'user', content: 'count' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.ok(chunks.every((c) => c.id && c.object === 'chat.completion.chunk'), 'every chunk is a real chunk');
    assert.ok(chunks.every((c) => c.choices.length > 0 || c.usage), 'no chunk without choices except the usage chunk');
    assert.ok(chunks.every((c) => c.choices.every((ch) => ch.delta)), 'every choice has a delta');
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'one two three four');
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]!.finish_reason, 'stop');
    assert.equal(chunks.at(-1)!.usage?.total_tokens, 16);

    const got = lastCall();
    assert.equal(got.path, '/azure/openai/deployments/gpt-4o/chat/completions');
    assert.deepEqual(got.query, { 'api-version': '2025-04-01-preview' });
    assert.match(got.headers.authorization ?? '', /^Bearer fake-entra\./);
    assert.equal(got.headers['api-key'], undefined);

    const tokens = tokenCalls();
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0]!.path, '/azure/login/contoso-tenant/oauth2/v2.0/token');
    assert.deepEqual(tokens[0]!.body, {
      grant_type: 'client_credentials',
      client_id: 'gateway-app',
      client_secret: FAKE_ENTRA_SECRET,
      scope: 'https://cognitiveservices.azure.com/.default',
    });

    await client.chat.completions.create({ model: 'az-entra/gpt-4o', messages: [{ role: 'user', content: 'again' }] });
    assert.equal(tokenCalls().length, 1, 'the token is reused');
    assert.equal(lastCall().headers.authorization, got.headers.authorization);
  });

  test('tools: parallel tool calls, non-stream and stream (accumulated by the SDK)', async () => {
    const calls = [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Rome' } },
    ];
    fake.script({ toolCalls: calls }, { provider: 'azure' });
    const res = await client.chat.completions.create({
      model: 'az-key/gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
      parallel_tool_calls: true,
    });
    const toolCalls = (m: OpenAI.Chat.ChatCompletionMessage) => m.tool_calls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : []));
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(toolCalls(res.choices[0]!.message), calls.map((c) => [c.name, c.arguments]));
    assert.equal(lastCall().body.tools[0].function.name, 'get_weather');
    assert.equal(lastCall().body.parallel_tool_calls, true);

    fake.script({ toolCalls: calls }, { provider: 'azure' });
    const final = await client.chat.completions
      .stream({ model: 'az-entra/gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }], tools: [WEATHER_TOOL] })
      .finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(toolCalls(final.choices[0]!.message), calls.map((c) => [c.name, c.arguments]));
  });

  test("a stream stopped by Azure's asynchronous content filter ends with finish_reason content_filter", async () => {
    fake.script({ text: 'Hey Jude, don’t make it bad', finish: 'content_filter' }, { provider: 'azure' });
    const chunks = await collect(await client.chat.completions.create({ model: 'az-key/gpt-4o', messages: [{ role: 'user', content: 'lyrics' }], stream: true }));
    const last = chunks.at(-1)!;
    assert.equal(last.choices[0]!.finish_reason, 'content_filter');
    assert.equal(last.id, chunks[0]!.id, 'the finishing chunk carries the stream id');
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hey Jude, don’t make it bad');
  });

  test('embeddings: the mapped deployment, base64 as the SDK asks by default', async () => {
    fake.script({ embedding: [0.5, -0.25, 1] }, { provider: 'azure' });
    const res = await client.embeddings.create({ model: 'az-key/text-embedding-3-small', input: ['hello'] });
    assert.deepEqual(res.data[0]!.embedding, [0.5, -0.25, 1]);
    const got = lastCall();
    assert.equal(got.path, '/azure/openai/deployments/embed-small/embeddings');
    assert.deepEqual(got.query, { 'api-version': '2024-10-21' });
    assert.equal(got.body.encoding_format, 'base64');
  });

  test('the v1 API: no deployment in the path and no api-version; the deployment is the model', async () => {
    const res = await client.chat.completions.create({ model: 'az-v1/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]!.message.content, 'Echo: hi');
    const got = lastCall();
    assert.equal(got.path, '/azure/openai/v1/chat/completions');
    assert.deepEqual(got.query, {});
    assert.equal(got.body.model, 'gpt-4o-mini');
    const embed = await client.embeddings.create({ model: 'az-v1/text-embedding-3-large', input: 'x', encoding_format: 'float' });
    assert.equal(embed.data.length, 1);
    assert.equal(lastCall().path, '/azure/openai/v1/embeddings');
  });

  test('other OpenAI endpoints reach the deployment too; moderations, which Azure lacks, is a 400 from the gateway', async () => {
    const image = await client.images.generate({ model: 'az-entra/dall-e-3', prompt: 'a lighthouse' });
    assert.equal(image.data?.length, 1);
    const got = lastCall();
    assert.equal(got.path, '/azure/openai/deployments/dall-e-3/images/generations');
    assert.deepEqual(got.query, { 'api-version': '2025-04-01-preview' });
    assert.match(got.headers.authorization ?? '', /^Bearer fake-entra\./);
    await assert.rejects(client.moderations.create({ model: 'az-key/omni-moderation-latest', input: 'x' }), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, 'unsupported_operation');
      return true;
    });
  });

  test('a fixed azure_ad_token is sent as the bearer token', async () => {
    await client.chat.completions.create({ model: 'az-token/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(lastCall().headers.authorization, `Bearer ${STATIC_TOKEN}`);
    assert.equal(tokenCalls().length, 0);
  });

  test('errors: a 429 keeps its status and retry-after; a content-filter refusal is a 400 naming the category', async () => {
    fake.fault({ kind: 'status', status: 429, retryAfter: '6' }, { provider: 'azure' });
    await assert.rejects(client.chat.completions.create({ model: 'az-key/gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 429);
      assert.equal(e.type, 'rate_limit_error');
      assert.equal(e.headers?.get('retry-after'), '6');
      assert.match(e.message, /az-key: Injected fault: HTTP 429/);
      return true;
    });

    const refusal = {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: false, severity: 'safe' }, jailbreak: { filtered: true, detected: true } } },
      },
    };
    fake.fault({ kind: 'status', status: 400, body: JSON.stringify(refusal) }, { provider: 'azure' });
    await assert.rejects(client.chat.completions.create({ model: 'az-key/gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, 'content_filter');
      assert.equal(e.param, 'prompt');
      assert.match(e.message, /\(filtered: jailbreak\)/);
      return true;
    });
  });

  test('refused Entra credentials: a 401 that names the provider and never shows the secret; Azure is not called', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'az-bad-entra/gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 401);
      assert.equal(e.code, 'entra_rejected');
      assert.match(e.message, /az-bad-entra: Microsoft Entra ID sign-in failed: .*invalid_client: AADSTS7000215/);
      assert.ok(!e.message.includes('wrong-secret'));
      return true;
    });
    assert.equal(tokenCalls().length, 1);
    assert.equal(modelCalls().length, 0);
    assert.ok(!gateway.output().includes('wrong-secret'), 'the secret is not logged');
  });
});

describe('the Azure fake itself', () => {
  const post = async (path: string, headers: Record<string, string>) => {
    const res = await request(`${fake.url}/azure${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { error?: { code: string; message: string } } };
  };

  test('like Azure: no api-version is a bare 404, an unknown one a 400, no credentials a 401', async () => {
    const missing = await post('/openai/deployments/d/chat/completions', { 'api-key': 'k' });
    assert.deepEqual(missing, { status: 404, body: { error: { code: '404', message: 'Resource not found' } } });
    const unknown = await post('/openai/deployments/d/chat/completions?api-version=yesterday', { 'api-key': 'k' });
    assert.equal(unknown.status, 400);
    const anonymous = await post('/openai/deployments/d/chat/completions?api-version=2024-10-21', {});
    assert.equal(anonymous.status, 401);
    const expired = fakeEntraToken({ tid: 't', appid: 'a', exp: Math.floor(Date.now() / 1000) - 1 });
    assert.equal((await post('/openai/deployments/d/chat/completions?api-version=2024-10-21', { authorization: `Bearer ${expired}` })).status, 401);
    assert.equal((await post('/openai/deployments/d/chat/completions?api-version=2024-10-21', { authorization: `Bearer ${STATIC_TOKEN}` })).status, 200);
  });
});
