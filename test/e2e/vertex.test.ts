// The OpenAI SDK against the real gateway process in front of Vertex AI (the fake speaking Vertex's wire format), with
// Gemini and Claude models behind one provider whose service-account key sends its token exchange to the fake.

import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

type APIError = InstanceType<typeof OpenAI.APIError>;

const GEMINI = 'vertex/gemini-2.5-flash';
const CLAUDE = 'vertex/claude-sonnet-4-5@20250929';
const MODELS = { gemini: GEMINI, claude: CLAUDE } as const;
const PROJECT_PATH = '/vertex/v1/projects/acme-prod/locations/us-east5/publishers';
const KEY_EMAIL = 'switchboard@acme-prod.iam.gserviceaccount.com';
const ADC_EMAIL = 'adc@acme-prod.iam.gserviceaccount.com';

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

function keyFile(dir: string, name: string, email: string, tokenUri: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'acme-prod',
      private_key_id: '0123abcd',
      private_key: privateKey,
      client_email: email,
      client_id: '1234567890',
      token_uri: tokenUri,
    }),
  );
  return file;
}

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  fake = await startFakeProviders();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-vertex-'));
  const tokenUri = `${fake.url}/vertex/oauth/token`;
  const config = `
logging: { level: warn }
providers:
  vertex: { type: vertex, project: acme-prod, location: us-east5, credentials: "${keyFile(dir, 'key.json', KEY_EMAIL, tokenUri)}", base_url: "${fake.url}/vertex" }
  vertex-adc: { type: vertex, project: acme-prod, location: us-east5, base_url: "${fake.url}/vertex" }
  vertex-broken: { type: vertex, project: acme-prod, credentials: "${join(dir, 'missing.json')}", base_url: "${fake.url}/vertex" }
`;
  // Application Default Credentials find the second key through the usual variable.
  gateway = await startGateway({ config, env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile(dir, 'adc.json', ADC_EMAIL, tokenUri) } });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});
after(async () => {
  await gateway.stop();
  await fake.close();
});

function modelCalls(): RecordedRequest[] {
  return fake.received.filter((r) => r.provider === 'vertex' && r.path !== '/vertex/oauth/token');
}

function lastCall(): RecordedRequest {
  const calls = modelCalls();
  assert.ok(calls.length > 0, 'the vertex fake received no model call');
  return calls[calls.length - 1]!;
}

function tokenGrants(email: string): RecordedRequest[] {
  return fake.received.filter((r) => {
    if (r.path !== '/vertex/oauth/token') return false;
    const claims = JSON.parse(Buffer.from(String(r.body.assertion).split('.')[1]!, 'base64url').toString()) as { iss: string };
    return claims.iss === email;
  });
}

async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
  let role: string | undefined;
  let content = '';
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    role ??= chunk.choices[0]?.delta.role;
    content += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { role, content, finish, usage };
}

