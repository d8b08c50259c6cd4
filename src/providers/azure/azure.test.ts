import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { ConfigError, parseConfig } from '../../config/load.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatRequest } from '../../core/types.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import type { ProviderConfig, StreamEvent, StreamTranslator, UpstreamCall } from '../types.ts';
import { fetchEntraToken, TokenCache, type AccessToken } from './entra.ts';
import { azureOpenAIAdapter, createAzureOpenAIAdapter } from './index.ts';
import { azureOptionsSchema, type EntraCredentials } from './options.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const provider = (over: Partial<ProviderConfig> = {}, options: Record<string, unknown> = {}): ProviderConfig => ({
  name: 'azure',
  type: 'azure-openai',
  api_key: 'azure-key',
  base_url: 'https://contoso.openai.azure.com',
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: [],
  api_version: '2024-10-21',
  options: azureOptionsSchema.parse(options),
  ...over,
});

const ENTRA = { tenant_id: 'tenant-1', client_id: 'app-1', client_secret: 's3cr3t-value' };
const ctx = { model: 'gpt-4o', provider: 'azure', includeUsage: true, id: 'chatcmpl-gateway', created: 42 };
const chat: ChatRequest = { model: 'smart', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3, service_tier: 'default' };

function events(sse: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ data: e.data }) }).feed(sse);
  return out;
}

function replay(t: StreamTranslator, sse: string): ChatChunk[] {
  return [...events(sse).flatMap((e) => t.event(e)), ...t.end()];
}

/** As the gateway reads a stream for /v1/chat/completions: parsed until the first real chunk, passed through after. */
function replayPassthrough(t: StreamTranslator, sse: string): (ChatChunk | string)[] {
  const out: (ChatChunk | string)[] = [];
  let primed = false;
  for (const e of events(sse)) {
    if (primed) {
      const c = t.passthrough!(e);
      if (c !== null) out.push(c);
      continue;
    }
    for (const c of t.event(e)) {
      out.push(c);
      if (c.choices.some((ch) => ch.delta.content || ch.delta.tool_calls)) primed = true;
    }
  }
  return [...out, ...t.end()];
}

const parsed = (c: ChatChunk | string): ChatChunk => (typeof c === 'string' ? (JSON.parse(c) as ChatChunk) : c);

