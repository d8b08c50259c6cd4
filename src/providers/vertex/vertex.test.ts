import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatRequest, EmbeddingsRequest } from '../../core/types.ts';
import { toAnthropicRequest } from '../anthropic/chat.ts';
import { buildChatBody } from '../gemini/chat.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import { createSseDecoder } from '../sse.ts';
import type { ProviderConfig, StreamContext } from '../types.ts';
import { CLOUD_PLATFORM_SCOPE } from './auth.ts';
import { VERTEX_ANTHROPIC_VERSION, vertexAdapter, vertexBaseUrl, vertexOptions } from './index.ts';

const fixtureText = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

function vertexProvider(options: Record<string, unknown> = {}, overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  const parsed = vertexOptions.parse({ project: 'acme-prod', location: 'us-east5', ...options });
  return {
    name: 'vtx',
    type: 'vertex',
    base_url: vertexBaseUrl(parsed),
    headers: {},
    timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
    models: [],
    options: parsed,
    ...overrides,
  };
}

const provider = vertexProvider();
const GEMINI = 'gemini-2.5-flash';
const CLAUDE = 'claude-sonnet-4-5@20250929';
const hi: ChatRequest['messages'] = [{ role: 'user', content: 'Hi' }];
const BASE = 'https://us-east5-aiplatform.googleapis.com/v1/projects/acme-prod/locations/us-east5/publishers';

function built(req: Partial<ChatRequest>, model: string, p = provider) {
  const call = vertexAdapter.buildChatRequest({ model: 'client-name', messages: hi, ...req }, model, p);
  return { ...call, body: JSON.parse(call.body!) as Record<string, unknown> };
}

const thrown = thrownGatewayError;

// ---- Options and addresses ----

test('options: location defaults to us-central1; project is required; unknown fields are refused', () => {
  assert.deepEqual(vertexOptions.parse({ project: 'p' }), { project: 'p', location: 'us-central1' });
  assert.equal(vertexOptions.safeParse({}).success, false);
  assert.match(vertexOptions.safeParse({}).error!.issues[0]!.message, /project/);
  assert.equal(vertexOptions.safeParse({ project: 'p', region: 'x' }).success, false);
  assert.equal(vertexOptions.safeParse({ project: 'p', location: 'https://evil.example' }).success, false);
});

test('default address: the regional host, or the bare host for the global location; registered as type vertex', () => {
  assert.equal(vertexBaseUrl({ project: 'p', location: 'europe-west4' }), 'https://europe-west4-aiplatform.googleapis.com');
  assert.equal(vertexBaseUrl({ project: 'p', location: 'global' }), 'https://aiplatform.googleapis.com');
  const type = PROVIDER_TYPES.vertex!;
  assert.equal(type.adapter, vertexAdapter);
  assert.equal(type.options, vertexOptions);
  assert.equal(type.default_base_url!({ project: 'p', location: 'us-central1' }), 'https://us-central1-aiplatform.googleapis.com');
});

// ---- Gemini on Vertex ----

test('gemini: generateContent under publishers/google, the Gemini API body unchanged, no key header', () => {
  const req: ChatRequest = { model: 'x', messages: hi, temperature: 0.3, max_tokens: 20, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] };
  const call = built(req, GEMINI);
  assert.equal(call.method, 'POST');
  assert.equal(call.url, `${BASE}/google/models/gemini-2.5-flash:generateContent`);
  assert.deepEqual(call.headers, { 'content-type': 'application/json' });
  assert.deepEqual(call.body, buildChatBody(req, 'vtx'));
});

test('gemini: streaming asks for SSE; global location, api_version, base URL slash and extra headers are honoured', () => {
  const global = vertexProvider({ location: 'global' }, { api_version: 'v1beta1', headers: { 'x-goog-user-project': 'billing' } });
  global.base_url += '/';
  const call = built({ stream: true }, GEMINI, global);
  assert.equal(call.url, 'https://aiplatform.googleapis.com/v1beta1/projects/acme-prod/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.equal(call.headers['x-goog-user-project'], 'billing');
});

test('gemini: http(s) image URLs go as fileData; gs:// is refused (Vertex would read it with the gateway\'s identity)', () => {
  const call = built({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, GEMINI);
  assert.deepEqual(call.body.contents, [{ role: 'user', parts: [{ fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } }] }]);
  assert.throws(() => built({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'gs://bucket/cat.png' } }] }] }, GEMINI), (e: GatewayError) => e.status === 400);
});