describe('OpenAI SDK -> gateway -> Vertex AI, Gemini model', () => {
  test('chat: generateContent under publishers/google with the bearer token from the key; usage mapped', async () => {
    fake.script({ text: 'Bonjour!', usage: { input: 20, output: 3, cached: 5 } }, { provider: 'vertex' });
    const res = await client.chat.completions
      .create({ model: GEMINI, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Greet me' }], max_tokens: 40 })
      .withResponse();
    assert.equal(res.data.choices[0]!.message.content, 'Bonjour!');
    assert.equal(res.data.usage!.prompt_tokens, 20);
    assert.equal(res.data.usage!.prompt_tokens_details?.cached_tokens, 5);
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'vertex');

    const got = lastCall();
    assert.equal(got.path, `${PROJECT_PATH}/google/models/gemini-2.5-flash:generateContent`);
    assert.match(got.headers.authorization!, /^Bearer ya29\.fake-vertex\./);
    assert.equal(got.body.systemInstruction.parts[0].text, 'Be terse.');
    assert.equal(got.body.generationConfig.maxOutputTokens, 40);
    assert.ok(!JSON.stringify(got).includes('sk-client'), 'the client key never reaches the provider');
  });

  test('stream: streamGenerateContent?alt=sse; role first, deltas, finish, usage chunk', async () => {
    fake.script({ text: 'one two three four', usage: { input: 9, output: 4 } }, { provider: 'vertex' });
    const stream = await client.chat.completions.create({ model: GEMINI, messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } });
    assert.deepEqual(await collect(stream), { role: 'assistant', content: 'one two three four', finish: 'stop', usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } });
    const got = lastCall();
    assert.equal(got.path, `${PROJECT_PATH}/google/models/gemini-2.5-flash:streamGenerateContent`);
    assert.equal(got.query.alt, 'sse');
  });

  test('embeddings: :predict with one instance per text; the SDK gets its base64 vectors', async () => {
    const res = await client.embeddings.create({ model: 'vertex/text-embedding-005', input: ['alpha', 'beta'] });
    assert.equal(res.data.length, 2);
    assert.equal(res.data[0]!.embedding.length, 8);
    assert.ok(res.usage.prompt_tokens > 0);
    const got = lastCall();
    assert.equal(got.path, `${PROJECT_PATH}/google/models/text-embedding-005:predict`);
    assert.deepEqual(got.body.instances, [{ content: 'alpha' }, { content: 'beta' }]);
  });
});

