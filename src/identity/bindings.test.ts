// The bindings loader over a real store (SQLite in memory): what binds a key reaches its identity as rules, and a
// change shows once the key is invalidated.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryKv } from '../store/kv/memory.ts';
import { openStore, type Store, type TenantStore } from '../store/store.ts';
import { bindingsLoader } from './bindings.ts';
import { MASTER_IDENTITY, LOCAL_IDENTITY } from './identity.ts';
import { KeyAuth } from './key-auth.ts';
import { generateKey, hashKey } from './keys.ts';
import { Keyring } from './secrets.ts';

const PEPPER = new Keyring('bindings-master-secret-0123456789abcdef', []).keys[0]!.pepper;
const DEFAULTS = { alertThresholds: [50, 80, 100] };

let store: Store;
let tenant: TenantStore;
const kv = new MemoryKv();

before(async () => {
  store = await openStore({ storage: { database: 'sqlite::memory:' } });
  tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
});
after(async () => {
  await kv.close();
  await store.close();
});

const limits = { requests_per_minute: 10, on_limit: 'reject' as const };

describe('key bindings', () => {
  test('policies, limits and budgets of the key, its team, its user and its organization, as rules; nobody else\'s', async () => {
    const team = await tenant.teams.create({ name: 'red' });
    const other = await tenant.teams.create({ name: 'blue' });
    const user = await tenant.users.create({ email: 'ann@acme.test', role: 'member' });
    const key = await tenant.keys.create({ name: 'k', key_hash: 'h1', key_prefix: 'sk-sb-1', team_id: team.id, user_id: user.id, created_by: 'master' });
    await tenant.policies.create({ name: 'org-wide', allowed_models: ['openai/*'], created_by: 'master' });
    await tenant.policies.create({ name: 'red', team_id: team.id, allowed_models: ['smart'], created_by: 'master' });
    await tenant.policies.create({ name: 'blue', team_id: other.id, allowed_models: ['x'], created_by: 'master' });
    const orgLimit = await tenant.rateLimits.create({ scope: 'org', subject_id: tenant.orgId, limits: { tokens_per_day: 1000, on_limit: 'reject' }, created_by: 'master' });
    const keyLimit = await tenant.rateLimits.create({
      scope: 'key',
      subject_id: key.id,
      limits: { requests_per_second: 2, burst: 4, on_limit: 'downgrade', downgrade_to: 'cheap' },
      created_by: 'master',
    });
    await tenant.rateLimits.create({ scope: 'team', subject_id: other.id, limits, created_by: 'master' });
    const teamBudget = await tenant.budgets.create({ scope: 'team', subject_id: team.id, amount_usd: 25, period: 'monthly', window: 'calendar', enforcement: 'hard', created_by: 'master' });
    const userBudget = await tenant.budgets.create({
      scope: 'user',
      subject_id: user.id,
      amount_usd: 2.5,
      period: 'daily',
      window: 'rolling',
      enforcement: 'soft',
      alert_thresholds: [90],
      webhook_url: 'https://hooks.example.test/u',
      webhook_format: 'slack',
      created_by: 'master',
    });

    const bindings = await bindingsLoader(store, DEFAULTS)(key);
    assert.deepEqual(bindings.policies.map((p) => p.name).sort(), ['org-wide', 'red']);
    assert.deepEqual(bindings.limits, [
      { id: orgLimit.id, scope: 'org', subject_id: tenant.orgId, tokens_per_day: 1000, on_limit: 'reject' },
      { id: keyLimit.id, scope: 'key', subject_id: key.id, requests_per_second: 2, burst: 4, on_limit: 'downgrade', downgrade_to: 'cheap' },
    ]);
    assert.deepEqual(bindings.budgets, [
      {
        id: teamBudget.id,
        org_id: tenant.orgId,
        scope: 'team',
        subject_id: team.id,
        amount_usd: 25,
        period: 'monthly',
        window: 'calendar',
        enforcement: 'hard',
        alert_thresholds: [50, 80, 100],
        webhook_url: null,
        webhook_format: 'json',
      },
      {
        id: userBudget.id,
        org_id: tenant.orgId,
        scope: 'user',
        subject_id: user.id,
        amount_usd: 2.5,
        period: 'daily',
        window: 'rolling',
        enforcement: 'soft',
        alert_thresholds: [90],
        webhook_url: 'https://hooks.example.test/u',
        webhook_format: 'slack',
      },
    ]);
  });

  test('the master and keyless identities carry none', () => {
    for (const identity of [MASTER_IDENTITY, LOCAL_IDENTITY]) assert.deepEqual([identity.policies, identity.limits, identity.budgets], [[], [], []]);
  });

  test('KeyAuth puts them on the identity when the key is loaded, and reads them again after invalidate(keyId)', async () => {
    const { key: secret, prefix } = generateKey();
    const key = await tenant.keys.create({ name: 'auth', key_hash: hashKey(secret, PEPPER), key_prefix: prefix, created_by: 'master' });
    const auth = new KeyAuth({ masterKey: 'bindings-master-key-0123', store, kv, peppers: [PEPPER], bindings: bindingsLoader(store, DEFAULTS) });
    try {
      const first = await auth.authenticate(secret, '127.0.0.1');
      assert.deepEqual(first.budgets, []);
      assert.deepEqual(first.limits.map((l) => l.scope), ['org'], "the organization's limit from the test before");
      const budget = await tenant.budgets.create({ scope: 'key', subject_id: key.id, amount_usd: 1, period: 'total', window: 'calendar', enforcement: 'hard', created_by: 'master' });
      assert.deepEqual((await auth.authenticate(secret, '127.0.0.1')).budgets, [], 'cached until invalidated');
      await auth.invalidate(key.id);
      assert.deepEqual((await auth.authenticate(secret, '127.0.0.1')).budgets.map((b) => b.id), [budget.id]);
    } finally {
      await auth.close();
    }
  });
});
