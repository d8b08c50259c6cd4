import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import { RequestAbort } from '../http/abort.ts';
import { LOCAL_IDENTITY, type Identity } from '../identity/identity.ts';
import { createLogger } from '../observability/logger.ts';
import { newContext, type RequestContext } from '../pipeline/context.ts';
import { Router } from '../routing/router.ts';
import { Pricing } from '../usage/pricing.ts';
import type { LimitBackend } from './backend.ts';
import { duration, Limiter, type LedgerTotals, type LimiterOptions } from './limiter.ts';
import { MemoryLimitBackend } from './memory.ts';
import type { BudgetRule, LimitRule } from './rules.ts';

const config = parseConfig(`
providers:
  openai: { type: openai, api_key: k }
models:
  - name: smart
    targets: [{ provider: openai, model: gpt-4o }]
  - name: cheap
    targets: [{ provider: openai, model: gpt-4o-mini }]
pricing:
  models:
    "openai/priced": { input_per_mtok: 0, output_per_mtok: 1000 }
`, {}, 'test');
const router = new Router(config);
const pricing = new Pricing(config.pricing.models);
const backends: LimitBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});

let clock = 0;
/** A limiter on a fresh memory backend whose clock starts at noon UTC. */
function limiter(rules: LimitRule[], extra: Partial<LimiterOptions> = {}) {
  clock = Date.UTC(2026, 10, 22, 12, 0, 0);
  const backend = new MemoryLimitBackend();
  backends.push(backend);
  const seeded: Parameters<LedgerTotals>[] = [];
  const alerts: [string, number, number][] = [];
  const l = new Limiter({
    backend,
    rules,
    defaultMaxTokens: 100,
    onBackendError: 'open',
    pricing,
    router,
    ledgerTotals: async (...args) => {
      seeded.push(args);
      return new Map();
    },
    alerts: { crossed: (budget, _start, before, after) => alerts.push([budget.id, before, after]) },
    logger: createLogger({ level: 'silent' }),
    now: () => clock,
    ...extra,
  });
  return { limiter: l, backend, seeded, alerts };
}

const key = (over: Partial<Identity> = {}): Identity => ({
  ...LOCAL_IDENTITY,
  kind: 'key',
  key_id: 'key_1',
  org_id: 'org_1',
  team_id: 'team_1',
  ...over,
});

function ctx(model = 'smart', identity: Identity = key(), maxTokens = 10, prompt = 'hello'): RequestContext {
  const c = newContext({
    id: 'r',
    surface: 'openai',
    operation: 'chat',
    model,
    stream: false,
    abort: new RequestAbort(),
    credential: undefined,
    clientIp: '127.0.0.1',
    sizing: { prompt, maxOutputTokens: maxTokens },
  });
  c.identity = identity;
  c.route = router.resolve(model);
  const headers: Record<string, string> = {};
  c.response = { setHeader: (name, value) => (headers[name] = value) };
  (c as RequestContext & { headers: Record<string, string> }).headers = headers;
  return c;
}
const headersOf = (c: RequestContext) => (c as RequestContext & { headers: Record<string, string> }).headers;

/** Runs the request as the pipeline would: reserve, "call" (setting usage), settle. */
async function run(l: Limiter, c: RequestContext, usage?: { prompt: number; completion: number }) {
  await l.reserve(c);
  if (usage) {
    c.attempts = 1;
    c.target = c.route!.targets[0];
    c.usage = { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion };
  }
  l.settle(c);
  await l.flush();
}

const rejects429 = async (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (err) => err instanceof GatewayError && err.status === 429 && err.code === code);

test('requests per minute per key: the limit, then 429 with retry-after and the OpenAI headers', async () => {
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'key', requests_per_minute: 3, on_limit: 'reject' }]);
  for (let i = 0; i < 3; i++) await run(l, ctx());
  const c = ctx();
  await l.reserve(c).then(
    () => assert.fail('admitted'),
    (err: GatewayError) => {
      assert.equal(err.status, 429);
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.match(err.message, /this key: 3 requests per minute/);
      assert.equal(err.headers['retry-after'], '20');
      assert.equal(err.headers['x-ratelimit-limit-requests'], '3');
      assert.equal(err.headers['x-ratelimit-remaining-requests'], '0');
    },
  );
  // Another key has its own counter.
  await run(l, ctx('smart', key({ key_id: 'key_2' })));
  clock += 20_000;
  const ok = ctx();
  await run(l, ok);
  assert.equal(headersOf(ok)['x-ratelimit-remaining-requests'], '0');
  assert.equal(headersOf(ok)['x-ratelimit-reset-requests'], '1m0s');
});