describe('OpenAI SDK -> gateway -> Vertex AI, Claude model', () => {
  test('chat: rawPredict under publishers/anthropic; Messages body with anthropic_version and no model', async () => {
    fake.script({ text: 'Hello from Claude.', usage: { input: 30, output: 5, cached: 10 } }, { provider: 'vertex' });
    const res = await client.chat.completions.create({
      model: CLAUDE,
      messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }, { role: 'user', content: 'Again' }],
      max_tokens: 50,
    });
    assert.equal(res.choices[0]!.message.content, 'Hello from Claude.');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.equal(res.usage!.prompt_tokens, 30);
    assert.equal(res.usage!.prompt_tokens_details?.cached_tokens, 10);

    const got = lastCall();
    assert.equal(got.path, `${PROJECT_PATH}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    assert.match(got.headers.authorization!, /^Bearer ya29\.fake-vertex\./);
    assert.equal(got.headers['anthropic-version'], undefined);
    assert.equal(got.body.anthropic_version, 'vertex-2023-10-16');
    assert.ok(!('model' in got.body), 'the model is named by the URL only');
    assert.deepEqual(got.body.system, [{ type: 'text', text: 'Be kind.' }]);
    assert.deepEqual(got.body.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user']);
    assert.equal(got.body.max_tokens, 50);
  });

  test('stream: streamRawPredict; role first, deltas, finish, usage chunk', async () => {
    fake.script({ text: 'alpha beta gamma', usage: { input: 7, output: 3 } }, { provider: 'vertex' });
    const stream = await client.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
    const got = await collect(stream);
    assert.equal(got.role, 'assistant');
    assert.equal(got.content, 'alpha beta gamma');
    assert.equal(got.finish, 'stop');
    assert.equal(got.usage?.prompt_tokens, 7);
    assert.equal(got.usage?.completion_tokens, 3);
    const call = lastCall();
    assert.equal(call.path, `${PROJECT_PATH}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`);
    assert.equal(call.body.stream, true);
    assert.equal(call.body.anthropic_version, 'vertex-2023-10-16');
  });

  test('image URLs are refused with a 400 naming the part; data URLs reach Claude', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] }] }),
      (e: APIError) => e.status === 400 && e.param === 'messages[0].content[0].image_url.url' && /base64 data URLs/.test(e.message),
    );
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    await client.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
    assert.deepEqual(lastCall().body.messages[0].content[0].source, { type: 'base64', media_type: 'image/png', data: png });
  });
});

for (const [family, model] of Object.entries(MODELS)) {
  describe(`tools through Vertex AI (${family})`, () => {
    const calls = [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Rome' } },
    ];
    const asPairs = (toolCalls: OpenAI.Chat.ChatCompletionMessageToolCall[] | undefined) =>
      toolCalls!.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : []));

    test('parallel tool calls, non-stream and stream', async () => {
      fake.script({ toolCalls: calls }, { provider: 'vertex' });
      const res = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' });
      assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(asPairs(res.choices[0]!.message.tool_calls), calls.map((c) => [c.name, c.arguments]));
      assert.ok(JSON.stringify(lastCall().body).includes('Weather for a city'), 'the tool definition reached Vertex');

      fake.script({ toolCalls: calls }, { provider: 'vertex' });
      const final = await client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }], tools: [WEATHER_TOOL] }).finalChatCompletion();
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(asPairs(final.choices[0]!.message.tool_calls), calls.map((c) => [c.name, c.arguments]));
    });

    test('a tool result goes back linked to its call', async () => {
      fake.script({ text: 'Sunny in Paris.' }, { provider: 'vertex' });
      const res = await client.chat.completions.create({
        model,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"forecast":"sunny"}' },
        ],
      });
      assert.equal(res.choices[0]!.message.content, 'Sunny in Paris.');
      const body = lastCall().body;
      if (family === 'claude') {
        const blocks = body.messages.flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []));
        assert.equal(blocks.find((b: { type: string }) => b.type === 'tool_result').tool_use_id, blocks.find((b: { type: string }) => b.type === 'tool_use').id);
      } else {
        const parts = body.contents.flatMap((c: { parts: unknown[] }) => c.parts);
        assert.deepEqual(parts.find((p: { functionResponse?: unknown }) => p.functionResponse).functionResponse, { name: 'get_weather', response: { forecast: 'sunny' } });
      }
    });
  });
}

describe('errors through Vertex AI', () => {
  test('an upstream 429 keeps its status and retry-after and names the provider, for either family', async () => {
    for (const model of Object.values(MODELS)) {
      fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider: 'vertex' });
      const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e as APIError,
      );
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.headers?.get('retry-after'), '7');
      assert.match(err.message, /^429 vertex: Injected fault/);
    }
  });

  test('credentials that cannot be loaded: a 500 naming the provider, not the value, nothing sent upstream', async () => {
    const before = modelCalls().length;
    await assert.rejects(client.chat.completions.create({ model: 'vertex-broken/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => {
      assert.equal(e.status, 500);
      assert.equal(e.code, 'provider_credentials_invalid');
      assert.match(e.message, /vertex-broken: .*neither a JSON key nor a readable key file \(ENOENT\)/);
      assert.ok(!e.message.includes('missing.json'));
      return true;
    });
    assert.equal(modelCalls().length, before);
  });

  test('the fake takes only tokens its token endpoint issued', async () => {
    const res = await request(`${fake.url}${PROJECT_PATH}/google/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ya29.made-up' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
    });
    assert.equal(res.statusCode, 401);
    assert.equal(((await res.body.json()) as { error: { status: string } }).error.status, 'UNAUTHENTICATED');
  });
});

describe('Google credentials', () => {
  test('Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS) work the same way', async () => {
    fake.script({ text: 'via ADC' }, { provider: 'vertex' });
    const res = await client.chat.completions.create({ model: 'vertex-adc/gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.choices[0]!.message.content, 'via ADC');
    assert.equal(tokenGrants(ADC_EMAIL).length, 1);
  });

  test("one token exchange per provider, signed with the service account's key, reused for every call", async () => {
    const grants = tokenGrants(KEY_EMAIL);
    assert.ok(modelCalls().length > 10);
    assert.equal(grants.length, 1, 'the access token is cached, not fetched per request');
    const form = grants[0]!.body as { grant_type: string; assertion: string };
    assert.equal(form.grant_type, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, payload, signature] = form.assertion.split('.') as [string, string, string];
    assert.ok(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url')), 'the grant is signed with the key');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.scope, 'https://www.googleapis.com/auth/cloud-platform');
    assert.equal(claims.aud, 'https://oauth2.googleapis.com/token');
  });
});
