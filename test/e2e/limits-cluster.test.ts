// Budgets and token limits that hold exactly across instances: two gateway processes share a real PostgreSQL (a fresh
// schema) and a real Redis (a namespace of their own), and 200 concurrent requests are split between them. Skipped,
// saying why, when PostgreSQL or Redis does not answer on 127.0.0.1.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { generateKey, hashKey } from '../../src/identity/keys.ts';
import { Keyring } from '../../src/identity/secrets.ts';
import { openStore, type Store, type TenantStore } from '../../src/store/store.ts';
import { estimateTokens } from '../../src/usage/estimate-tokens.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { postgresTestSchema, type TestSchema } from '../helpers/postgres.ts';
import { REDIS_URL, redisSkipReason } from '../helpers/redis.ts';

const SECRET = 'limits-cluster-master-secret-0123456789abcdef';
const namespace = `limits-${randomUUID()}`;
const pepper = new Keyring(SECRET).current.pepper;


const postgres = await postgresTestSchema();
const skip = 'skip' in postgres ? postgres.skip : await redisSkipReason();
if (skip && !('skip' in postgres)) await postgres.drop();

/** "hi" is answered "Echo: hi": 2 output tokens, so max_tokens 2 reserves exactly what the request then costs. */
const MESSAGES = [{ role: 'user' as const, content: 'hi' }];
/** $1000 per million output tokens, inputs free: each request costs exactly $0.002. */
const REQUEST_COST = 0.002;

describe('limits and budgets across two instances sharing PostgreSQL and Redis', { skip }, () => {
  const schema = postgres as TestSchema;
  let fake: FakeProviders;
  let store: Store;
  let tenant: TenantStore;
  let hooks: Server;
  const alerts: { threshold_percent: number; budget_id: string }[] = [];
  const gateways: RunningGateway[] = [];

  before(async () => {
    fake = await startFakeProviders();
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        alerts.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    store = await openStore({ storage: { database: schema.url } });
    tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
    const config = `
logging: { level: warn }
storage: { database: "${schema.url}", redis: "${REDIS_URL}", redis_namespace: "${namespace}" }
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }
pricing:
  models:
    "openai/metered": { input_per_mtok: 0, output_per_mtok: 1000 }
budgets:
  alerts:
    thresholds: [50, 80, 100]
    webhooks: [{ url: "http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook" }]
`;
    for (let i = 0; i < 2; i++) gateways.push(await startGateway({ config, env: { SWITCHBOARD_SECRET: SECRET } }));
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await store?.close();
    await fake?.close();
    hooks?.close();
    await schema.drop();
  });

  async function newKey(name: string): Promise<{ key: string; id: string }> {
    const { key, prefix } = generateKey();
    const record = await tenant.keys.create({ name, key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'e2e' });
    return { key, id: record.id };
  }

  type Outcome = { ok: true; tokens: number; headers: Headers } | { ok: false; status: number; code: string | null | undefined };

  /** n concurrent requests, alternating between the two instances. */
  function burst(key: string, n: number): Promise<Outcome[]> {
    const clients = gateways.map((g) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: key, maxRetries: 0 }));
    return Promise.all(
      Array.from({ length: n }, async (_, i): Promise<Outcome> => {
        try {
          const { data, response } = await clients[i % 2]!.chat.completions
            .create({ model: 'openai/metered', messages: MESSAGES, max_tokens: 2 })
            .withResponse();
          return { ok: true, tokens: data.usage!.prompt_tokens + data.usage!.completion_tokens, headers: response.headers };
        } catch (err) {
          if (!(err instanceof APIError)) throw err;
          return { ok: false, status: err.status ?? 0, code: err.code };
        }
      }),
    );
  }

  /** Requests and spend the ledger recorded for a key, once it has written as many records as expected (it batches). */
  async function ledgerSpend(keyId: string, records: number): Promise<{ count: number; usd: number }> {
    const range = { from: new Date(0).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), key_id: keyId };
    for (let i = 0; i < 100; i++) {
      const { total } = await tenant.usage.summary(range);
      if (total.requests >= records) return { count: total.requests, usd: total.cost_usd };
      await sleep(100);
    }
    throw new Error('the ledger did not record every request within 10 s');
  }

  test('a hard budget affording 50 requests: 200 concurrent on two instances, exactly 50 answered, spend within it', async () => {
    const { key, id } = await newKey('budgeted');
    // 50 requests and half of one more: the 51st reservation cannot fit.
    const amount = 50.5 * REQUEST_COST;
    const budget = await tenant.budgets.create({ scope: 'key', subject_id: id, amount_usd: amount, period: 'monthly', window: 'calendar', enforcement: 'hard', created_by: 'e2e' });
    const outcomes = await burst(key, 200);
    const answered = outcomes.filter((o) => o.ok);
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    assert.equal(answered.length, 50, 'no more and no fewer than the budget affords');
    assert.ok(refused.every((o) => o.status === 429 && o.code === 'budget_exceeded'), JSON.stringify(refused.slice(0, 3)));
    const spend = await ledgerSpend(id, 50);
    assert.equal(spend.count, 50);
    assert.ok(spend.usd <= amount, `spent ${spend.usd} of ${amount}`);
    assert.ok(Math.abs(spend.usd - 50 * REQUEST_COST) < 1e-9);

    // Each threshold alerted once, whichever instance crossed it.
    for (let i = 0; i < 50 && alerts.filter((a) => a.budget_id === budget.id).length < 3; i++) await sleep(100);
    await sleep(300);
    const sent = alerts.filter((a) => a.budget_id === budget.id).map((a) => a.threshold_percent);
    assert.deepEqual(sent.sort((a, b) => a - b), [50, 80, 100]);
  });

  test('tokens per minute across two instances: accepted tokens never exceed the limit', async () => {
    const { key, id } = await newKey('token-limited');
    const limit = 300;
    await tenant.rateLimits.create({ scope: 'key', subject_id: id, limits: { tokens_per_minute: limit, on_limit: 'reject' }, created_by: 'e2e' });
    // What each request reserves: the gateway's estimate of the prompt plus max_tokens.
    const reserved = estimateTokens([MESSAGES, undefined]) + 2;
    const started = Date.now();
    const outcomes = await burst(key, 200);
    const elapsedMin = (Date.now() - started) / 60_000;
    const answered = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
    const used = answered.reduce((sum, o) => sum + o.tokens, 0);
    // A token bucket refills as it goes: over the burst it may take the limit plus what refilled meanwhile.
    assert.ok(used <= limit + limit * elapsedMin + 1, `used ${used} tokens of ${limit} in ${elapsedMin * 60} s`);
    // No more refused than needed: at least every reservation that fits the bucket went through.
    assert.ok(answered.length >= Math.floor(limit / reserved), `${answered.length} answered, ${Math.floor(limit / reserved)} fit`);
    assert.ok(outcomes.some((o) => !o.ok && o.status === 429 && o.code === 'rate_limit_exceeded'));
    const first = answered[0]!.headers;
    assert.equal(first.get('x-ratelimit-limit-tokens'), String(limit));
    assert.match(first.get('x-ratelimit-remaining-tokens') ?? '', /^\d+$/);
    assert.match(first.get('x-ratelimit-reset-tokens') ?? '', /^\d+(ms|s)$|m\d+s$/);
  });
});
