// CredentialResolver over a real store (SQLite in memory) whose reads are counted, so "no database round trip" is
// checked, not assumed; invalidation between two instances goes through a MemoryKv pair sharing one MemoryStore.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import type { ProviderConfig } from '../providers/types.ts';
import type { Kv, SubscribeOptions } from '../store/kv/index.ts';
import { MemoryKv, MemoryStore } from '../store/kv/memory.ts';
import { openStore, type Store, type TenantStore } from '../store/store.ts';
import { CREDENTIALS_CHANNEL, credentialAad, CredentialResolver, type CredentialResolverOptions } from './provider-credentials.ts';
import { Keyring, SecretBox } from './secrets.ts';

const SECRET = 'resolver-master-secret-0123456789abcdef';
const OTHER_SECRET = 'another-master-secret-0123456789abcdef';
const secrets = new SecretBox(new Keyring(SECRET));

const provider = (name: string, fields: Partial<ProviderConfig> = {}): ProviderConfig => ({
  name,
  type: name,
  api_key: `configured-${name}-key`,
  base_url: `https://${name}.example/v1`,
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: [],
  options: {},
  ...fields,
});
const OPENAI = provider('openai');
const ANTHROPIC = provider('anthropic');

let store: Store;
let reads = 0;
let failing = false;
/** The store as the resolver sees it, each organization read counted. */
const counting: CredentialResolverOptions['store'] = {
  tenant(orgId) {
    reads++;
    if (failing) throw new Error('database down');
    return store.tenant(orgId);
  },
};

before(async () => {
  store = await openStore({ storage: { database: 'sqlite::memory:' } });
});
after(() => store.close());

async function newOrg(): Promise<TenantStore> {
  return store.tenant((await store.organizations.create({ name: `org-${Math.random().toString(36).slice(2)}` })).id);
}

/** Stores a credential as the admin API does: inserted, then sealed under its own record. */
async function storeCredential(tenant: TenantStore, providerName: string, secret: string, box = secrets): Promise<string> {
  const created = await tenant.credentials.create({ provider: providerName, name: `${providerName}-${Math.random().toString(36).slice(2)}`, ciphertext: '', created_by: 'test' });
  await tenant.credentials.update(created.id, { ciphertext: box.encrypt(secret, credentialAad(tenant.orgId, created.id)) });
  return created.id;
}

/** Every line the resolver logged, as JSON, to look for secrets in. */
function recordingLogger(): CredentialResolverOptions['logger'] & { lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const log = (level: string) => (fields: unknown, message?: string) => void lines.push({ level, text: JSON.stringify([fields, message]) });
  return { lines, warn: log('warn'), error: log('error') } as never;
}

const kvs: Kv[] = [];
const resolvers: CredentialResolver[] = [];
after(async () => {
  await Promise.all(resolvers.map((r) => r.close()));
  await Promise.all(kvs.map((kv) => kv.close()));
});

function resolver(options: Partial<CredentialResolverOptions> = {}): CredentialResolver {
  const kv = new MemoryKv();
  kvs.push(kv);
  const created = new CredentialResolver({ store: counting, kv, secrets, logger: recordingLogger(), ...options });
  resolvers.push(created);
  return created;
}

async function resolved(r: CredentialResolver, orgId: string, p: ProviderConfig): Promise<ProviderConfig> {
  return r.resolve(orgId, p);
}

