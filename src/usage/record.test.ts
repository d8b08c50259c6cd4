import { newTargetStats } from '../routing/strategies.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import { RequestAbort } from '../http/abort.ts';
import type { Identity } from '../identity/identity.ts';
import { newContext, type RequestContext } from '../pipeline/context.ts';
import { Pipeline } from '../pipeline/stages.ts';
import { usageStage } from '../pipeline/stages/usage.ts';
import { PROVIDER_TYPES } from '../providers/registry.ts';
import type { Target } from '../routing/router.ts';
import { costOf } from './cost.ts';
import { Pricing } from './pricing.ts';
import type { UsageRecord } from './record.ts';
import { usageRecord } from './record.ts';
import { PayloadCapture } from '../request-logs/capture.ts';

const pricing = new Pricing();

const identity: Identity = {
  kind: 'key',
  key_id: 'key_1',
  org_id: 'org_1',
  team_id: 'team_1',
  user_id: undefined,
  metadata: {},
  allowed_models: [],
  allowed_surfaces: [],
  policies: [],
  limits: [],
  budgets: [],
  log_payloads: false,
};

const target = (type: string, model: string): Target => ({
  id: `my-${type}/${model}`,
  provider: {
    name: `my-${type}`,
    type,
    base_url: 'http://127.0.0.1:1',
    headers: {},
    timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
    models: [],
    options: {},
  },
  adapter: PROVIDER_TYPES[type]!.adapter,
  model,
  stats: newTargetStats(),
});

function answered(): RequestContext {
  const ctx = newContext({ id: 'req_1', surface: 'openai', operation: 'chat', model: 'fast', stream: true, abort: new RequestAbort(), credential: 'k', clientIp: '127.0.0.1' });
  ctx.identity = identity;
  ctx.target = target('anthropic', 'claude-sonnet-4-5');
  ctx.attempts = 2;
  ctx.ttftMs = 12.5;
  ctx.usage = {
    prompt_tokens: 1000,
    completion_tokens: 100,
    total_tokens: 1100,
    prompt_tokens_details: { cached_tokens: 200, cache_creation_tokens: 300 },
    completion_tokens_details: { reasoning_tokens: 40 },
  };
  return ctx;
}

test('a record carries who, what, where, the tokens and the cost', () => {
  const ctx = answered();
  const record = usageRecord(ctx, pricing, Date.parse('2026-01-02T03:04:05.000Z'), ctx.startedAt + 250);
  assert.deepEqual(record, {
    request_id: 'req_1',
    time: '2026-01-02T03:04:05.000Z',
    key_id: 'key_1',
    team_id: 'team_1',
    user_id: null,
    org_id: 'org_1',
    surface: 'openai',
    model: 'fast',
    provider: 'my-anthropic',
    provider_model: 'claude-sonnet-4-5',
    attempts: 2,
    status: 200,
    input_tokens: 1000,
    output_tokens: 100,
    cached_tokens: 200,
    cache_write_tokens: 300,
    reasoning_tokens: 40,
    cost_usd: 0.004185,
    priced: true,
    latency_ms: 250,
    ttft_ms: 12.5,
    cache_hit: false,
    estimated: false,
    operation: 'chat',
    stream: true,
    error_type: null,
    error_code: null,
    error_message: null,
    strategy: null,
    failed_attempts: null,
    client_ip: '127.0.0.1',
    client_metadata: null,
    metadata_header: null,
    payload: null,
  } satisfies UsageRecord);
});

test("a record carries the request log's detail: the failure, the attempts that failed, the client's metadata, captured bodies", () => {
  const ctx = newContext({
    id: 'req_2',
    surface: 'openai',
    operation: 'embeddings',
    model: 'fast',
    stream: false,
    abort: new RequestAbort(),
    credential: 'k',
    clientIp: '10.1.2.3',
    headers: { 'x-switchboard-metadata': '{"trace":"t1"}' },
    body: { input: 'x', metadata: { user: 'u1' } },
  });
  ctx.identity = identity;
  ctx.target = target('anthropic', 'claude-sonnet-4-5');
  ctx.attempts = 2;
  ctx.route = { name: 'fast', strategy: 'fallback', targets: [ctx.target], policy: { retry: { max_attempts: 1 } as never, fallbackOn: new Set() } };
  ctx.failedAttempts = [{ target: 'my-openai/gpt-4o', status: 429, code: 'rate_limit_exceeded' }];
  ctx.error = new GatewayError(502, 'upstream_error', 'the provider broke', { code: 'bad_gateway' });
  ctx.payload = new PayloadCapture(1024);
  ctx.payload.answer('{"ok":true}');
  const record = usageRecord(ctx, pricing);
  assert.deepEqual(
    [record.operation, record.stream, record.status, record.error_type, record.error_code, record.error_message, record.strategy, record.failed_attempts, record.client_ip],
    ['embeddings', false, 502, 'upstream_error', 'bad_gateway', 'the provider broke', 'fallback', ctx.failedAttempts, '10.1.2.3'],
  );
  assert.deepEqual([record.client_metadata, record.metadata_header], [{ user: 'u1' }, '{"trace":"t1"}']);
  assert.deepEqual(record.payload, { request_body: '{"input":"x","metadata":{"user":"u1"}}', response_body: '{"ok":true}', request_truncated: false, response_truncated: false });
});

test('a failed request is recorded with its status and no tokens', () => {
  const ctx = answered();
  ctx.usage = undefined;
  ctx.ttftMs = undefined;
  ctx.error = new GatewayError(502, 'api_error', 'upstream failed');
  const record = usageRecord(ctx, pricing);
  assert.equal(record.status, 502);
  assert.deepEqual([record.input_tokens, record.output_tokens, record.cost_usd, record.priced, record.ttft_ms], [0, 0, 0, false, null]);
});

test('a NUL in a client-sent model name is dropped, so the database takes the record', () => {
  const ctx = answered();
  ctx.model = 'openai/gpt\u00004o';
  ctx.target = { ...ctx.target!, model: 'gpt\u00004o' };
  const record = usageRecord(ctx, pricing);
  assert.deepEqual([record.model, record.provider_model], ['openai/gpt4o', 'gpt4o']);
});

test('the cost is worked out once and kept on the context', () => {
  const ctx = answered();
  const first = costOf(ctx, pricing);
  assert.equal(ctx.cost, first);
  assert.equal(usageRecord(ctx, pricing).cost_usd, first!.usd);
});

test('the usage stage records requests that reached a provider, and only those', async () => {
  const written: UsageRecord[] = [];
  const pipeline = new Pipeline([usageStage(pricing, { write: (r) => written.push(r) })]);
  const reached = answered();
  await pipeline.run(reached, async () => undefined);
  const refused = answered();
  refused.attempts = 0;
  await pipeline.run(refused, async () => undefined);
  assert.deepEqual(written.map((r) => r.request_id), ['req_1']);
  assert.equal(reached.cost?.usd, 0.004185);
});

test('a request answered by sharing an identical one\'s call is recorded as a cache hit, with its tokens and no cost', async () => {
  const written: UsageRecord[] = [];
  const pipeline = new Pipeline([usageStage(pricing, { write: (r) => written.push(r) })]);
  const follower = answered();
  follower.attempts = 0;
  follower.coalesced = true;
  await pipeline.run(follower, async () => undefined);
  assert.equal(written.length, 1);
  const [record] = written;
  assert.deepEqual([record!.attempts, record!.cache_hit, record!.input_tokens, record!.output_tokens, record!.cost_usd, record!.priced], [0, true, 1000, 100, 0, true]);
});