test('the deployments API: deployment in the path, api-version in the query, the model mapped under deployments', () => {
  const p = provider({}, { deployments: { 'gpt-4o': 'prod-4o', 'text-embedding-3-small': 'embed small' } });
  const call = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', p);
  assert.equal(call.url, 'https://contoso.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
  assert.deepEqual(JSON.parse(call.body!), { ...chat, model: 'prod-4o' });
  const unmapped = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o-mini', p);
  assert.equal(unmapped.url, 'https://contoso.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21');
  const embed = azureOpenAIAdapter.buildEmbeddingsRequest!({ model: 'e', input: ['a'] }, 'text-embedding-3-small', p);
  assert.equal(embed.url, 'https://contoso.openai.azure.com/openai/deployments/embed%20small/embeddings?api-version=2024-10-21');
  assert.deepEqual(JSON.parse(embed.body!), { model: 'embed small', input: ['a'] });
});

test('the v1 API (api_version v1 or preview): no deployment in the path, the deployment as model', () => {
  const p = provider({ api_version: 'v1' }, { deployments: { 'gpt-4o': 'prod-4o' } });
  const call = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', p);
  assert.equal(call.url, 'https://contoso.openai.azure.com/openai/v1/chat/completions');
  assert.equal(JSON.parse(call.body!).model, 'prod-4o');
  const preview = azureOpenAIAdapter.buildEmbeddingsRequest!({ model: 'e', input: 'a' }, 'e3', provider({ api_version: 'preview' }));
  assert.equal(preview.url, 'https://contoso.openai.azure.com/openai/v1/embeddings?api-version=preview');
});

test('other OpenAI operations go to the deployment too; there is no moderation endpoint on Azure', () => {
  const p = provider({}, { deployments: { 'dall-e-3': 'images-prod' } });
  const ops = azureOpenAIAdapter.operations!;
  const images = ops.images!.buildRequest({ model: 'x', prompt: 'a cat' }, 'dall-e-3', p);
  assert.equal(images.url, 'https://contoso.openai.azure.com/openai/deployments/images-prod/images/generations?api-version=2024-10-21');
  assert.equal(images.headers['api-key'], 'azure-key');
  assert.equal(JSON.parse(images.body!).model, 'images-prod');
  const legacy = ops.completions!.buildRequest({ model: 'x', prompt: 'once' }, 'gpt-35-turbo-instruct', provider({ api_version: 'v1' }));
  assert.equal(legacy.url, 'https://contoso.openai.azure.com/openai/v1/completions');
  assert.ok(ops.transcriptions && ops.speech);
  assert.equal(ops.moderations, undefined);
});

test('base_url is the resource endpoint; a trailing slash or an SDK-style /openai or /openai/v1 suffix means the same', () => {
  for (const base of ['https://contoso.openai.azure.com/', 'https://contoso.openai.azure.com/openai', 'https://contoso.openai.azure.com/openai/v1/']) {
    const call = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', provider({ base_url: base, api_version: undefined }));
    assert.equal(call.url, 'https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', base);
  }
});

test('the key goes in api-key, never as a bearer token; configured headers are added; no key, no header', () => {
  const call = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', provider({ headers: { 'x-ms-client-request-id': 'r1' } }));
  assert.deepEqual(call.headers, { 'content-type': 'application/json', 'api-key': 'azure-key', 'x-ms-client-request-id': 'r1' });
  const none = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', provider({ api_key: undefined }));
  assert.deepEqual(none.headers, { 'content-type': 'application/json' });
});

test('a fixed azure_ad_token is sent as a bearer token; a key beside a token credential is a configuration error', () => {
  const call = azureOpenAIAdapter.buildChatRequest(chat, 'gpt-4o', provider({ api_key: undefined }, { azure_ad_token: 'eyJ.token' }));
  assert.equal(call.headers.authorization, 'Bearer eyJ.token');
  assert.equal(call.headers['api-key'], undefined);
  const yaml = 'providers:\n  az:\n    type: azure-openai\n    base_url: https://r.openai.azure.com\n    api_key: k\n    azure_ad_token: t\n';
  assert.throws(() => parseConfig(yaml, {}, 'x.yaml'), (e: ConfigError) => e.problems[0]!.path === 'providers.az.api_key' && !e.message.includes(' t\n'));
});

test('options: entra defaults, unknown fields and entra beside azure_ad_token are refused', () => {
  const o = azureOptionsSchema.parse({ entra: ENTRA });
  assert.deepEqual(o.entra, { ...ENTRA, authority_host: 'https://login.microsoftonline.com', scope: 'https://cognitiveservices.azure.com/.default' });
  assert.deepEqual(o.deployments, {});
  assert.equal(azureOptionsSchema.safeParse({ entra: { ...ENTRA, tenant: 'x' } }).success, false);
  assert.equal(azureOptionsSchema.safeParse({ deployment: {} }).success, false);
  assert.equal(azureOptionsSchema.safeParse({ entra: ENTRA, azure_ad_token: 't' }).success, false);
});

test('the azure-openai type: registered without a default address, with the GA api-version and its env vars', () => {
  const type = PROVIDER_TYPES['azure-openai']!;
  assert.equal(type.base_url, undefined);
  assert.equal(type.api_version, '2024-10-21');
  assert.deepEqual(type.api_key_env, ['AZURE_OPENAI_API_KEY']);
  assert.equal(type.base_url_env, 'AZURE_OPENAI_ENDPOINT');
  const config = parseConfig(
    'providers:\n  az:\n    type: azure-openai\n    base_url: https://contoso.openai.azure.com\n    deployments: { gpt-4o: prod-4o }\n    entra: { tenant_id: t, client_id: c, client_secret: s }\n',
    {},
    'test.yaml',
  );
  const az = config.providers.get('az')!;
  assert.equal(az.api_version, '2024-10-21');
  assert.deepEqual((az.options as { deployments: unknown }).deployments, { 'gpt-4o': 'prod-4o' });
  assert.throws(
    () => parseConfig('providers:\n  az: { type: azure-openai, api_key: k }\n', {}, 'test.yaml'),
    (e: Error) => /providers\.az\.base_url/.test(e.message),
  );
  assert.throws(
    () => parseConfig('providers:\n  az: { type: azure-openai, base_url: "https://x.openai.azure.com", entra: { tenant_id: t } }\n', {}, 'test.yaml'),
    (e: Error) => /providers\.az\.entra\.client_id/.test(e.message),
  );
});

test('responses pass through as Azure sent them, filter results included', () => {
  const body = JSON.parse(fixture('chat.json'));
  assert.deepEqual(azureOpenAIAdapter.parseChatResponse(body, 'gpt-4o'), body);
});

test('stream: the prompt annotation and filter annotations are dropped; role, tool-call deltas, finish and usage remain', () => {
  const chunks = replay(azureOpenAIAdapter.createStreamTranslator(ctx), fixture('stream-tool-calls.sse'));
  assert.ok(chunks.every((c) => c.id === 'chatcmpl-AzureStream01'), 'no chunk without an id reaches the client');
  assert.ok(chunks.every((c) => c.choices.every((ch) => ch.delta)), 'every choice has a delta');
  assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  const args = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? [])).map((t) => t.function?.arguments ?? '').join('');
  assert.equal(args, '{"city":"Paris"}');
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(chunks.at(-1)!.usage!.total_tokens, 88);
  assert.equal(chunks.length, 6);
});