describe('using stored credentials', () => {
  test("an organization's credential replaces the configured key; once read, answers are synchronous and reused", async () => {
    const org = await newOrg();
    await storeCredential(org, 'openai', 'sk-tenant-openai');
    const r = resolver();
    reads = 0;
    const first = await resolved(r, org.orgId, OPENAI);
    assert.equal(first.api_key, 'sk-tenant-openai');
    assert.deepEqual({ ...first, api_key: OPENAI.api_key }, OPENAI, 'everything else is the configured provider');
    assert.equal(reads, 1);
    const again = r.resolve(org.orgId, OPENAI);
    assert.ok(!(again instanceof Promise), 'a cached organization is answered synchronously');
    assert.equal(again, first, 'the same object: nothing is built per request');
    assert.equal(r.resolve(org.orgId, ANTHROPIC), ANTHROPIC, 'a provider without a credential keeps its configured key');
    assert.equal(reads, 1, 'no further database round trip');
  });

  test('an organization without credentials is read once and then served the configured providers', async () => {
    const org = await newOrg();
    const r = resolver();
    reads = 0;
    assert.equal(await resolved(r, org.orgId, OPENAI), OPENAI);
    assert.equal(r.resolve(org.orgId, OPENAI), OPENAI);
    assert.equal(reads, 1);
  });

  test('concurrent first requests of an organization share one read', async () => {
    const org = await newOrg();
    await storeCredential(org, 'openai', 'sk-shared-read');
    const r = resolver();
    reads = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => resolved(r, org.orgId, OPENAI)));
    assert.equal(reads, 1);
    assert.ok(all.every((p) => p === all[0] && p.api_key === 'sk-shared-read'));
  });

  test('several credentials for one provider: the most recently updated wins', async () => {
    const org = await newOrg();
    const older = await storeCredential(org, 'openai', 'sk-older');
    await sleep(5);
    await storeCredential(org, 'openai', 'sk-newer');
    const r = resolver();
    assert.equal((await resolved(r, org.orgId, OPENAI)).api_key, 'sk-newer');
    await sleep(5);
    await org.credentials.update(older, { name: 'renamed' });
    await r.invalidate(org.orgId);
    assert.equal((await resolved(r, org.orgId, OPENAI)).api_key, 'sk-older', 'a rename is an update too');
  });

  test('a reloaded configuration (a new provider object) gets a config built from it, still with the credential', async () => {
    const org = await newOrg();
    await storeCredential(org, 'openai', 'sk-reload');
    const r = resolver();
    await resolved(r, org.orgId, OPENAI);
    const reloaded = provider('openai', { base_url: 'https://moved.example/v1' });
    const next = r.resolve(org.orgId, reloaded) as ProviderConfig;
    assert.equal(next.base_url, 'https://moved.example/v1');
    assert.equal(next.api_key, 'sk-reload');
    assert.equal(r.resolve(org.orgId, reloaded), next);
  });
});

describe('invalidation and refresh', () => {
  test('invalidate() on one instance reaches another sharing the kv store', async () => {
    const shared = new MemoryStore();
    const kvA = new MemoryKv({ store: shared });
    const kvB = new MemoryKv({ store: shared });
    kvs.push(kvA, kvB);
    const a = resolver({ kv: kvA });
    const b = resolver({ kv: kvB });
    const org = await newOrg();
    const id = await storeCredential(org, 'openai', 'sk-v1');
    assert.equal((await resolved(a, org.orgId, OPENAI)).api_key, 'sk-v1');
    assert.equal((await resolved(b, org.orgId, OPENAI)).api_key, 'sk-v1');
    await org.credentials.update(id, { ciphertext: secrets.encrypt('sk-v2', credentialAad(org.orgId, id)) });
    await a.invalidate(org.orgId);
    await sleep(1);
    reads = 0;
    assert.equal((await resolved(b, org.orgId, OPENAI)).api_key, 'sk-v2');
    assert.equal(reads, 1);
    await org.credentials.delete(id);
    await a.invalidate(org.orgId);
    await sleep(1);
    assert.equal(await resolved(b, org.orgId, OPENAI), OPENAI, 'deleted: back to the configured key');
  });

  test("an invalidation drops only that organization; '*' and a reconnect drop every one", async () => {
    let reconnect: (() => void) | undefined;
    const handlers: ((message: string) => void)[] = [];
    const kv: CredentialResolverOptions['kv'] = {
      async publish() {},
      async subscribe(channel, handler, options?: SubscribeOptions) {
        assert.equal(channel, CREDENTIALS_CHANNEL);
        handlers.push(handler);
        reconnect = options?.onReconnect;
        return async () => {};
      },
    };
    const r = resolver({ kv });
    const one = await newOrg();
    const two = await newOrg();
    await resolved(r, one.orgId, OPENAI);
    await resolved(r, two.orgId, OPENAI);
    assert.equal(handlers.length, 1, 'subscribed once');
    reads = 0;
    handlers[0]!(one.orgId);
    assert.ok(r.resolve(one.orgId, OPENAI) instanceof Promise);
    assert.ok(!(r.resolve(two.orgId, OPENAI) instanceof Promise));
    await resolved(r, one.orgId, OPENAI);
    handlers[0]!('*');
    assert.ok(r.resolve(one.orgId, OPENAI) instanceof Promise);
    assert.ok(r.resolve(two.orgId, OPENAI) instanceof Promise);
    await Promise.all([resolved(r, one.orgId, OPENAI), resolved(r, two.orgId, OPENAI)]);
    reconnect!();
    assert.ok(r.resolve(one.orgId, OPENAI) instanceof Promise);
    assert.ok(r.resolve(two.orgId, OPENAI) instanceof Promise);
  });

  test('a read that started before an invalidation is served to its waiters but not kept', async () => {
    const org = await newOrg();
    const id = await storeCredential(org, 'openai', 'sk-before');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Reads, then waits for the gate, so the change and its invalidation land while the read is in flight.
    const gated = {
      tenant: (orgId: string) => {
        const tenant = store.tenant(orgId);
        return {
          credentials: {
            listSealed: async () => {
              const rows = await tenant.credentials.listSealed();
              await gate;
              return rows;
            },
          },
        };
      },
    } as unknown as CredentialResolverOptions['store'];
    const r = resolver({ store: gated });
    const stale = resolved(r, org.orgId, OPENAI);
    await sleep(10);
    await org.credentials.update(id, { ciphertext: secrets.encrypt('sk-after', credentialAad(org.orgId, id)) });
    await r.invalidate(org.orgId);
    release();
    assert.equal((await stale).api_key, 'sk-before');
    assert.equal((await resolved(r, org.orgId, OPENAI)).api_key, 'sk-after');
  });

  test('after ttlMs an entry is refreshed in the background while served; after twice that it is read again first', async () => {
    let now = 1_000_000;
    const org = await newOrg();
    const id = await storeCredential(org, 'openai', 'sk-old');
    const r = resolver({ now: () => now, ttlMs: 1000 });
    await resolved(r, org.orgId, OPENAI);
    await org.credentials.update(id, { ciphertext: secrets.encrypt('sk-new', credentialAad(org.orgId, id)) });
    now += 1500;
    reads = 0;
    const served = r.resolve(org.orgId, OPENAI);
    assert.ok(!(served instanceof Promise));
    assert.equal(served.api_key, 'sk-old', 'served from the cache while the refresh runs');
    await sleep(10);
    assert.equal(reads, 1);
    assert.equal((r.resolve(org.orgId, OPENAI) as ProviderConfig).api_key, 'sk-new');
    now += 2000;
    assert.ok(r.resolve(org.orgId, OPENAI) instanceof Promise, 'unused for 2 × ttlMs: read again before answering');
  });

  test('with the database down: 503 when nothing is cached, the last read served when something is', async () => {
    let now = 1_000_000;
    const org = await newOrg();
    await storeCredential(org, 'openai', 'sk-known');
    const logger = recordingLogger();
    const r = resolver({ now: () => now, ttlMs: 1000, logger });
    await resolved(r, org.orgId, OPENAI);
    failing = true;
    try {
      now += 5000;
      assert.equal((await resolved(r, org.orgId, OPENAI)).api_key, 'sk-known');
      const unknown = await rejection(() => resolved(r, 'org_unknown', OPENAI));
      assert.ok(unknown instanceof GatewayError);
      assert.equal(unknown.status, 503);
      assert.equal(unknown.code, 'credentials_unavailable');
      assert.ok(logger.lines.some((l) => l.level === 'warn' && l.text.includes('database down')));
    } finally {
      failing = false;
    }
  });
});

