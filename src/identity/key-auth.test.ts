// KeyAuth over a real store (SQLite in memory) whose lookups are counted, so "no database round trip" is checked, not
// assumed; invalidation between two instances goes through a MemoryKv pair sharing one MemoryStore.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import { MemoryKv, MemoryStore } from '../store/kv/memory.ts';
import type { Kv, SubscribeOptions } from '../store/kv/index.ts';
import { openStore, type Store, type TenantStore } from '../store/store.ts';
import type { VirtualKey } from '../store/types.ts';
import { LOCAL_IDENTITY, MASTER_IDENTITY, type Identity } from './identity.ts';
import { INVALIDATION_CHANNEL, KeyAuth, type KeyAuthOptions } from './key-auth.ts';
import { generateKey, hashKey } from './keys.ts';
import { Keyring } from './secrets.ts';

const SECRET = 'current-master-secret-0123456789abcdef';
const OLD_SECRET = 'previous-master-secret-0123456789abcdef';
const MASTER = 'sb-master-0123456789';
const keyring = new Keyring(SECRET, [OLD_SECRET]);
const PEPPER = keyring.keys[0]!.pepper;
const OLD_PEPPER = keyring.keys[1]!.pepper;

let store: Store;
let tenant: TenantStore;

/** The store's two auth queries, counted. */
const calls = { findKeyByHash: 0, hasKeys: 0 };
let failing = false;
const counting: KeyAuthOptions['store'] = {
  async findKeyByHash(hash) {
    calls.findKeyByHash++;
    if (failing) throw new Error('database down');
    return store.findKeyByHash(hash);
  },
  async hasKeys() {
    calls.hasKeys++;
    if (failing) throw new Error('database down');
    return store.hasKeys();
  },
};

before(async () => {
  store = await openStore({ storage: { database: 'sqlite::memory:' } });
  tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
});
after(() => store.close());

async function newKey(fields: Partial<Parameters<TenantStore['keys']['create']>[0]> = {}, pepper = PEPPER): Promise<{ key: string; record: VirtualKey }> {
  const { key, prefix } = generateKey();
  const record = await tenant.keys.create({ name: 'test key', key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'test', ...fields });
  return { key, record };
}

const kvs: Kv[] = [];
after(() => Promise.all(kvs.map((kv) => kv.close())));

function keyAuth(options: Partial<KeyAuthOptions> = {}): KeyAuth {
  const kv = new MemoryKv();
  kvs.push(kv);
  return new KeyAuth({ masterKey: MASTER, store: counting, kv, peppers: [PEPPER], ...options });
}

/** Refused with this status and code; the message must not contain the key. */
function refuses(auth: KeyAuth, credential: string | undefined, ip: string, status: number, code: string, message?: RegExp): Promise<void> {
  return assert.rejects(
    (async () => auth.authenticate(credential, ip))(),
    (error: GatewayError) => {
      assert.ok(error instanceof GatewayError, String(error));
      assert.equal(error.status, status, error.message);
      assert.equal(error.code, code, error.message);
      if (message) assert.match(error.message, message);
      if (credential) assert.ok(!error.message.includes(credential), 'the key is not in the error');
      return true;
    },
  );
}

describe('master key', () => {
  test('the master key is the master identity, from anywhere, with no lookup', async () => {
    const before = calls.findKeyByHash;
    assert.equal(keyAuth().authenticate(MASTER, '203.0.113.9'), MASTER_IDENTITY);
    assert.equal(calls.findKeyByHash, before);
  });

  test('missing and wrong keys are 401 invalid_api_key; only virtual-key-shaped ones reach the database', async () => {
    const auth = keyAuth();
    const before = calls.findKeyByHash;
    for (const wrong of [undefined, '', 'sb-master-012345678', `${MASTER}x`, 'sk-sb-short']) await refuses(auth, wrong, '127.0.0.1', 401, 'invalid_api_key');
    assert.equal(calls.findKeyByHash, before);
  });

  test("a master key shaped like a virtual key is still the master key, and other virtual keys still work beside it", async () => {
    const master = generateKey().key;
    const auth = keyAuth({ masterKey: master });
    assert.equal(auth.authenticate(master, '203.0.113.9'), MASTER_IDENTITY);
    const { key, record } = await newKey();
    assert.equal((await auth.authenticate(key, '127.0.0.1')).key_id, record.id);
    await refuses(auth, generateKey().key, '127.0.0.1', 401, 'invalid_api_key');
  });
});