test('stream passthrough: plain chunks go on as their text, annotations after the first real chunk are dropped too', () => {
  const t = azureOpenAIAdapter.createStreamTranslator(ctx);
  const out = replayPassthrough(t, fixture('stream-tool-calls.sse'));
  assert.ok(out.some((c) => typeof c === 'string'), 'chunks after the first real one are passed on unparsed');
  const chunks = out.map(parsed);
  assert.ok(chunks.every((c) => c.id === 'chatcmpl-AzureStream01' && c.choices.every((ch) => ch.delta)));
  assert.equal(chunks.length, 6);
  assert.equal(t.complete!(), true);
});

test('stream: a finish carried by an asynchronous-filter annotation becomes a chunk of the stream (content_filter)', () => {
  for (const run of [replay, replayPassthrough]) {
    const chunks = run(azureOpenAIAdapter.createStreamTranslator(ctx), fixture('stream-filtered.sse')).map(parsed);
    const last = chunks.at(-1)!;
    assert.equal(last.id, 'chatcmpl-AzureStream02');
    assert.equal(last.object, 'chat.completion.chunk');
    assert.equal(last.created, 1736000002);
    assert.equal(last.model, 'gpt-4o-2024-11-20');
    assert.deepEqual(last.choices[0]!.delta, {});
    assert.equal(last.choices[0]!.finish_reason, 'content_filter');
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hey Jude');
  }
});

test('stream: a stream that only ever sent annotations before being cut is an interrupted stream', () => {
  const cut = fixture('stream-filtered.sse').split('\n\n').slice(0, 1).join('\n\n') + '\n\n';
  const t = azureOpenAIAdapter.createStreamTranslator(ctx);
  assert.deepEqual(events(cut).flatMap((e) => t.event(e)), []);
  assert.throws(() => t.end(), (e: GatewayError) => e.code === 'stream_interrupted');
});

