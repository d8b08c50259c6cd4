// Bring your own key, end to end: the real gateway process with a master key; an organization, its virtual key and its
// provider credential are created through the admin API, and the official OpenAI SDK calls the gateway with the key.
// The fake provider records which key each request carried: the organization's stored secret for its own keys, the
// configured key for the master key and for other organizations, following every update and the delete.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { request } from 'undici';
import { credentialAad } from '../../src/identity/provider-credentials.ts';
import { Keyring, SecretBox } from '../../src/identity/secrets.ts';
import { openStore } from '../../src/store/store.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

const MASTER = 'sb-tenant-master-0123456789';
const SECRET = 'tenant-credentials-master-secret-0123456789';
const CONFIGURED = 'sk-configured-operator-key';
const TENANT_V1 = 'sk-tenant-OWN-key-v1-0123456789';
const TENANT_V2 = 'sk-tenant-OWN-key-v2-0123456789';

type Json = Record<string, any>;

describe('provider credentials stored by an organization are used for its keys (real gateway process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-byok-'));
  const database = `sqlite://${join(dir, 'gateway.db')}`;
  let fake: FakeProviders;
  let gateway: RunningGateway;
  /** Every admin answer's text, to check that no secret ever comes back. */
  const answers: string[] = [];
  let acme: Json, bravo: Json, acmeKey: Json, bravoKey: Json;

  async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await request(`${gateway.url}/admin/v1${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${MASTER}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    answers.push(text);
    return { status: res.statusCode, body: text ? JSON.parse(text) : {} };
  }

  async function ok(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await admin(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** The Authorization header the fake OpenAI received for one chat made with `apiKey`. */
  async function keySentUpstream(apiKey: string, stream = false): Promise<string | undefined> {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    fake.reset();
    const messages = [{ role: 'user' as const, content: 'hi' }];
    if (stream) {
      for await (const _ of await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, stream: true }));
    } else {
      const answer = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages });
      assert.ok(answer.choices[0]!.message.content);
    }
    const sent = fake.received.filter((r) => r.provider === 'openai');
    assert.equal(sent.length, 1);
    return sent[0]!.headers.authorization;
  }

  before(async () => {
    fake = await startFakeProviders();
    gateway = await startGateway({
      env: { MASTER, SWITCHBOARD_SECRET: SECRET },
      config: `
logging: { level: warn }
storage: { database: "${database}" }
auth: { master_key: \${MASTER} }
providers:
  openai: { type: openai, api_key: ${CONFIGURED}, base_url: "${fake.url}/openai/v1" }
  anthropic: { type: anthropic, api_key: ${CONFIGURED}, base_url: "${fake.url}/anthropic" }
  vertex: { type: vertex, project: p, base_url: "${fake.url}/vertex" }
`,
    });
    acme = await ok('POST', '/orgs', { name: 'acme' });
    bravo = await ok('POST', '/orgs', { name: 'bravo' });
    acmeKey = await ok('POST', `/orgs/${acme.id}/keys`, { name: 'acme-ci' });
    bravoKey = await ok('POST', `/orgs/${bravo.id}/keys`, { name: 'bravo-ci' });
  });

  after(async () => {
    await gateway?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the organization's credential is used for its keys; the master key and other organizations keep the configured key", async () => {
    assert.equal(await keySentUpstream(acmeKey.key), `Bearer ${CONFIGURED}`, 'no credential yet');
    const credential = await ok('POST', `/orgs/${acme.id}/credentials`, { provider: 'openai', name: 'acme-openai', secret: TENANT_V1 });
    assert.equal(await keySentUpstream(acmeKey.key), `Bearer ${TENANT_V1}`);
    assert.equal(await keySentUpstream(acmeKey.key, true), `Bearer ${TENANT_V1}`, 'streams too');
    assert.equal(await keySentUpstream(MASTER), `Bearer ${CONFIGURED}`);
    assert.equal(await keySentUpstream(bravoKey.key), `Bearer ${CONFIGURED}`);

    await ok('PATCH', `/orgs/${acme.id}/credentials/${credential.id}`, { secret: TENANT_V2 });
    assert.equal(await keySentUpstream(acmeKey.key), `Bearer ${TENANT_V2}`, 'an update takes effect on the next request');

    await ok('DELETE', `/orgs/${acme.id}/credentials/${credential.id}`);
    assert.equal(await keySentUpstream(acmeKey.key), `Bearer ${CONFIGURED}`, 'deleted: back to the configured key');
  });

  test('a credential for a provider that is not configured is refused, naming the configured ones', async () => {
    const res = await admin('POST', `/orgs/${acme.id}/credentials`, { provider: 'mistral', name: 'nope', secret: TENANT_V1 });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'unknown_provider');
    assert.equal(res.body.error.param, 'provider');
    assert.match(res.body.error.message, /'mistral'.*openai, anthropic/);
    const vertex = await admin('POST', `/orgs/${acme.id}/credentials`, { provider: 'vertex', name: 'nope', secret: TENANT_V1 });
    assert.equal(vertex.status, 400, 'a service-account provider has no API key for a credential to replace');
    assert.equal(vertex.body.error.code, 'provider_takes_no_api_key');
    assert.equal((await ok('GET', `/orgs/${acme.id}/credentials`)).items.length, 0);
  });

  test('a credential the gateway cannot decrypt: a 500 naming provider and credential, nothing sent upstream, no fallback to the configured key', async () => {
    const credential = await ok('POST', `/orgs/${bravo.id}/credentials`, { provider: 'openai', name: 'bravo-openai', secret: TENANT_V1 });
    assert.equal(await keySentUpstream(bravoKey.key), `Bearer ${TENANT_V1}`);
    // As if sealed under a master secret that has since left the keyring.
    const store = await openStore({ storage: { database } });
    try {
      const foreign = new SecretBox(new Keyring('a-master-secret-rotated-out-0123456789abcdef'));
      await store.tenant(bravo.id).credentials.update(credential.id, { ciphertext: foreign.encrypt(TENANT_V2, credentialAad(bravo.id, credential.id)) });
    } finally {
      await store.close();
    }
    // A rename announces the change, as any edit through the admin API does.
    await ok('PATCH', `/orgs/${bravo.id}/credentials/${credential.id}`, { name: 'bravo-openai-renamed' });
    fake.reset();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: bravoKey.key, maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (err: APIError) => {
        assert.equal(err.status, 500);
        assert.equal(err.code, 'provider_credential_unusable');
        assert.match(err.message, new RegExp(`openai: .*'${credential.id}'`));
        assert.ok(!err.message.includes(TENANT_V2) && !err.message.includes(CONFIGURED));
        return true;
      });
    }
    assert.equal(fake.received.length, 0, 'nothing reached the provider');
    assert.equal(await keySentUpstream(MASTER), `Bearer ${CONFIGURED}`, 'the master key is unaffected');
    const logged = gateway.output().split('\n').filter((line) => line.includes('a stored credential cannot be decrypted'));
    assert.equal(logged.length, 1, 'logged once');
    assert.match(logged[0]!, new RegExp(credential.id));
  });

  test('no stored secret ever appears in an admin answer or the gateway log', () => {
    for (const secret of [TENANT_V1, TENANT_V2]) {
      assert.ok(!answers.some((text) => text.includes(secret)));
      assert.ok(!gateway.output().includes(secret));
    }
  });
});
