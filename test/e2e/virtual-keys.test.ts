// Virtual keys on the proxy surfaces, driven by the official OpenAI and Anthropic SDKs against the real gateway
// process. The keys are written into the gateway's SQLite file before it starts, hashed under the master secret it is
// given (SWITCHBOARD_SECRET), as the admin API and CLI do.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { APIError } from 'openai';
import { request } from 'undici';
import { generateKey, hashKey } from '../../src/identity/keys.ts';
import { Keyring } from '../../src/identity/secrets.ts';
import type { KeyInput } from '../../src/store/repositories/keys.ts';
import { openStore } from '../../src/store/store.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

const SECRET = 'e2e-master-secret-0123456789abcdefghij';
const MASTER = 'sb-master-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'switchboard-keys-'));

/** Creates keys in a fresh SQLite file, as the gateway will find them; returns each key's secret by label. */
async function seed(file: string, keys: Record<string, Partial<KeyInput>>): Promise<Record<string, string>> {
  const store = await openStore({ storage: { database: `sqlite://${file}` } });
  try {
    const pepper = new Keyring(SECRET).current.pepper;
    const tenant = store.tenant((await store.organizations.create({ name: 'acme' })).id);
    const secrets: Record<string, string> = {};
    for (const [label, fields] of Object.entries(keys)) {
      const { key, prefix } = generateKey();
      const record = await tenant.keys.create({ name: label, key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'e2e', ...fields });
      if (label === 'revoked') await tenant.keys.revoke(record.id);
      secrets[label] = key;
    }
    return secrets;
  } finally {
    await store.close();
  }
}

const config = (fake: FakeProviders, file: string, master: boolean) => `
logging: { level: warn }
storage: { database: "sqlite://${file}" }
${master ? 'auth: { master_key: ${MASTER} }' : ''}
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1", models: [gpt-4o-mini] }
  anthropic: { type: anthropic, api_key: k, base_url: "${fake.url}/anthropic", models: [claude-haiku-4-5] }
models:
  - name: smart
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
  - name: mixed
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }, { provider: openai, model: gpt-4o-mini }]
`;