test('gemini: the response, tool calls and usage are read as the Gemini API reads them', () => {
  const { created, ...res } = vertexAdapter.parseChatResponse(fixture('gemini-generate.json'), GEMINI);
  assert.ok(created > 0);
  assert.equal(res.model, 'gemini-2.5-flash');
  assert.equal(res.choices[0]!.message.content, 'Paris is the capital of France.');
  assert.equal(res.choices[0]!.message.tool_calls![0]!.function.arguments, '{"city":"Paris"}');
  assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(res.usage, { prompt_tokens: 21, completion_tokens: 38, total_tokens: 59, completion_tokens_details: { reasoning_tokens: 24 } });
});

// ---- Claude on Vertex ----

test('claude: rawPredict under publishers/anthropic; the Messages body without model, with anthropic_version', () => {
  const req: ChatRequest = { model: 'x', messages: [{ role: 'system', content: 'Be brief.' }, ...hi], max_tokens: 64, temperature: 0.5 };
  const call = built(req, CLAUDE);
  assert.equal(call.url, `${BASE}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
  assert.deepEqual(call.headers, { 'content-type': 'application/json' }, 'no anthropic-version or x-api-key header');
  assert.equal(call.body.anthropic_version, VERTEX_ANTHROPIC_VERSION);
  assert.ok(!('model' in call.body), 'Vertex takes the model from the URL only');
  const { model, ...messagesBody } = toAnthropicRequest(req, CLAUDE, 'vtx');
  assert.equal(model, CLAUDE);
  assert.deepEqual(call.body, { anthropic_version: 'vertex-2023-10-16', ...messagesBody });
});

test('claude: streaming uses streamRawPredict with stream: true in the body', () => {
  const call = built({ stream: true }, 'claude-haiku-4-5');
  assert.equal(call.url, `${BASE}/anthropic/models/claude-haiku-4-5:streamRawPredict`);
  assert.equal(call.body.stream, true);
});

test('claude: image URLs are refused by name (Vertex takes only inline images); data URLs pass', () => {
  const err = thrown(() =>
    built({ messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, CLAUDE),
  );
  assert.equal(err.status, 400);
  assert.equal(err.code, 'unsupported_parameter');
  assert.equal(err.param, 'messages[0].content[1].image_url.url');
  assert.match(err.message, /base64 data URLs/);
  const ok = built({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }, CLAUDE);
  assert.deepEqual(ok.body.messages, [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] }]);
});

test('claude: parameters Anthropic cannot honour are refused as on the Anthropic API', () => {
  const err = thrown(() => built({ seed: 7 }, CLAUDE));
  assert.equal(err.param, 'seed');
  assert.equal(err.code, 'unsupported_parameter');
});

test('claude: the message is read as Anthropic messages are', () => {
  const { created, ...res } = vertexAdapter.parseChatResponse(fixture('claude-message.json'), CLAUDE);
  assert.ok(created > 0);
  assert.equal(res.id, 'msg_vrtx_01GbvUqkJx7nS4mBd2XwQe8t');
  assert.equal(res.choices[0]!.message.content, "I'll check the weather.");
  assert.deepEqual(res.choices[0]!.message.tool_calls, [{ id: 'toolu_vrtx_01PmX3kq8ZsA9cWn4Yt2LdRe', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
  assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(res.usage!.prompt_tokens, 512);
  assert.equal(res.usage!.prompt_tokens_details!.cached_tokens, 100);
});

// ---- Streams ----

function replay(name: string, model: string): { chunks: ChatChunk[]; complete: boolean } {
  const ctx: StreamContext = { model, provider: 'vtx', includeUsage: true, id: 'chatcmpl-v', created: 1 };
  const translator = vertexAdapter.createStreamTranslator(ctx);
  const events = createSseDecoder().feed(new TextEncoder().encode(fixtureText(name)));
  const chunks = events.flatMap((e) => translator.event(e));
  return { chunks: [...chunks, ...translator.end()], complete: translator.complete?.() ?? false };
}

function summary(chunks: ChatChunk[]) {
  return {
    role: chunks[0]?.choices[0]?.delta.role,
    content: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
    finish: chunks.map((c) => c.choices[0]?.finish_reason).find((f) => f),
    usage: chunks.at(-1)?.usage,
  };
}

test('stream: a Gemini model streams through the Gemini translator (CRLF-framed SSE)', () => {
  const { chunks } = replay('gemini-stream.sse', GEMINI);
  assert.deepEqual(summary(chunks), { role: 'assistant', content: 'Bonjour tout le monde.', finish: 'stop', usage: { prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 } });
});

test('stream: a Claude model streams through the Anthropic translator, which sees message_stop', () => {
  const { chunks, complete } = replay('claude-stream.sse', CLAUDE);
  assert.equal(complete, true);
  assert.deepEqual(summary(chunks), {
    role: 'assistant',
    content: 'Hello there.',
    finish: 'stop',
    usage: { prompt_tokens: 14, completion_tokens: 5, total_tokens: 19, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 } },
  });
});

// ---- Errors ----

test('errors: Google-shaped Vertex errors keep status, Google status code and retry-after; provider named', () => {
  const quota = vertexAdapter.parseError(429, fixtureText('error-quota.json'), '30', 'vtx');
  assert.equal(quota.status, 429);
  assert.equal(quota.type, 'rate_limit_error');
  assert.equal(quota.code, 'RESOURCE_EXHAUSTED');
  assert.equal(quota.headers['retry-after'], '30');
  assert.match(quota.message, /^vtx: Quota exceeded/);
  const denied = vertexAdapter.parseError(403, fixtureText('error-permission.json'), undefined, 'vtx');
  assert.equal(denied.status, 403);
  assert.equal(denied.code, 'PERMISSION_DENIED');
});

test("errors: Claude's own Anthropic-shaped errors map as on the Anthropic API (529 overloaded -> 503)", () => {
  const err = vertexAdapter.parseError(529, fixtureText('error-claude-overloaded.json'), undefined, 'vtx');
  assert.equal(err.status, 503);
  assert.equal(err.code, 'overloaded_error');
  assert.equal(err.message, 'vtx: Overloaded');
});

test('errors: a body that is not JSON is quoted, and a vendor status becomes 502', () => {
  const err = vertexAdapter.parseError(520, '<html>upstream connect error</html>', undefined, 'vtx');
  assert.equal(err.status, 502);
  assert.match(err.message, /upstream connect error/);
});

// ---- Embeddings ----

test('embeddings: :predict with one instance per text, dimensions, no silent truncation', () => {
  const req: EmbeddingsRequest = { model: 'x', input: ['alpha', 'beta'], dimensions: 256 };
  const call = vertexAdapter.buildEmbeddingsRequest!(req, 'text-embedding-005', provider);
  assert.equal(call.url, `${BASE}/google/models/text-embedding-005:predict`);
  assert.deepEqual(JSON.parse(call.body!), {
    instances: [{ content: 'alpha' }, { content: 'beta' }],
    parameters: { autoTruncate: false, outputDimensionality: 256 },
  });
  assert.deepEqual(JSON.parse(vertexAdapter.buildEmbeddingsRequest!({ model: 'x', input: 'one' }, 'gemini-embedding-001', provider).body!), {
    instances: [{ content: 'one' }],
    parameters: { autoTruncate: false },
  });
});

test('embeddings: predictions are read in order with their token counts', () => {
  assert.deepEqual(vertexAdapter.parseEmbeddingsResponse!(fixture('predict.json'), 'text-embedding-005'), {
    object: 'list',
    model: 'text-embedding-005',
    data: [
      { object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789] },
      { object: 'embedding', index: 1, embedding: [-0.0312, 0.0645, 0.0098] },
    ],
    usage: { prompt_tokens: 11, total_tokens: 11 },
  });
  assert.equal(thrown(() => vertexAdapter.parseEmbeddingsResponse!({ predictions: [{}] }, 'm')).status, 502);
});

test('embeddings: Claude models and token-id input are refused', () => {
  const claude = thrown(() => vertexAdapter.buildEmbeddingsRequest!({ model: 'x', input: 'a' }, CLAUDE, provider));
  assert.equal(claude.status, 400);
  assert.equal(claude.code, 'unsupported_operation');
  assert.equal(thrown(() => vertexAdapter.buildEmbeddingsRequest!({ model: 'x', input: [1, 2] }, 'text-embedding-005', provider)).param, 'input');
});

// ---- Tokens (authorize) ----

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const KEY_BODY = privateKey.split('\n')[1]!;

interface TokenServer {
  uri: string;
  grants: { assertion: string; claims: Record<string, unknown> }[];
  /** The next answers, in order; then 200 with a fresh token. */
  replies: { status: number; body: unknown }[];
}

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function tokenServer(): Promise<TokenServer> {
  const state: TokenServer = { uri: '', grants: [], replies: [] };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      const assertion = form.get('assertion') ?? '';
      const [header = '', payload = '', signature = ''] = assertion.split('.');
      const signed = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'));
      assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      assert.ok(signed, 'the assertion is signed with the service account key');
      state.grants.push({ assertion, claims: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown> });
      const reply = state.replies.shift() ?? { status: 200, body: { access_token: `ya29.token-${state.grants.length}`, expires_in: 3599, token_type: 'Bearer' } };
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  state.uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return state;
}

function serviceAccount(tokenUri: string, key = privateKey): Record<string, string> {
  return {
    type: 'service_account',
    project_id: 'acme-prod',
    private_key_id: 'f00d',
    private_key: key,
    client_email: 'switchboard@acme-prod.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: tokenUri,
  };
}

function keyFile(json: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vertex-key-')), 'key.json');
  writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
  return file;
}

const call = () => vertexAdapter.buildChatRequest({ model: 'x', messages: hi }, GEMINI, provider);

async function authorizeError(p: ProviderConfig): Promise<GatewayError> {
  try {
    await vertexAdapter.authorize!(call(), p);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.ok(!err.message.includes(KEY_BODY) && !err.message.includes('PRIVATE KEY'), `no key material in: ${err.message}`);
    return err;
  }
  assert.fail('expected authorize to fail');
}

test("authorize: a JWT grant signed with the key goes to the key's token_uri; the token becomes a bearer header", async () => {
  const server = await tokenServer();
  const p = vertexProvider({ credentials: keyFile(serviceAccount(server.uri)) });
  const before = call();
  const authorized = await vertexAdapter.authorize!(before, p);
  assert.deepEqual(authorized, { ...before, headers: { ...before.headers, authorization: 'Bearer ya29.token-1' } });
  const claims = server.grants[0]!.claims;
  assert.equal(claims.iss, 'switchboard@acme-prod.iam.gserviceaccount.com');
  assert.equal(claims.scope, CLOUD_PLATFORM_SCOPE);
  assert.equal(claims.aud, 'https://oauth2.googleapis.com/token');
});

test('authorize: one token per provider, cached across calls and shared by concurrent first calls', async () => {
  const server = await tokenServer();
  const p = vertexProvider({ credentials: keyFile(serviceAccount(server.uri)) });
  const first = await Promise.all([1, 2, 3].map(() => vertexAdapter.authorize!(call(), p)));
  const later = await vertexAdapter.authorize!(call(), p);
  for (const c of [...first, later]) assert.equal(c.headers.authorization, 'Bearer ya29.token-1');
  assert.equal(server.grants.length, 1);

  // Another provider (or the same one after a configuration reload) has its own client and token.
  const other = await vertexAdapter.authorize!(call(), { ...p });
  assert.equal(other.headers.authorization, 'Bearer ya29.token-2');
  assert.equal(server.grants.length, 2);
});

test('authorize: credentials may be the key JSON itself', async () => {
  const server = await tokenServer();
  const p = vertexProvider({ credentials: JSON.stringify(serviceAccount(server.uri), null, 2) });
  assert.equal((await vertexAdapter.authorize!(call(), p)).headers.authorization, 'Bearer ya29.token-1');
});

test('authorize: a refused grant is a 401 naming the provider, with the reason and no key material', async () => {
  const server = await tokenServer();
  server.replies.push({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } });
  const p = vertexProvider({ credentials: keyFile(serviceAccount(server.uri)) });
  const err = await authorizeError(p);
  assert.equal(err.status, 401);
  assert.equal(err.type, 'authentication_error');
  assert.equal(err.code, 'provider_auth_failed');
  assert.equal(err.provider, 'vtx');
  assert.equal(err.message, "vtx: Google's token service refused the credentials (invalid_grant: Invalid JWT Signature)");
  // Nothing bad is kept: the next call asks again and succeeds.
  assert.equal((await vertexAdapter.authorize!(call(), p)).headers.authorization, 'Bearer ya29.token-2');
});

test('authorize: an unreachable token service is a 502', async () => {
  const p = vertexProvider({ credentials: JSON.stringify(serviceAccount('http://127.0.0.1:9/token')) });
  const err = await authorizeError(p);
  assert.equal(err.status, 502);
  assert.equal(err.code, 'provider_auth_unavailable');
});

test('authorize: unusable credentials are a 500 that says what to fix and quotes no key', async () => {
  const missing = await authorizeError(vertexProvider({ credentials: '/nonexistent/key.json' }));
  assert.equal(missing.status, 500);
  assert.equal(missing.code, 'provider_credentials_invalid');
  assert.match(missing.message, /^vtx: .*credentials is neither a JSON key nor a readable key file \(ENOENT\)/);
  assert.ok(!missing.message.includes('/nonexistent/key.json'), 'the value is not repeated');

  const broken = await authorizeError(vertexProvider({ credentials: keyFile(`{"private_key": "${privateKey.replaceAll('\n', '\\n')}", oops`) }));
  assert.match(broken.message, /is not valid JSON/);

  const badKey = await authorizeError(vertexProvider({ credentials: JSON.stringify(serviceAccount('http://127.0.0.1:9/token', `-----BEGIN PRIVATE KEY-----\n${KEY_BODY.slice(0, 40)}\n-----END PRIVATE KEY-----\n`)) }));
  assert.match(badKey.message, /private_key is not a usable PEM private key/);
  assert.equal(badKey.status, 500);
  assert.equal(badKey.code, 'provider_credentials_invalid');
});
