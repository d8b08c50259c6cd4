// Revocation across instances: two gateway processes share a real PostgreSQL (a fresh schema) and a real Redis (a
// namespace of their own). A key is revoked in the database and the change announced the way the admin API does it
// (KeyAuth.invalidate on a third client of the same Redis); both instances must refuse the key within one second.
// Skipped, saying why, when PostgreSQL or Redis does not answer on 127.0.0.1.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { KeyAuth } from '../../src/identity/key-auth.ts';
import { generateKey, hashKey } from '../../src/identity/keys.ts';
import { Keyring } from '../../src/identity/secrets.ts';
import { RedisKv } from '../../src/store/kv/redis.ts';
import { openStore, type Store, type TenantStore } from '../../src/store/store.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { postgresTestSchema, type TestSchema } from '../helpers/postgres.ts';
import { REDIS_URL, redisSkipReason } from '../helpers/redis.ts';

const SECRET = 'revocation-master-secret-0123456789abcdef';
const namespace = `revocation-${randomUUID()}`;
const pepper = new Keyring(SECRET).current.pepper;


const postgres = await postgresTestSchema();
const skip = 'skip' in postgres ? postgres.skip : await redisSkipReason();
if (skip && !('skip' in postgres)) await postgres.drop();

describe('revocation across two instances sharing PostgreSQL and Redis', { skip }, () => {
  const schema = postgres as TestSchema;
  let fake: FakeProviders;
  let store: Store;
  let tenant: TenantStore;
  let kv: RedisKv;
  let announcer: KeyAuth;
  const gateways: RunningGateway[] = [];

  before(async () => {
    fake = await startFakeProviders();
    store = await openStore({ storage: { database: schema.url } });
    tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
    kv = await RedisKv.connect(REDIS_URL, { namespace });
    // What the admin API holds: a KeyAuth on the same Redis, used here only to announce changes.
    announcer = new KeyAuth({ masterKey: undefined, store, kv, peppers: [pepper] });
    const config = `
logging: { level: warn }
storage: { database: "${schema.url}", redis: "${REDIS_URL}", redis_namespace: "${namespace}" }
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }
`;
    // A key exists before they start, so both require keys from the first request.
    await newKey('seed');
    for (let i = 0; i < 2; i++) gateways.push(await startGateway({ config, env: { SWITCHBOARD_SECRET: SECRET } }));
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await kv?.close();
    await store?.close();
    await fake?.close();
    await schema.drop();
  });

  async function newKey(name: string): Promise<{ key: string; id: string }> {
    const { key, prefix } = generateKey();
    const record = await tenant.keys.create({ name, key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'e2e' });
    return { key, id: record.id };
  }

  /** The status each instance answers a chat request with, the key's code on refusal. */
  async function outcomes(key: string): Promise<string[]> {
    return Promise.all(
      gateways.map(async (gateway) => {
        const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
        try {
          await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
          return 'ok';
        } catch (error) {
          if (error instanceof APIError) return `${error.status} ${error.code}`;
          throw error;
        }
      }),
    );
  }

  /** Polls both instances until they agree on `want`; returns how long it took. */
  async function until(key: string, want: string, withinMs: number): Promise<number> {
    const started = performance.now();
    let seen: string[] = [];
    while (performance.now() - started < withinMs) {
      seen = await outcomes(key);
      if (seen.every((outcome) => outcome === want)) return performance.now() - started;
      await sleep(25);
    }
    assert.fail(`expected '${want}' from both instances within ${withinMs} ms, last saw ${JSON.stringify(seen)}`);
  }

  test('a revoked key is refused by both instances within one second of the announcement', async () => {
    const { key, id } = await newKey('to revoke');
    assert.deepEqual(await outcomes(key), ['ok', 'ok']);

    await tenant.keys.revoke(id);
    // Both instances answer from their caches, without asking the database, until they hear of the change.
    assert.deepEqual(await outcomes(key), ['ok', 'ok']);

    await announcer.invalidate(id);
    const took = await until(key, '401 key_revoked', 1_000);
    assert.ok(took < 1_000);
  });

  test('a key first seen as unknown works on both instances once its creation is announced', async () => {
    const { key, prefix } = generateKey();
    assert.deepEqual(await outcomes(key), ['401 invalid_api_key', '401 invalid_api_key']);
    const record = await tenant.keys.create({ name: 'late', key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'e2e' });
    await announcer.invalidate(record.id);
    await until(key, 'ok', 1_000);
  });

  test('invalidateAll reaches both instances: a disabled key is refused everywhere', async () => {
    const { key, id } = await newKey('to disable');
    assert.deepEqual(await outcomes(key), ['ok', 'ok']);
    await tenant.keys.update(id, { enabled: false });
    await announcer.invalidateAll();
    await until(key, '401 key_disabled', 1_000);
  });
});