test('a rule for a subject the caller lacks does not apply; model rules match by glob', async () => {
  const { limiter: l } = limiter([
    { id: 'config:0', scope: 'user', requests_per_minute: 1, on_limit: 'reject' },
    { id: 'config:1', scope: 'model', match: 'sm*', requests_per_minute: 1, on_limit: 'reject' },
  ]);
  await run(l, ctx('cheap'));
  await run(l, ctx('cheap'));
  await run(l, ctx('smart'));
  await rejects429(l.reserve(ctx('smart')), 'rate_limit_exceeded');
});

test('tokens per minute: reserve prompt estimate plus max_tokens, settle with real usage', async () => {
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'global', tokens_per_minute: 100, on_limit: 'reject' }]);
  // The prompt "hello" estimates at 2 tokens: each request reserves 2 + 40.
  const first = ctx('smart', key(), 40);
  await l.reserve(first);
  assert.equal(headersOf(first)['x-ratelimit-remaining-tokens'], '58');
  await l.reserve(ctx('smart', key(), 40));
  // 84 of 100 reserved: a third 42 would overshoot.
  await rejects429(l.reserve(ctx('smart', key(), 40)), 'rate_limit_exceeded');
  // The first used only 11: 31 come back, and the third fits.
  first.attempts = 1;
  first.target = first.route!.targets[0];
  first.usage = { prompt_tokens: 1, completion_tokens: 10, total_tokens: 11 };
  l.settle(first);
  await l.flush();
  await l.reserve(ctx('smart', key(), 40));
  // A request larger than the whole limit can never pass, and says so.
  await rejects429(l.reserve(ctx('smart', key(), 500)), 'request_too_large_for_limit');
});

test('a request refused before any provider call gives its whole reservation back', async () => {
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'global', tokens_per_minute: 50, on_limit: 'reject' }]);
  for (let i = 0; i < 5; i++) await run(l, ctx('smart', key(), 40));
});

test('daily token quota: seeded from the ledger once, counted per UTC day', async () => {
  // Each request reserves 2 + 9 and uses 10.
  const { limiter: l, seeded } = limiter([{ id: 'config:0', scope: 'team', tokens_per_day: 31, on_limit: 'reject' }]);
  await run(l, ctx('smart', key(), 9), { prompt: 1, completion: 9 });
  await run(l, ctx('smart', key(), 9), { prompt: 1, completion: 9 });
  await run(l, ctx('smart', key(), 9), { prompt: 1, completion: 9 });
  await l.reserve(ctx('smart', key(), 9)).then(
    () => assert.fail('admitted'),
    (err: GatewayError) => {
      assert.equal(err.status, 429);
      // Until the next UTC midnight, 12 hours on.
      assert.equal(err.headers['retry-after'], String(12 * 3600));
      assert.equal(err.headers['x-ratelimit-reset-tokens'], '12h0m0s');
    },
  );
  assert.equal(seeded.length, 1);
  assert.deepEqual(seeded[0]![0], { team_id: 'team_1' });
  assert.equal(seeded[0]![1], Date.UTC(2026, 10, 22));
  clock += 12 * 3_600_000;
  await run(l, ctx('smart', key(), 9), { prompt: 1, completion: 9 });
});

test('max_concurrent: leases held until settle', async () => {
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'key', max_concurrent: 2, on_limit: 'reject' }]);
  const a = ctx();
  const b = ctx();
  await l.reserve(a);
  await l.reserve(b);
  await rejects429(l.reserve(ctx()), 'rate_limit_exceeded');
  l.settle(a);
  await l.flush();
  await l.reserve(ctx());
});

test('queue: waits for room up to queue_ms, then 429', async () => {
  const { limiter: l } = limiter(
    [{ id: 'config:0', scope: 'global', requests_per_second: 1, on_limit: 'queue', queue_ms: 1500 }],
    { now: Date.now },
  );
  await run(l, ctx());
  const started = Date.now();
  await run(l, ctx());
  assert.ok(Date.now() - started >= 900, 'waited for the next slot');
  const tight = limiter([{ id: 'config:0', scope: 'global', requests_per_second: 1, on_limit: 'queue', queue_ms: 100 }], { now: Date.now });
  await run(tight.limiter, ctx());
  await rejects429(tight.limiter.reserve(ctx()), 'rate_limit_exceeded');
});

test('downgrade: over the limit, the request is served by the configured cheaper model', async () => {
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'model', match: 'smart', requests_per_minute: 1, on_limit: 'downgrade', downgrade_to: 'cheap' }]);
  await run(l, ctx());
  const c = ctx();
  await l.reserve(c);
  assert.equal(c.route!.name, 'cheap');
  assert.equal(headersOf(c)['x-switchboard-downgraded-to'], 'cheap');
  // A key that may not use the cheaper model is refused rather than downgraded behind its back.
  await assert.rejects(l.reserve(ctx('smart', key({ allowed_models: ['smart'] }))), (err: GatewayError) => err.status === 403);
});