test('errors: content-filter refusals name the tripped categories; numeric codes give way to upstream_<status>', () => {
  const filtered = azureOpenAIAdapter.parseError(400, fixture('error-content-filter.json'), undefined, 'azure');
  assert.equal(filtered.status, 400);
  assert.equal(filtered.code, 'content_filter');
  assert.equal(filtered.param, 'prompt');
  assert.match(filtered.message, /^azure: The response was filtered .* \(filtered: jailbreak\)$/);

  const limited = azureOpenAIAdapter.parseError(429, fixture('error-429.json'), '6', 'azure');
  assert.equal(limited.status, 429);
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(limited.code, 'upstream_429');
  assert.deepEqual(limited.headers, { 'retry-after': '6' });

  const missing = azureOpenAIAdapter.parseError(404, fixture('error-deployment-not-found.json'), undefined, 'azure');
  assert.equal(missing.code, 'DeploymentNotFound');
  assert.equal(missing.type, 'not_found_error');

  const html = azureOpenAIAdapter.parseError(502, '<html>Bad Gateway</html>', undefined, 'azure');
  assert.equal(html.status, 502);
  assert.match(html.message, /azure: <html>Bad Gateway/);
});

/** A token fetcher that counts calls and hands out tokens valid for `lifetimeMs` from the fake clock. */
function fakeFetcher(clock: { now: number }, lifetimeMs = 3_600_000) {
  const calls: EntraCredentials[] = [];
  let fail: GatewayError | undefined;
  const fetchToken = async (credentials: EntraCredentials): Promise<AccessToken> => {
    calls.push(credentials);
    await new Promise((r) => setImmediate(r));
    if (fail) throw fail;
    return { value: `token-${calls.length}`, expiresAt: clock.now + lifetimeMs };
  };
  return { calls, fetchToken, failWith: (e: GatewayError | undefined) => (fail = e) };
}

const bearer = (call: UpstreamCall) => call.headers.authorization;

test('entra: the token is fetched once, shared by concurrent calls, and reused until shortly before it expires', async () => {
  const clock = { now: 1_000_000 };
  const fake = fakeFetcher(clock);
  const adapter = createAzureOpenAIAdapter({ fetchToken: fake.fetchToken, now: () => clock.now });
  const p = provider({ api_key: undefined }, { entra: ENTRA });
  const build = () => adapter.buildChatRequest(chat, 'gpt-4o', p);

  const first = await Promise.all([1, 2, 3].map(() => adapter.authorize!(build(), p)));
  assert.deepEqual(first.map(bearer), ['Bearer token-1', 'Bearer token-1', 'Bearer token-1']);
  assert.equal(fake.calls.length, 1);
  assert.equal(fake.calls[0]!.scope, 'https://cognitiveservices.azure.com/.default');
  assert.equal(first[0]!.headers['api-key'], undefined);

  clock.now += 54 * 60_000; // 6 minutes left: still before the refresh margin
  assert.equal(bearer(await adapter.authorize!(build(), p)), 'Bearer token-1');
  clock.now += 2 * 60_000; // 4 minutes left: refreshed
  assert.equal(bearer(await adapter.authorize!(build(), p)), 'Bearer token-2');
  assert.equal(fake.calls.length, 2);

  const other = provider({ name: 'azure-2', api_key: undefined }, { entra: ENTRA });
  assert.equal(bearer(await adapter.authorize!(adapter.buildChatRequest(chat, 'gpt-4o', other), other)), 'Bearer token-3', 'each provider has its own token');
});

test('entra: a failed refresh falls back to the still-valid token and retries later; with no token the error surfaces', async () => {
  const clock = { now: 0 };
  const fake = fakeFetcher(clock);
  const cache = new TokenCache(() => fake.fetchToken(ENTRA as EntraCredentials), () => clock.now);
  const down = new GatewayError(502, 'upstream_error', 'azure: Microsoft Entra ID sign-in failed: down', { code: 'entra_unavailable' });

  fake.failWith(down);
  await assert.rejects(cache.get(), (e) => e === down);
  await assert.rejects(cache.get(), (e) => e === down);
  assert.equal(fake.calls.length, 2, 'a failure is not cached');

  fake.failWith(undefined);
  assert.equal(await cache.get(), 'token-3');
  clock.now += 57 * 60_000; // inside the refresh margin
  fake.failWith(down);
  assert.equal(await cache.get(), 'token-3');
  assert.equal(await cache.get(), 'token-3');
  assert.equal(fake.calls.length, 4, 'after a failed refresh the next attempt waits a little');
  clock.now += 10_000;
  fake.failWith(undefined);
  assert.equal(await cache.get(), 'token-5');
});