/** The error `run` rejects with. */
async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('credentials that do not decrypt', () => {
  test('sealed under a master secret no longer in the keyring: a 500 naming provider and credential, logged once, no secret anywhere', async () => {
    const org = await newOrg();
    const id = await storeCredential(org, 'openai', 'sk-ROTATED-OUT-secret', new SecretBox(new Keyring(OTHER_SECRET)));
    await storeCredential(org, 'anthropic', 'sk-fine');
    const logger = recordingLogger();
    const r = resolver({ logger });
    for (let i = 0; i < 3; i++) {
      const error = await rejection(() => resolved(r, org.orgId, OPENAI));
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 500);
      assert.equal(error.code, 'provider_credential_unusable');
      assert.equal(error.provider, 'openai');
      assert.match(error.message, new RegExp(`openai: .*'${id}'`));
      assert.ok(!error.message.includes('ROTATED'));
      assert.ok(!error.message.includes(OPENAI.api_key!), 'and not the configured key either');
      await r.invalidate(org.orgId);
    }
    assert.equal((await resolved(r, org.orgId, ANTHROPIC)).api_key, 'sk-fine', "the organization's other credentials still work");
    const errors = logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, 'logged once however often it is read');
    assert.match(errors[0]!.text, new RegExp(id));
    assert.ok(!logger.lines.some((l) => l.text.includes('ROTATED') || l.text.includes('sk-fine') || l.text.includes(SECRET) || l.text.includes(OTHER_SECRET)));
  });

  test('a sealed value copied onto another record does not open there', async () => {
    const org = await newOrg();
    const original = await storeCredential(org, 'anthropic', 'sk-COPIED-secret');
    const copy = await org.credentials.create({ provider: 'openai', name: 'copy', ciphertext: (await org.credentials.getCiphertext(original))!, created_by: 'test' });
    const logger = recordingLogger();
    const error = await rejection(() => resolved(resolver({ logger }), org.orgId, OPENAI));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'provider_credential_unusable');
    assert.match(error.message, new RegExp(copy.id));
    assert.ok(!logger.lines.some((l) => l.text.includes('COPIED')));
  });
});
