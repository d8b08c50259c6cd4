// What operators see of the real gateway process: one JSON log line per request with who and what (ids, never the
// key) and no secret anywhere in the output, Prometheus metrics under the names they search for, and the
// x-switchboard-overhead-ms header on every response, which excludes the time spent waiting on providers.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { request } from 'undici';
import { startFakeGateway, type FakeGateway } from '../helpers/fake-gateway.ts';
import { accessLogLine, startGateway } from '../helpers/gateway.ts';

const MASTER = 'sb-master-observability-0123';
const PROVIDER_KEY = 'sk-provider-secret-7d1f0c';
const SECRET = 'observability-master-secret-0123456789abcdef';

let e: FakeGateway;
let key: { id: string; key: string; team_id: string };
let client: OpenAI;

async function admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await request(`${e.gateway.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.body.json()) as Record<string, any>;
  assert.ok(res.statusCode < 300, JSON.stringify(json));
  return json;
}

before(async () => {
  e = await startFakeGateway(
    (url) => `
logging: { level: info, redact: ['customer.email'] }
auth: { master_key: ${MASTER}, secret: ${SECRET} }
storage: { database: "sqlite::memory:" }
providers:
  openai: { type: openai, api_key: ${PROVIDER_KEY}, base_url: "${url}/openai/v1" }
  backup: { type: openai, api_key: ${PROVIDER_KEY}, base_url: "${url}/openai/v1" }
models:
  - name: chat
    targets: [{ provider: openai, model: gpt-4o-mini }]
  - name: resilient
    retry: { max_attempts: 2, initial_backoff_ms: 150, max_backoff_ms: 150 }
    targets: [{ provider: openai, model: gpt-4o-mini }, { provider: backup, model: gpt-4o-mini }]
`,
  );
  const org = await admin('POST', '/orgs', { name: 'observed' });
  const team = await admin('POST', `/orgs/${org.id}/teams`, { name: 'platform' });
  key = (await admin('POST', `/orgs/${org.id}/keys`, { name: 'ci', team_id: team.id })) as typeof key;
  client = new OpenAI({ baseURL: `${e.gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

const overhead = (headers: Headers) => Number(headers.get('x-switchboard-overhead-ms'));

test('one log line per request names the key, team, route, target, outcome, tokens and cost, and never a secret', async () => {
  e.fake.script({ text: 'logged', usage: { input: 12, output: 5 } });
  const { response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  const line = await accessLogLine(e.gateway, response.headers.get('x-request-id')!);
  assert.ok(line, e.gateway.output());
  assert.equal(line.key_id, key.id);
  assert.equal(line.team_id, key.team_id);
  assert.equal(line.model, 'chat');
  assert.equal(line.provider, 'openai');
  assert.equal(line.target, 'openai/gpt-4o-mini');
  assert.equal(line.status, 200);
  assert.equal(line.attempts, 1);
  assert.equal(line.cache, 'miss');
  assert.deepEqual([line.input_tokens, line.output_tokens], [12, 5]);
  assert.equal(typeof line.cost_usd, 'number');
  assert.equal(typeof line.latency_ms, 'number');
  assert.equal(typeof line.overhead_ms, 'number');

  const failed = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }).catch((err: unknown) => err);
  assert.ok(failed instanceof APIError && failed.status === 404);
  const refused = await accessLogLine(e.gateway, failed.headers!.get('x-request-id')!);
  assert.equal(refused?.status, 404);
  assert.equal(refused?.error_type, 'not_found_error');

  const output = e.gateway.output();
  for (const secret of [key.key, MASTER, PROVIDER_KEY, SECRET]) assert.ok(!output.includes(secret), `a secret reached the log: ${secret}`);
});

test('every response carries x-switchboard-overhead-ms, which leaves out the provider time and the backoff', async () => {
  e.fake.fault({ kind: 'latency', ms: 300 }, { times: 1 });
  const slow = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.ok(overhead(slow.response.headers) >= 0 && overhead(slow.response.headers) < 200, `overhead ${overhead(slow.response.headers)} ms with a 300 ms provider`);

  e.fake.fault({ kind: 'latency', ms: 300 }, { times: 1 });
  const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
  for await (const _ of stream.data);
  assert.ok(overhead(stream.response.headers) < 200, `stream overhead ${overhead(stream.response.headers)} ms`);

  // A 503, a 150 ms backoff, then an answer: neither the failed attempt nor the wait is the gateway's.
  e.fake.fault({ kind: 'status', status: 503 }, { times: 1 });
  const retried = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(e.fake.received.length, 4);
  assert.ok(overhead(retried.response.headers) < 140, `overhead ${overhead(retried.response.headers)} ms across a 150 ms backoff`);

  const unknown = await request(`${e.gateway.url}/v1/nowhere`);
  await unknown.body.dump();
  assert.equal(unknown.statusCode, 404);
  assert.ok(Number(unknown.headers['x-switchboard-overhead-ms']) >= 0, 'errors carry it too');
});

test('GET /metrics serves the llm_gateway_* series operators look for, with bounded labels', async () => {
  e.fake.script({ text: 'counted', usage: { input: 7, output: 3 } });
  await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
  e.fake.fault({ kind: 'status', status: 500 }, { times: 2 });
  await assert.rejects(client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }));
  await client.chat.completions.create({ model: 'made-up-model-1', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);

  const res = await request(`${e.gateway.url}/metrics`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  const text = await res.body.text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
  assert.ok(value(/^llm_gateway_requests_total\{model="chat",provider="openai",status_class="2xx"\} (\d+)/m) >= 1, text);
  assert.ok(value(/^llm_gateway_errors_total\{model="chat",provider="openai",status_class="5xx",error_type="[a-z_]+"\} (\d+)/m) >= 1);
  assert.ok(value(/^llm_gateway_token_usage_total\{model="chat",provider="openai",direction="input"\} (\d+)/m) >= 7);
  assert.ok(value(/^llm_gateway_token_usage_total\{model="chat",provider="openai",direction="output"\} (\d+)/m) >= 3);
  assert.ok(value(/^llm_gateway_request_duration_seconds_count\{model="chat",provider="openai",status_class="2xx"\} (\d+)/m) >= 1);
  assert.ok(value(/^llm_gateway_cache_misses_total\{model="chat",provider="openai"\} (\d+)/m) >= 1);
  for (const name of ['llm_gateway_cache_hits_total', 'llm_gateway_cost_usd_total', 'llm_gateway_time_to_first_token_seconds', 'llm_gateway_upstream_duration_seconds', 'llm_gateway_in_flight_requests', 'llm_gateway_retries_total', 'llm_gateway_fallbacks_total', 'llm_gateway_limit_rejections_total', 'llm_gateway_circuit_state', 'llm_gateway_usage_records_pending', 'process_cpu_seconds_total']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
  }
  assert.ok(!text.includes('made-up-model-1'), "a client's unknown model never becomes a label");
  assert.ok(!text.includes(key.id), 'no per-key labels unless enabled');
});

test('logging.pretty prints readable lines instead of JSON, still without secrets', async () => {
  const pretty = await startGateway({
    config: `
logging: { level: info, pretty: true }
providers:
  openai: { type: openai, api_key: ${PROVIDER_KEY}, base_url: "${e.fake.url}/openai/v1" }
models:
  - name: chat
    targets: [{ provider: openai, model: gpt-4o-mini }]
`,
  });
  try {
    const local = new OpenAI({ baseURL: `${pretty.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const { response } = await local.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const id = response.headers.get('x-request-id')!;
    for (let i = 0; i < 100 && !pretty.output().includes(id); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const output = pretty.output();
    assert.ok(output.includes(id), output);
    assert.match(output, /INFO.*request/);
    assert.ok(!output.includes('"level":30'), 'no JSON lines');
    assert.ok(!pretty.output().includes(PROVIDER_KEY));
  } finally {
    await pretty.stop();
  }
});