describe('virtual keys', () => {
  test('the first use looks the key up once (concurrent requests share it); later ones are answered synchronously from the cache', async () => {
    const { key, record } = await newKey({ metadata: { team: 'search' }, allowed_models: ['anthropic/*'], allowed_surfaces: ['openai'] });
    const auth = keyAuth();
    const before = calls.findKeyByHash;
    const first = await Promise.all([auth.authenticate(key, '127.0.0.1'), auth.authenticate(key, '127.0.0.1'), auth.authenticate(key, '10.0.0.1')]);
    assert.equal(calls.findKeyByHash, before + 1);
    const identity = first[0]!;
    assert.deepEqual(identity, {
      kind: 'key',
      key_id: record.id,
      org_id: record.org_id,
      team_id: undefined,
      user_id: undefined,
      metadata: { team: 'search' },
      allowed_models: ['anthropic/*'],
      allowed_surfaces: ['openai'],
      policies: [],
      limits: [],
      budgets: [],
      log_payloads: false,
    } satisfies Identity);
    for (let i = 0; i < 100; i++) {
      const cached = auth.authenticate(key, '127.0.0.1');
      assert.ok(!(cached instanceof Promise), 'a cached key answers synchronously');
      assert.equal(cached, identity, 'the same identity object every time');
    }
    assert.equal(calls.findKeyByHash, before + 1, 'no database round trip in steady state');
  });

  test('an unknown key is 401, and repeating it within the negative TTL does not reach the database', async () => {
    let now = 1_000_000;
    const auth = keyAuth({ now: () => now, negativeTtlMs: 5_000, peppers: [PEPPER, OLD_PEPPER] });
    const { key } = generateKey();
    const before = calls.findKeyByHash;
    await refuses(auth, key, '127.0.0.1', 401, 'invalid_api_key', /does not know it/);
    assert.equal(calls.findKeyByHash, before + 2, 'asked under the current and the previous pepper');
    for (let i = 0; i < 20; i++) assert.throws(() => auth.authenticate(key, '127.0.0.1'), (e: GatewayError) => e.status === 401);
    assert.equal(calls.findKeyByHash, before + 2);
    now += 5_000;
    await refuses(auth, key, '127.0.0.1', 401, 'invalid_api_key');
    assert.equal(calls.findKeyByHash, before + 4, 'asked again once the negative entry expired');
  });

  test('a key created after a miss works at once once invalidated: invalidation forgets unknown hashes', async () => {
    const auth = keyAuth();
    const { key, prefix } = generateKey();
    await refuses(auth, key, '127.0.0.1', 401, 'invalid_api_key');
    const record = await tenant.keys.create({ name: 'late', key_hash: hashKey(key, PEPPER), key_prefix: prefix, created_by: 'test' });
    await refuses(auth, key, '127.0.0.1', 401, 'invalid_api_key');
    await auth.invalidate(record.id);
    assert.equal((await auth.authenticate(key, '127.0.0.1')).key_id, record.id);
  });

  test('disabled and revoked keys are 401 saying so; revoked wins over everything else', async () => {
    const auth = keyAuth();
    const disabled = await newKey({ name: 'ci', enabled: false });
    await refuses(auth, disabled.key, '127.0.0.1', 401, 'key_disabled', /'ci'.*disabled/);
    const revoked = await newKey({ name: 'old', expires_at: '2000-01-01T00:00:00.000Z', ip_allowlist: ['10.0.0.0/8'], enabled: false });
    await tenant.keys.revoke(revoked.record.id);
    await refuses(auth, revoked.key, '127.0.0.1', 401, 'key_revoked', /'old'.*revoked/);
  });

  test('an expired key is 401 saying it expired; a key expires while cached', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const auth = keyAuth({ now: () => now });
    const past = await newKey({ name: 'gone', expires_at: '2020-01-01T00:00:00.000Z' });
    await refuses(auth, past.key, '127.0.0.1', 401, 'key_expired', /'gone'.*expired at 2020-01-01T00:00:00\.000Z/);
    const soon = await newKey({ expires_at: '2030-01-01T00:00:10.000Z' });
    assert.equal((await auth.authenticate(soon.key, '127.0.0.1')).kind, 'key');
    now += 10_000;
    assert.throws(() => auth.authenticate(soon.key, '127.0.0.1'), (e: GatewayError) => e.status === 401 && e.code === 'key_expired');
  });

  test('an IP allowlist admits IPv4 and IPv6 addresses inside its CIDRs, and refuses others with 403', async () => {
    const auth = keyAuth();
    const { key } = await newKey({ name: 'office', ip_allowlist: ['10.0.0.0/8', '203.0.113.7', '2001:db8::/32'] });
    for (const ip of ['10.1.2.3', '::ffff:10.1.2.3', '203.0.113.7', '2001:db8::1', '2001:db8:ffff::9']) assert.equal((await auth.authenticate(key, ip)).kind, 'key', ip);
    for (const ip of ['127.0.0.1', '::1', '11.0.0.1', '203.0.113.8', '2001:db9::1']) await refuses(auth, key, ip, 403, 'ip_not_allowed', new RegExp(`'office'.* from ${ip.replace(/\./g, '\\.')}:`));
  });

  test('a key hashed under a previous master secret still works after a rotation, through the previous pepper', async () => {
    const { key, record } = await newKey({}, OLD_PEPPER);
    assert.equal((await keyAuth({ peppers: [PEPPER, OLD_PEPPER] }).authenticate(key, '127.0.0.1')).key_id, record.id);
    await refuses(keyAuth({ peppers: [PEPPER] }), key, '127.0.0.1', 401, 'invalid_api_key');
    const rotated = keyAuth({ peppers: [PEPPER, OLD_PEPPER] });
    await rotated.authenticate(key, '127.0.0.1');
    const before = calls.findKeyByHash;
    rotated.authenticate(key, '127.0.0.1');
    assert.equal(calls.findKeyByHash, before, 'cached under the current hash, so no second lookup');
  });

  test('the cache is bounded: the least recently used key is dropped first', async () => {
    const auth = keyAuth({ maxEntries: 2 });
    const [a, b, c] = [await newKey(), await newKey(), await newKey()];
    await auth.authenticate(a.key, '127.0.0.1');
    await auth.authenticate(b.key, '127.0.0.1');
    auth.authenticate(a.key, '127.0.0.1');
    await auth.authenticate(c.key, '127.0.0.1');
    assert.ok(!(auth.authenticate(a.key, '127.0.0.1') instanceof Promise), 'a was used recently and stays');
    assert.ok(auth.authenticate(b.key, '127.0.0.1') instanceof Promise, 'b was the least recently used and went');
  });

  test('past the bound of remembered key hashes, every key is still recognised (its hash is computed again)', async () => {
    const auth = keyAuth({ maxEntries: 2 });
    const keys = [await newKey(), await newKey(), await newKey(), await newKey()];
    for (let round = 0; round < 2; round++) {
      for (const { key, record } of keys) assert.equal((await auth.authenticate(key, '127.0.0.1')).key_id, record.id);
    }
    await refuses(auth, generateKey().key, '127.0.0.1', 401, 'invalid_api_key');
  });

  test('an entry older than ttlMs is served while refreshed in the background; one unused for twice that is looked up again', async () => {
    let now = 0;
    const auth = keyAuth({ now: () => now, ttlMs: 1_000 });
    const { key, record } = await newKey();
    await auth.authenticate(key, '127.0.0.1');
    now = 1_500;
    await tenant.keys.update(record.id, { enabled: false });
    const before = calls.findKeyByHash;
    assert.equal((auth.authenticate(key, '127.0.0.1') as Identity).key_id, record.id, 'served from the cache at once');
    assert.equal(calls.findKeyByHash, before + 1, 'and refreshed');
    await sleep(20);
    assert.throws(() => auth.authenticate(key, '127.0.0.1'), (e: GatewayError) => e.code === 'key_disabled');
    await tenant.keys.update(record.id, { enabled: true });
    now = 10_000;
    const result = auth.authenticate(key, '127.0.0.1');
    assert.ok(result instanceof Promise, 'too old to serve: looked up before answering');
    assert.equal((await result).key_id, record.id);
  });

  test('with the database down, a cached key is still served and an unknown one is 503 auth_unavailable', async () => {
    let now = 0;
    const errors: Error[] = [];
    const auth = keyAuth({ now: () => now, ttlMs: 1_000, onError: (e) => errors.push(e) });
    const { key } = await newKey();
    await auth.authenticate(key, '127.0.0.1');
    failing = true;
    try {
      now = 5_000;
      assert.equal((await auth.authenticate(key, '127.0.0.1')).kind, 'key');
      await refuses(auth, generateKey().key, '127.0.0.1', 503, 'auth_unavailable');
      assert.ok(errors.some((e) => e.message === 'database down'));
    } finally {
      failing = false;
    }
  });
});

