// Limits and budgets as a client meets them on one gateway with the embedded defaults (SQLite, counters in memory):
// OpenAI-style x-ratelimit headers, 429s the SDKs understand, a downgrade to a cheaper model, limits set in the
// database for one key, and the key's own view of what it has left (GET /v1/key/info).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { APIError } from 'openai';
import { generateKey, hashKey } from '../../src/identity/keys.ts';
import { Keyring } from '../../src/identity/secrets.ts';
import { openStore, type Store, type TenantStore } from '../../src/store/store.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

const SECRET = 'limits-e2e-master-secret-0123456789abcdef';
const pepper = new Keyring(SECRET).current.pepper;
const dir = mkdtempSync(join(tmpdir(), 'switchboard-limits-'));
const database = `sqlite://${join(dir, 'sb.db')}`;

let fake: FakeProviders;
let gateway: RunningGateway;
let store: Store;
let tenant: TenantStore;

before(async () => {
  fake = await startFakeProviders();
  store = await openStore({ storage: { database } });
  tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
  gateway = await startGateway({
    env: { SWITCHBOARD_SECRET: SECRET },
    config: `
storage: { database: "${database}" }
auth: { master_key: sk-master-0123456789abcdef }
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }
models:
  - name: smart
    targets: [{ provider: openai, model: gpt-4o }]
  - name: cheap
    targets: [{ provider: openai, model: gpt-4o-mini }]
pricing:
  models:
    "openai/metered": { input_per_mtok: 0, output_per_mtok: 1000 }
limits:
  rules:
    - { scope: key, limits: { requests_per_minute: 3 } }
    - { scope: model, match: smart, limits: { requests_per_minute: 1, on_limit: downgrade, downgrade_to: cheap } }
`,
  });
});

after(async () => {
  await gateway.stop();
  await store.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newKey(): Promise<{ key: string; id: string }> {
  const { key, prefix } = generateKey();
  const record = await tenant.keys.create({ name: 'k', key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'e2e' });
  return { key, id: record.id };
}

const client = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
const hi = [{ role: 'user' as const, content: 'hi' }];

test('requests per minute per key: x-ratelimit headers on every answer, then a 429 with retry-after', async () => {
  const { key } = await newKey();
  const openai = client(key);
  for (let remaining = 2; remaining >= 0; remaining--) {
    const { response } = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hi }).withResponse();
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(remaining));
    assert.match(response.headers.get('x-ratelimit-reset-requests')!, /^(\d+m)?\d+s$/);
  }
  const before = fake.received.length;
  const err = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hi }).catch((e: unknown) => e);
  assert.ok(err instanceof APIError);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.match(err.message, /Rate limit reached for this key: 3 requests per minute/);
  assert.ok(Number(err.headers?.get('retry-after')) > 0);
  assert.equal(fake.received.length, before, 'a refused request never reaches the provider');

  // Anthropic's SDK gets the same refusal in Anthropic's error shape.
  const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
  const refused = await anthropic.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: hi }).catch((e: unknown) => e);
  assert.ok(refused instanceof Anthropic.RateLimitError);
  assert.equal((refused.error as { error: { type: string } }).error.type, 'rate_limit_error');
});

test('over a model limit with on_limit: downgrade, the request is served by the cheaper model', async () => {
  const openai = client((await newKey()).key);
  fake.reset();
  await openai.chat.completions.create({ model: 'smart', messages: hi });
  const { response } = await openai.chat.completions.create({ model: 'smart', messages: hi }).withResponse();
  assert.equal(response.headers.get('x-switchboard-downgraded-to'), 'cheap');
  assert.deepEqual(
    fake.received.map((r) => r.body.model),
    ['gpt-4o', 'gpt-4o-mini'],
  );
});

test('limits and a budget set in the database for one key, and the key reading what it has left', async () => {
  const { key, id } = await newKey();
  await tenant.rateLimits.create({ scope: 'key', subject_id: id, limits: { tokens_per_day: 1000, on_limit: 'reject' }, created_by: 'e2e' });
  const budget = await tenant.budgets.create({ scope: 'key', subject_id: id, amount_usd: 0.005, period: 'daily', window: 'calendar', enforcement: 'hard', created_by: 'e2e' });
  const openai = client(key);
  // "hi" is answered "Echo: hi": 2 output tokens at $0.001, and max_tokens 2 reserves exactly that: two fit.
  for (let i = 0; i < 2; i++) await openai.chat.completions.create({ model: 'openai/metered', messages: hi, max_tokens: 2 });
  const err = await openai.chat.completions.create({ model: 'openai/metered', messages: hi, max_tokens: 2 }).catch((e: unknown) => e);
  assert.ok(err instanceof APIError);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'budget_exceeded');
  assert.equal(err.headers?.get('x-should-retry'), 'false');

  const info = (await (await fetch(`${gateway.url}/v1/key/info`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
    key_id: string;
    limits: { id: string; source: string }[];
    quotas: { metric: string; limit: number; used: number; remaining: number }[];
    budgets: { id: string; spent_usd: number; remaining_usd: number; resets_at: string }[];
  };
  assert.equal(info.key_id, id);
  assert.deepEqual(info.limits.map((l) => l.source).sort(), ['config', 'config', 'database']);
  const quota = info.quotas.find((q) => q.metric === 'tokens_per_day')!;
  assert.equal(quota.limit, 1000);
  assert.ok(quota.used > 0 && quota.remaining === 1000 - quota.used);
  const spent = info.budgets.find((b) => b.id === budget.id)!;
  assert.ok(Math.abs(spent.spent_usd - 0.004) < 1e-9, String(spent.spent_usd));
  assert.ok(Math.abs(spent.remaining_usd - 0.001) < 1e-9);
  assert.ok(Date.parse(spent.resets_at) > Date.now());

  const anonymous = await fetch(`${gateway.url}/v1/key/info`, { headers: { authorization: 'Bearer sk-sb-nope' } });
  assert.equal(anonymous.status, 401);
});

test('two requests sent with the same x-request-id are two records in the ledger, not a duplicate', async () => {
  const { key, id } = await newKey();
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': 'client-retry-1' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: hi }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'client-retry-1');
  }
  const range = { from: new Date(0).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), key_id: id };
  let requests = 0;
  for (let i = 0; i < 50 && requests < 2; i++) {
    requests = (await tenant.usage.summary(range)).total.requests;
    if (requests < 2) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(requests, 2);
});