test('entra: short-lived tokens are refreshed at half their lifetime, not fetched on every call', async () => {
  const clock = { now: 0 };
  const fake = fakeFetcher(clock, 60_000);
  const cache = new TokenCache(() => fake.fetchToken(ENTRA as EntraCredentials), () => clock.now);
  assert.equal(await cache.get(), 'token-1');
  clock.now += 29_000;
  assert.equal(await cache.get(), 'token-1');
  clock.now += 1_000;
  assert.equal(await cache.get(), 'token-2');
});

/** A one-route HTTP server standing in for the Microsoft identity platform. */
async function tokenServer(answer: (form: URLSearchParams, path: string) => { status: number; body: string }) {
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d));
    req.on('end', () => {
      const { status, body } = answer(new URLSearchParams(text), req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

const credentials = (authority_host: string): EntraCredentials => ({ ...ENTRA, authority_host, scope: 'https://cognitiveservices.azure.com/.default' });

test('fetchEntraToken: the client-credentials form to {authority}/{tenant}/oauth2/v2.0/token', async () => {
  let seen: { form: URLSearchParams; path: string } | undefined;
  const idp = await tokenServer((form, path) => {
    seen = { form, path };
    return { status: 200, body: JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'tok' }) };
  });
  try {
    const before = Date.now();
    const token = await fetchEntraToken(credentials(`${idp.url}/`), provider());
    assert.equal(token.value, 'tok');
    assert.ok(token.expiresAt >= before + 3_599_000 && token.expiresAt <= Date.now() + 3_599_000);
    assert.equal(seen!.path, '/tenant-1/oauth2/v2.0/token');
    assert.deepEqual(Object.fromEntries(seen!.form), {
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 's3cr3t-value',
      scope: 'https://cognitiveservices.azure.com/.default',
    });
  } finally {
    await idp.close();
  }
});

test('fetchEntraToken: refused credentials are a 401 naming the provider; outages a 502; the secret never appears', async () => {
  const answers = [
    { status: 401, body: fixture('entra-invalid-client.json') },
    { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: `bad value s3cr3t-value` }) },
    { status: 503, body: '<html>unavailable</html>' },
    { status: 200, body: '{"token_type":"Bearer"}' },
  ];
  const idp = await tokenServer(() => answers.shift()!);
  try {
    const attempt = () => fetchEntraToken(credentials(idp.url), provider()).then(() => assert.fail('no error'), (e: GatewayError) => e);
    const refused = await attempt();
    assert.equal(refused.status, 401);
    assert.equal(refused.type, 'authentication_error');
    assert.equal(refused.code, 'entra_rejected');
    assert.match(refused.message, /^azure: Microsoft Entra ID sign-in failed: .* \(invalid_client: AADSTS7000215: Invalid client secret provided\./);
    assert.doesNotMatch(refused.message, /Trace ID/);
    const echoed = await attempt();
    assert.equal(echoed.status, 401);
    assert.ok(!echoed.message.includes('s3cr3t-value'), echoed.message);
    const outage = await attempt();
    assert.equal(outage.status, 502);
    assert.equal(outage.code, 'entra_unavailable');
    const empty = await attempt();
    assert.equal(empty.status, 502);
  } finally {
    await idp.close();
  }
  const unreachable = await fetchEntraToken(credentials('http://127.0.0.1:9'), provider()).then(() => assert.fail('no error'), (e: GatewayError) => e);
  assert.equal(unreachable.status, 502);
  assert.equal(unreachable.code, 'entra_unreachable');
  assert.match(unreachable.message, /could not reach 127\.0\.0\.1:9/);
});