describe('invalidation', () => {
  test('invalidate(keyId) drops the key here: a revocation takes effect at once', async () => {
    const auth = keyAuth();
    const { key, record } = await newKey();
    await auth.authenticate(key, '127.0.0.1');
    await tenant.keys.revoke(record.id);
    assert.equal(auth.authenticate(key, '127.0.0.1'), auth.authenticate(key, '127.0.0.1'), 'still cached before the invalidation');
    await auth.invalidate(record.id);
    await refuses(auth, key, '127.0.0.1', 401, 'key_revoked');
  });

  test('invalidate(keyId) on one instance reaches another through the kv; invalidateAll drops everything', async () => {
    const shared = new MemoryStore();
    const [kvA, kvB] = [new MemoryKv({ store: shared }), new MemoryKv({ store: shared })];
    kvs.push(kvA, kvB);
    const a = keyAuth({ kv: kvA });
    const b = keyAuth({ kv: kvB });
    await Promise.all([a.start(), b.start()]);
    const one = await newKey();
    const two = await newKey();
    for (const auth of [a, b]) for (const k of [one, two]) await auth.authenticate(k.key, '127.0.0.1');

    await tenant.keys.revoke(one.record.id);
    await a.invalidate(one.record.id);
    await sleep(5);
    await refuses(b, one.key, '127.0.0.1', 401, 'key_revoked');
    assert.ok(!(b.authenticate(two.key, '127.0.0.1') instanceof Promise), 'other keys stay cached');

    await a.invalidateAll();
    await sleep(5);
    assert.ok(b.authenticate(two.key, '127.0.0.1') instanceof Promise, 'everything was dropped');
    await Promise.all([a.close(), b.close()]);
  });

  test('a lost kv connection drops the whole cache, since invalidations may have been missed', async () => {
    let reconnect: (() => void) | undefined;
    const kv: KeyAuthOptions['kv'] = {
      publish: async () => {},
      subscribe: async (channel: string, _handler: unknown, options?: SubscribeOptions) => {
        assert.equal(channel, INVALIDATION_CHANNEL);
        reconnect = options?.onReconnect;
        return async () => {};
      },
    };
    const auth = keyAuth({ kv });
    await auth.start();
    const { key } = await newKey();
    await auth.authenticate(key, '127.0.0.1');
    assert.ok(!(auth.authenticate(key, '127.0.0.1') instanceof Promise));
    reconnect!();
    assert.ok(auth.authenticate(key, '127.0.0.1') instanceof Promise);
  });

  test('a lookup that started before an invalidation does not cache what it read', async () => {
    const { key, record } = await newKey();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: KeyAuthOptions['store'] = {
      findKeyByHash: async (hash) => {
        const found = await store.findKeyByHash(hash);
        await gate;
        return found;
      },
      hasKeys: () => store.hasKeys(),
    };
    const auth = keyAuth({ store: slow });
    const pending = auth.authenticate(key, '127.0.0.1');
    await sleep(5);
    await tenant.keys.revoke(record.id);
    await auth.invalidate(record.id);
    release();
    assert.equal((await pending).key_id, record.id, 'the request in flight is answered with what was read');
    await refuses(auth, key, '127.0.0.1', 401, 'key_revoked');
  });

  test('a failed publish is reported, not thrown: the change is made and this instance has dropped it', async () => {
    const errors: Error[] = [];
    const kv: KeyAuthOptions['kv'] = {
      publish: async () => {
        throw new Error('redis down');
      },
      subscribe: async () => async () => {},
    };
    await keyAuth({ kv, onError: (e) => errors.push(e) }).invalidate('key_x');
    assert.deepEqual(
      errors.map((e) => e.message),
      ['redis down'],
    );
  });
});