let fake: FakeProviders;
before(async () => {
  fake = await startFakeProviders();
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const hi = [{ role: 'user' as const, content: 'hi' }];

describe('virtual keys with a master key configured', () => {
  let gateway: RunningGateway;
  let keys: Record<string, string>;
  const openai = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
  const anthropic = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });

  before(async () => {
    const file = join(dir, 'master.db');
    keys = await seed(file, {
      valid: { metadata: { team: 'search' } },
      anthropicOnly: { allowed_models: ['anthropic/*'] },
      openaiSurface: { allowed_surfaces: ['openai'] },
      expired: { expires_at: '2020-01-01T00:00:00.000Z' },
      disabled: { enabled: false },
      revoked: {},
      office: { ip_allowlist: ['10.0.0.0/8', '2001:db8::/32'] },
    });
    gateway = await startGateway({ config: config(fake, file, true), env: { MASTER, SWITCHBOARD_SECRET: SECRET } });
  });
  after(() => gateway?.stop());

  test('a valid key works on the OpenAI and Anthropic surfaces, and so does the master key', async () => {
    const chat = await openai(keys.valid!).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hi });
    assert.equal(chat.choices[0]!.message.content, 'Echo: hi');
    const message = await anthropic(keys.valid!).messages.create({ model: 'smart', max_tokens: 10, messages: hi });
    assert.equal(message.type, 'message');
    assert.equal((await openai(MASTER).chat.completions.create({ model: 'mixed', messages: hi })).object, 'chat.completion');
    assert.match(gateway.output(), /auth: clients must send auth\.master_key or a virtual key/);
    for (const secret of Object.values(keys)) assert.ok(!gateway.output().includes(secret), 'no key is ever printed');
  });

  const REFUSED: [label: string | undefined, code: string, message: RegExp][] = [
    [undefined, 'invalid_api_key', /does not know it/],
    ['expired', 'key_expired', /expired at 2020-01-01/],
    ['disabled', 'key_disabled', /disabled/],
    ['revoked', 'key_revoked', /revoked/],
  ];

  test('unknown, expired, disabled and revoked keys get 401 in the OpenAI shape', async () => {
    for (const [label, code, message] of REFUSED) {
      const key = label ? keys[label]! : generateKey().key;
      await assert.rejects(openai(key).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hi }), (e: APIError) => {
        assert.equal(e.status, 401, label);
        assert.equal(e.code, code);
        assert.equal(e.type, 'authentication_error');
        assert.match(e.message, message);
        assert.ok(!e.message.includes(key));
        return true;
      });
      await assert.rejects(openai(key).models.list(), (e: APIError) => e.status === 401 && e.code === code);
    }
  });

  test('unknown, expired, disabled and revoked keys get 401 in the Anthropic shape', async () => {
    for (const [label, , message] of REFUSED) {
      const key = label ? keys[label]! : generateKey().key;
      await assert.rejects(anthropic(key).messages.create({ model: 'smart', max_tokens: 10, messages: hi }), (e: unknown) => {
        assert.ok(e instanceof Anthropic.AuthenticationError, String(e));
        const body = e.error as { type: string; error: { type: string; message: string } };
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'authentication_error');
        assert.match(body.error.message, message);
        return true;
      });
    }
  });

  test('a model the key may not use is 403 naming what it may use; configured models pass when all their targets do', async () => {
    const client = openai(keys.anthropicOnly!);
    assert.equal((await client.chat.completions.create({ model: 'anthropic/claude-haiku-4-5', messages: hi })).object, 'chat.completion');
    assert.equal((await client.chat.completions.create({ model: 'smart', messages: hi })).object, 'chat.completion');
    for (const model of ['mixed', 'openai/gpt-4o-mini']) {
      await assert.rejects(
        client.chat.completions.create({ model, messages: hi }),
        (e: APIError) => e.status === 403 && e.code === 'model_not_allowed' && e.type === 'permission_error' && /It may use: anthropic\/\*/.test(e.message),
      );
    }
    await assert.rejects(anthropic(keys.anthropicOnly!).messages.create({ model: 'mixed', max_tokens: 10, messages: hi }), (e: unknown) => {
      assert.ok(e instanceof Anthropic.PermissionDeniedError, String(e));
      assert.match((e.error as { error: { message: string } }).error.message, /It may use: anthropic\/\*/);
      return true;
    });
  });

  test('a key lists only the models it may use', async () => {
    const ids = (await openai(keys.anthropicOnly!).models.list()).data.map((m) => m.id);
    assert.deepEqual(ids, ['smart', 'anthropic/claude-haiku-4-5']);
    assert.ok((await openai(keys.valid!).models.list()).data.length > ids.length);
    await assert.rejects(openai(keys.anthropicOnly!).models.retrieve('mixed'), (e: APIError) => e.status === 403 && e.code === 'model_not_allowed');
  });

  test('a surface the key may not use is 403 naming the allowed ones', async () => {
    assert.equal((await openai(keys.openaiSurface!).chat.completions.create({ model: 'smart', messages: hi })).object, 'chat.completion');
    await assert.rejects(anthropic(keys.openaiSurface!).messages.create({ model: 'smart', max_tokens: 10, messages: hi }), (e: unknown) => {
      assert.ok(e instanceof Anthropic.PermissionDeniedError, String(e));
      assert.match((e.error as { error: { message: string } }).error.message, /anthropic surface\. It may use: openai\./);
      return true;
    });
    await assert.rejects(
      openai(keys.openaiSurface!).responses.create({ model: 'smart', input: 'hi' }),
      (e: APIError) => e.status === 403 && e.code === 'surface_not_allowed',
    );
  });

  test('a key with an IP allowlist is refused with 403 from an address outside it (loopback here)', async () => {
    await assert.rejects(
      openai(keys.office!).chat.completions.create({ model: 'smart', messages: hi }),
      (e: APIError) => e.status === 403 && e.code === 'ip_not_allowed' && /from (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)/.test(e.message),
    );
  });

  test('a request with no key is 401 even from this machine', async () => {
    const res = await request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'smart', messages: hi }),
    });
    assert.equal(res.statusCode, 401);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  });
});

describe('without a master key', () => {
  test('no key at all: the banner warns loudly, and requests from this machine need no key', async () => {
    const gateway = await startGateway({ config: config(fake, join(dir, 'empty.db'), false), env: { SWITCHBOARD_SECRET: SECRET } });
    try {
      assert.match(gateway.output(), /WARNING: NO AUTH\. There is no auth\.master_key and no virtual key/);
      const chat = await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'anything', maxRetries: 0 }).chat.completions.create({ model: 'smart', messages: hi });
      assert.equal(chat.object, 'chat.completion');
    } finally {
      await gateway.stop();
    }
  });

  test('once virtual keys exist, every request needs one, from this machine too', async () => {
    const file = join(dir, 'keys-only.db');
    const keys = await seed(file, { valid: {} });
    const gateway = await startGateway({ config: config(fake, file, false), env: { SWITCHBOARD_SECRET: SECRET } });
    try {
      assert.match(gateway.output(), /auth: clients must send a virtual key/);
      await assert.rejects(
        new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'anything', maxRetries: 0 }).chat.completions.create({ model: 'smart', messages: hi }),
        (e: APIError) => e.status === 401 && e.code === 'invalid_api_key',
      );
      const chat = await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: keys.valid!, maxRetries: 0 }).chat.completions.create({ model: 'smart', messages: hi });
      assert.equal(chat.object, 'chat.completion');
    } finally {
      await gateway.stop();
    }
  });
});