const budget = (over: Partial<BudgetRule> = {}): BudgetRule => ({
  id: 'bud_1',
  org_id: 'org_1',
  scope: 'team',
  subject_id: 'team_1',
  amount_usd: 0.1,
  period: 'monthly',
  window: 'calendar',
  enforcement: 'hard',
  alert_thresholds: [50, 100],
  webhook_url: null,
  webhook_format: 'json',
  ...over,
});

test('a hard budget reserves the most a request can cost and refuses what could overspend', async () => {
  // openai/priced: $1000 per million output tokens = $0.001 per token; 10 max tokens = $0.01 at most.
  const { limiter: l, alerts } = limiter([]);
  const identity = key({ budgets: [budget()] });
  for (let i = 0; i < 10; i++) await run(l, ctx('openai/priced', identity, 10), { prompt: 1, completion: 10 });
  await l.reserve(ctx('openai/priced', identity, 10)).then(
    () => assert.fail('admitted'),
    (err: GatewayError) => {
      assert.equal(err.status, 429);
      assert.equal(err.type, 'insufficient_quota');
      assert.equal(err.code, 'budget_exceeded');
      assert.equal(err.headers['x-should-retry'], 'false');
      assert.match(err.message, /monthly budget of \$0.1 for this team has \$0.000000 left/);
    },
  );
  // Alerts see the spend crossing each threshold (BudgetAlerts sends each once).
  assert.ok(alerts.some(([, before, after]) => before < 0.05 && after >= 0.05));
  assert.ok(alerts.some(([, , after]) => after >= 0.1));
});

test('a budget settles with the real cost: a request that used less leaves room for more', async () => {
  const { limiter: l } = limiter([]);
  const identity = key({ budgets: [budget({ amount_usd: 0.02 })] });
  // Each reserves $0.01 but uses $0.002: six fit ($0.010 spent + $0.010 reserved), where reservations alone allow two.
  for (let i = 0; i < 6; i++) await run(l, ctx('openai/priced', identity, 10), { prompt: 1, completion: 2 });
  await rejects429(l.reserve(ctx('openai/priced', identity, 10)), 'budget_exceeded');
  // A smaller request still fits what is left.
  await run(l, ctx('openai/priced', identity, 8), { prompt: 1, completion: 2 });
});

test('a soft budget never refuses', async () => {
  const { limiter: l, alerts } = limiter([]);
  const identity = key({ budgets: [budget({ enforcement: 'soft', amount_usd: 0.01 })] });
  for (let i = 0; i < 3; i++) await run(l, ctx('openai/priced', identity, 10), { prompt: 1, completion: 10 });
  assert.ok(alerts.some(([, , after]) => after >= 0.01));
});

test('backend unreachable: fail open by default (counted), fail closed with 503 when configured', async () => {
  const broken: LimitBackend = {
    name: 'redis',
    admit: () => Promise.reject(new Error('connection refused')),
    settle: () => Promise.reject(new Error('connection refused')),
    seed: () => Promise.reject(new Error('connection refused')),
    peek: () => Promise.reject(new Error('connection refused')),
    close: async () => {},
  };
  const rules: LimitRule[] = [{ id: 'config:0', scope: 'global', requests_per_minute: 1, on_limit: 'reject' }];
  const open = limiter(rules, { backend: broken });
  await run(open.limiter, ctx());
  assert.equal(open.limiter.backendErrors, 1);
  const closed = limiter(rules, { backend: broken, onBackendError: 'closed' });
  await assert.rejects(closed.limiter.reserve(ctx()), (err: GatewayError) => err.status === 503 && err.code === 'limits_unavailable');
});

test('reset durations in OpenAI format', () => {
  assert.equal(duration(20), '20ms');
  assert.equal(duration(1000), '1s');
  assert.equal(duration(360_000), '6m0s');
  assert.equal(duration(3_723_000), '1h2m3s');
});

test('settlements of requests ending in the same turn go to the backend in one call', async () => {
  const backend = new MemoryLimitBackend();
  backends.push(backend);
  let calls = 0;
  const settle = backend.settle.bind(backend);
  backend.settle = (items, now) => {
    calls++;
    return settle(items, now);
  };
  const { limiter: l } = limiter([{ id: 'config:0', scope: 'key', max_concurrent: 5, on_limit: 'reject' }], { backend });
  const requests = Array.from({ length: 5 }, () => ctx());
  for (const c of requests) await l.reserve(c);
  for (const c of requests) l.settle(c);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 1);
  await l.reserve(ctx());
});