describe('without a master key', () => {
  test('with no virtual key at all (the quick start), this machine is served without a key and other hosts get 403 local_only', async () => {
    const empty = await openStore({ storage: { database: 'sqlite::memory:' } });
    try {
      const auth = keyAuth({ masterKey: undefined, store: empty });
      const first = auth.authenticate(undefined, '127.0.0.1');
      assert.ok(first instanceof Promise, 'the first request waits for start()');
      assert.equal(await first, LOCAL_IDENTITY);
      assert.equal(auth.mode, 'local_only');
      for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(auth.authenticate('sk-anything', ip), LOCAL_IDENTITY);
      await refuses(auth, undefined, '10.0.0.2', 403, 'local_only', /no auth\.master_key and no virtual keys/);
      await refuses(auth, 'sb-master-0123456789', '10.0.0.2', 403, 'local_only');
      await refuses(auth, generateKey().key, '127.0.0.1', 401, 'invalid_api_key');
    } finally {
      await empty.close();
    }
  });

  test('once a virtual key exists, every request needs a key, from this machine too', async () => {
    const fresh = await openStore({ storage: { database: 'sqlite::memory:' } });
    try {
      const auth = keyAuth({ masterKey: undefined, store: fresh });
      await auth.start();
      assert.equal(auth.authenticate(undefined, '127.0.0.1'), LOCAL_IDENTITY);
      const { key, prefix } = generateKey();
      const org = await fresh.organizations.create({ name: 'first' });
      const record = await fresh.tenant(org.id).keys.create({ name: 'first', key_hash: hashKey(key, PEPPER), key_prefix: prefix, created_by: 'test' });
      await auth.invalidate(record.id);
      for (let i = 0; i < 50 && auth.mode !== 'virtual_keys'; i++) await sleep(5);
      assert.equal(auth.mode, 'virtual_keys');
      await refuses(auth, undefined, '127.0.0.1', 401, 'invalid_api_key', /has virtual keys, so every request needs one/);
      await refuses(auth, 'sk-anything', '127.0.0.1', 401, 'invalid_api_key');
      await refuses(auth, MASTER, '127.0.0.1', 401, 'invalid_api_key');
      assert.equal((await auth.authenticate(key, '203.0.113.5')).key_id, record.id);
    } finally {
      await fresh.close();
    }
  });

  test('presenting a key that exists ends the quick start at once, even before any invalidation says so', async () => {
    const fresh = await openStore({ storage: { database: 'sqlite::memory:' } });
    try {
      const auth = keyAuth({ masterKey: undefined, store: fresh });
      await auth.start();
      const { key, prefix } = generateKey();
      const org = await fresh.organizations.create({ name: 'elsewhere' });
      await fresh.tenant(org.id).keys.create({ name: 'made by the CLI', key_hash: hashKey(key, PEPPER), key_prefix: prefix, created_by: 'test' });
      assert.equal(auth.mode, 'local_only');
      await auth.authenticate(key, '127.0.0.1');
      assert.equal(auth.mode, 'virtual_keys');
      await refuses(auth, undefined, '127.0.0.1', 401, 'invalid_api_key');
    } finally {
      await fresh.close();
    }
  });

  test('when the database cannot say whether keys exist, a keyless request is 503 auth_unavailable, and a later one asks again', async () => {
    const auth = keyAuth({ masterKey: undefined });
    failing = true;
    try {
      await refuses(auth, undefined, '127.0.0.1', 503, 'auth_unavailable');
    } finally {
      failing = false;
    }
    await refuses(auth, undefined, '127.0.0.1', 401, 'invalid_api_key', /has virtual keys/);
  });

  test('mode reports the master key when one is configured', () => {
    assert.equal(keyAuth().mode, 'master_key');
  });
});
