// The admin API against the real gateway process: the master key sets up two organizations, and people signed in
// through a stand-in identity provider (a local JWKS) act in them with each role. Tenant isolation, role limits,
// write-only secrets, audit records and pagination are checked over HTTP, as a client sees them, once on SQLite and
// once on PostgreSQL (a fresh schema; skipped, saying why, when no server answers on 127.0.0.1:5432).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { openStore } from '../../src/store/store.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts';
import { postgresTestSchema } from '../helpers/postgres.ts';

const MASTER = 'sb-admin-master-0123456789';
const PROVIDER_SECRET = 'sk-provider-TOPSECRET-0123456789';
const SECRET = 'admin-e2e-master-secret-0123456789abcdef';

type Json = Record<string, any>;

function adminSuite(label: string, database: string, skip: string | undefined, cleanup: () => Promise<void>): void {
  describe(`admin API (real gateway process, ${label})`, { skip }, () => {
    let gateway: RunningGateway;
    let idp: TestIssuer;
    /** Every answer's text, to check where secrets turned up. */
    const answers: string[] = [];

    async function call(method: string, path: string, opts: { token?: string; body?: unknown; requestId?: string } = {}): Promise<{ status: number; body: Json }> {
      const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? MASTER}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (opts.requestId) headers['x-request-id'] = opts.requestId;
      const res = await request(`${gateway.url}/admin/v1${path}`, { method: method as 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const text = await res.body.text();
      answers.push(text);
      return { status: res.statusCode, body: text ? JSON.parse(text) : {} };
    }

    async function ok(method: string, path: string, opts: Parameters<typeof call>[2] = {}, status = method === 'POST' && !/\/(revoke|rotate)$/.test(path) ? 201 : 200): Promise<Json> {
      const res = await call(method, path, opts);
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    }

    async function status(method: string, path: string, token: string, body?: unknown): Promise<number> {
      return (await call(method, path, { token, ...(body !== undefined && { body }) })).status;
    }

    const proxyStatus = async (key: string) => (await request(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).statusCode;

    // The world the tests act in, set up by the master key.
    let orgA: Json, orgB: Json, red: Json, blue: Json, green: Json;
    let ann: Json, bob: Json;
    let redKey: Json, blueKey: Json, greenKey: Json, bobKey: Json;

    before(async () => {
      idp = await startIssuer();
      gateway = await startGateway({
        env: { MASTER, SWITCHBOARD_SECRET: SECRET },
        config: [
          'logging: { level: warn }',
          `storage: { database: "${database}" }`,
          'auth: { master_key: ${MASTER} }',
          // A stored credential must name a configured provider; nothing here calls it.
          'providers: { openai: { type: openai, api_key: k, base_url: "http://127.0.0.1:9/v1" } }',
          `admin: { oidc: { issuer: "${idp.issuer}", audience: ${idp.audience}, jwks_url: "${idp.jwksUrl}", team_claim: teams } }`,
        ].join('\n'),
      });
      orgA = await ok('POST', '/orgs', { body: { name: 'acme' } });
      orgB = await ok('POST', '/orgs', { body: { name: 'bravo' } });
      const a = `/orgs/${orgA.id}`;
      red = await ok('POST', `${a}/teams`, { body: { name: 'red' } });
      blue = await ok('POST', `${a}/teams`, { body: { name: 'blue' } });
      green = await ok('POST', `/orgs/${orgB.id}/teams`, { body: { name: 'green' } });
      ann = await ok('POST', `${a}/users`, { body: { email: 'Ann@Acme.test', name: 'Ann', role: 'member' } });
      bob = await ok('POST', `${a}/users`, { body: { email: 'bob@acme.test', role: 'member' } });
      await ok('POST', `${a}/memberships`, { body: { team_id: red.id, user_id: ann.id } });
      await ok('POST', `${a}/memberships`, { body: { team_id: red.id, user_id: bob.id } });
      redKey = await ok('POST', `${a}/keys`, { body: { name: 'red-ci', team_id: red.id, allowed_models: ['openai/*'] } });
      blueKey = await ok('POST', `${a}/keys`, { body: { name: 'blue-ci', team_id: blue.id } });
      bobKey = await ok('POST', `${a}/keys`, { body: { name: 'bob-laptop', user_id: bob.id, team_id: red.id } });
      greenKey = await ok('POST', `/orgs/${orgB.id}/keys`, { body: { name: 'green-ci', team_id: green.id } });
    });

    after(async () => {
      await gateway?.stop();
      await idp?.close();
      await cleanup();
    });

    const token = (claims: Json, options?: Parameters<TestIssuer['sign']>[1]) => idp.sign({ sub: randomUUID(), ...claims }, options);

    test('virtual keys: the secret is in the create answer only, never in a get, list or the audit log', async () => {
      assert.match(redKey.key, /^sk-sb-[0-9A-Za-z]{43}$/);
      assert.equal(redKey.key_prefix, redKey.key.slice(0, 12));
      const a = `/orgs/${orgA.id}`;
      const got = await ok('GET', `${a}/keys/${redKey.id}`);
      assert.equal(got.key, undefined);
      assert.equal(got.key_hash, undefined);
      const listed = await ok('GET', `${a}/keys`);
      assert.equal(listed.items.length, 3);
      const audit = await ok('GET', `/audit?target_id=${redKey.id}`);
      assert.equal(audit.items[0].action, 'key.create');
      assert.equal(audit.items[0].actor, 'master');
      assert.equal(answers.filter((text) => text.includes(redKey.key)).length, 1, 'shown once');
      assert.ok(!answers.some((text) => text.includes('key_hash')));
    });

    test('a key works on the proxy until it is revoked; rotate hands out a new secret once and the old one stops', async () => {
      const a = `/orgs/${orgA.id}`;
      const key = await ok('POST', `${a}/keys`, { body: { name: 'short-lived', team_id: blue.id } });
      assert.equal(await proxyStatus(key.key), 200);
      const rotated = await ok('POST', `${a}/keys/${key.id}/rotate`);
      assert.notEqual(rotated.key, key.key);
      assert.equal(await proxyStatus(key.key), 401);
      assert.equal(await proxyStatus(rotated.key), 200);
      const revoked = await ok('POST', `${a}/keys/${key.id}/revoke`);
      assert.ok(revoked.revoked_at);
      assert.equal(revoked.key, undefined);
      assert.equal(await proxyStatus(rotated.key), 401);
      assert.equal((await call('POST', `${a}/keys/${key.id}/rotate`)).status, 409, 'a revoked key is not brought back');
      const disabled = await ok('PATCH', `${a}/keys/${blueKey.id}`, { body: { enabled: false, ip_allowlist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] } });
      assert.equal(disabled.enabled, false);
      assert.equal(await proxyStatus(blueKey.key), 401);
      await ok('PATCH', `${a}/keys/${blueKey.id}`, { body: { enabled: true, ip_allowlist: [] } });
      assert.equal(await proxyStatus(blueKey.key), 200);
      assert.equal(answers.filter((text) => text.includes(rotated.key)).length, 1);
    });

    test('key settings are validated: CIDRs, surfaces, expiry in the future, unknown fields', async () => {
      const a = `/orgs/${orgA.id}/keys`;
      const bad = async (body: Json, param: string) => {
        const res = await call('POST', a, { body: { name: 'x', ...body } });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param);
      };
      await bad({ ip_allowlist: ['10.0.0.0/33'] }, 'ip_allowlist[0]');
      await bad({ ip_allowlist: ['example.com'] }, 'ip_allowlist[0]');
      await bad({ allowed_surfaces: ['smtp'] }, 'allowed_surfaces[0]');
      await bad({ expires_at: '2001-01-01T00:00:00Z' }, 'expires_at');
      const unknown = await call('POST', a, { body: { name: 'x', key_hash: 'x' } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /key_hash/);
      const foreign = await call('POST', a, { body: { name: 'x', team_id: green.id } });
      assert.equal(foreign.status, 400, "another organization's team is no reference");
      assert.equal(foreign.body.error.code, 'invalid_reference');
    });

    test('provider credentials: the secret is write-only, sealed at rest, and audited only as changed', async () => {
      const a = `/orgs/${orgA.id}/credentials`;
      const created = await ok('POST', a, { body: { provider: 'openai', name: 'prod', secret: PROVIDER_SECRET } });
      assert.deepEqual(Object.keys(created).sort(), ['created_at', 'created_by', 'id', 'name', 'org_id', 'provider', 'updated_at']);
      await ok('GET', `${a}/${created.id}`);
      await ok('GET', a);
      const updated = await ok('PATCH', `${a}/${created.id}`, { body: { secret: `${PROVIDER_SECRET}-v2` } });
      assert.equal(updated.secret, undefined);
      const audit = await ok('GET', `/audit?target_type=credential&target_id=${created.id}`);
      assert.deepEqual(
        audit.items.map((r: Json) => r.action),
        ['credential.update', 'credential.create'],
      );
      assert.equal(audit.items[0].after.secret_changed, true);
      assert.ok(!answers.some((text) => text.includes(PROVIDER_SECRET)), 'never in an answer');
      const store = await openStore({ storage: { database } });
      try {
        const sealed = await store.tenant(orgA.id).credentials.getCiphertext(created.id);
        assert.match(sealed!, /^v1\./);
        assert.ok(!sealed!.includes(PROVIDER_SECRET));
      } finally {
        await store.close();
      }
    });

    test('audit records: actor, action, target, before/after, request id; filters and pagination', async () => {
      const requestId = `req-${randomUUID()}`;
      const team = await ok('POST', `/orgs/${orgA.id}/teams`, { body: { name: 'audited' }, requestId });
      await ok('PATCH', `/orgs/${orgA.id}/teams/${team.id}`, { body: { name: 'audited-2' } });
      await ok('DELETE', `/orgs/${orgA.id}/teams/${team.id}`);
      const all = await ok('GET', `/audit?target_id=${team.id}`);
      assert.deepEqual(
        all.items.map((r: Json) => r.action),
        ['team.delete', 'team.update', 'team.create'],
      );
      const [deleted, updated, created] = all.items;
      assert.equal(created.request_id, requestId);
      assert.equal(created.org_id, orgA.id);
      assert.equal(created.before, null);
      assert.equal(created.after.name, 'audited');
      assert.deepEqual([updated.before.name, updated.after.name], ['audited', 'audited-2']);
      assert.equal(deleted.after, null);

      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = await ok('GET', `/audit?org_id=${orgA.id}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.items.length <= 5);
        for (const r of page.items) {
          assert.equal(r.org_id, orgA.id);
          assert.ok(!seen.has(r.id), 'no record twice');
          seen.add(r.id);
        }
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.ok(pages > 2 && seen.size > 10, `${pages} pages, ${seen.size} records`);
      const since = await ok('GET', `/audit?action=team.create&since=${encodeURIComponent(created.created_at)}`);
      assert.ok(since.items.every((r: Json) => r.action === 'team.create' && r.created_at >= created.created_at));
      const actor = await ok('GET', '/audit?actor=nobody');
      assert.deepEqual(actor.items, []);
      assert.equal((await call('GET', '/audit?limit=0')).status, 400);
    });

    test('pagination of lists: limit and cursor walk every item once', async () => {
      const first = await ok('GET', `/orgs/${orgA.id}/teams?limit=1`);
      assert.equal(first.items.length, 1);
      assert.ok(first.next_cursor);
      const second = await ok('GET', `/orgs/${orgA.id}/teams?limit=1&cursor=${first.next_cursor}`);
      assert.equal(second.items.length, 1);
      assert.notEqual(second.items[0].id, first.items[0].id);
      assert.equal(second.next_cursor, null, 'red and blue are all there is');
      const whole = await ok('GET', `/orgs/${orgA.id}/teams?limit=2`);
      assert.deepEqual(whole, { items: [...first.items, ...second.items], next_cursor: null });
    });

    test('no credential, a bad one, or a token for another audience: 401', async () => {
      const res = await request(`${gateway.url}/admin/v1/orgs`);
      assert.equal(res.statusCode, 401);
      assert.equal(((await res.body.json()) as Json).error.code, 'missing_admin_credential');
      assert.equal(await status('GET', '/orgs', 'not-the-master-key'), 401);
      const wrongAudience = await call('GET', '/me', { token: await token({ switchboard_role: 'owner', switchboard_org: orgA.id }, { audience: 'other' }) });
      assert.equal(wrongAudience.status, 401);
      assert.equal(wrongAudience.body.error.code, 'invalid_token');
      const expired = await token({ switchboard_role: 'owner', switchboard_org: orgA.id }, { expiresIn: -600 });
      assert.equal(await status('GET', '/me', expired), 401);
      const noOrg = await call('GET', '/me', { token: await token({ switchboard_role: 'owner' }) });
      assert.equal(noOrg.status, 403);
      assert.match(noOrg.body.error.message, /switchboard_org/);
    });

    test("an admin of organization A cannot see organization B: B's objects are 404", async () => {
      const admin = await token({ switchboard_role: 'admin', switchboard_org: 'acme' });
      assert.deepEqual((await ok('GET', '/me', { token: admin })).org_id, orgA.id, 'the org claim may name the organization');
      const orgs = await ok('GET', '/orgs', { token: admin });
      assert.deepEqual(
        orgs.items.map((o: Json) => o.id),
        [orgA.id],
      );
      const b = `/orgs/${orgB.id}`;
      for (const path of [b, `${b}/teams`, `${b}/teams/${green.id}`, `${b}/keys`, `${b}/keys/${greenKey.id}`, `${b}/users`, `${b}/credentials`, `${b}/policies`]) {
        assert.equal(await status('GET', path, admin), 404, path);
      }
      assert.equal(await status('POST', `${b}/keys/${greenKey.id}/revoke`, admin), 404);
      assert.equal(await status('DELETE', `${b}/teams/${green.id}`, admin), 404);
      // B's ids through A's path are not found either: the tenant scope holds, whatever the path says.
      assert.equal(await status('GET', `/orgs/${orgA.id}/keys/${greenKey.id}`, admin), 404);
      assert.equal(await status('GET', `/audit?org_id=${orgB.id}`, admin), 404);
      const audit = await ok('GET', '/audit', { token: admin });
      assert.ok(audit.items.length > 0 && audit.items.every((r: Json) => r.org_id === orgA.id));
      assert.equal(await status('POST', '/orgs', admin, { name: 'mine' }), 403, 'only the master key creates organizations');
      assert.equal(await status('PATCH', `/orgs/${orgA.id}`, admin, { name: 'renamed' }), 403, 'an admin does not change the organization');
      assert.equal(await status('POST', `/orgs/${orgA.id}/users`, admin, { email: 'boss@acme.test', role: 'owner' }), 403, 'nor make owners');
      const made = await ok('POST', `/orgs/${orgA.id}/teams`, { token: admin, body: { name: 'by-admin' } });
      const record = await ok('GET', `/audit?target_id=${made.id}`);
      assert.match(record.items[0].actor, /^oidc:/);
    });

    test("a team_admin manages its own team's keys and members; another team's objects are 404", async () => {
      const ta = await token({ switchboard_role: 'team_admin', switchboard_org: orgA.id, teams: ['red'] });
      const a = `/orgs/${orgA.id}`;
      const me = await ok('GET', '/me', { token: ta });
      assert.deepEqual(me.teams, { [red.id]: 'team_admin' });
      const key = await ok('POST', `${a}/keys`, { token: ta, body: { name: 'red-2', team_id: red.id } });
      assert.equal(await status('POST', `${a}/keys`, ta, { name: 'blue-2', team_id: blue.id }), 403);
      assert.equal(await status('POST', `${a}/keys`, ta, { name: 'green-2', team_id: green.id }), 403, 'same answer for a team of another organization');
      assert.equal(await status('GET', `${a}/keys/${redKey.id}`, ta), 200);
      assert.equal(await status('GET', `${a}/keys/${blueKey.id}`, ta), 404);
      assert.equal(await status('PATCH', `${a}/keys/${blueKey.id}`, ta, { name: 'mine' }), 404);
      assert.equal(await status('POST', `${a}/keys/${blueKey.id}/revoke`, ta), 404);
      assert.equal(await status('GET', `${a}/teams/${blue.id}`, ta), 404);
      assert.equal(await status('GET', `${a}/teams/${red.id}`, ta), 200);
      const redKeys = await ok('GET', `${a}/keys?team_id=${red.id}`, { token: ta });
      assert.ok(redKeys.items.every((k: Json) => k.team_id === red.id) && redKeys.items.length >= 3);
      assert.equal(await status('GET', `${a}/keys?team_id=${blue.id}`, ta), 403);
      const teams = await ok('GET', `${a}/teams`, { token: ta });
      assert.deepEqual(
        teams.items.map((t: Json) => t.id),
        [red.id],
      );
      const members = await ok('GET', `${a}/memberships?team_id=${red.id}`, { token: ta });
      assert.equal(members.items.length, 2);
      const added = await ok('POST', `${a}/memberships`, { token: ta, body: { team_id: red.id, user_id: (await ok('POST', `${a}/users`, { body: { email: 'cy@acme.test', role: 'member' } })).id } });
      await ok('DELETE', `${a}/memberships/${added.id}`, { token: ta });
      assert.equal(await status('POST', `${a}/memberships`, ta, { team_id: blue.id, user_id: ann.id }), 403);
      assert.equal(await status('GET', `${a}/credentials`, ta), 403);
      assert.equal(await status('GET', '/audit', ta), 403);
      assert.equal(await status('POST', `${a}/teams`, ta, { name: 'new' }), 403);
      await ok('POST', `${a}/keys/${key.id}/revoke`, { token: ta });
    });

    test('a viewer reads the organization and changes nothing (403)', async () => {
      const viewer = await token({ switchboard_role: 'viewer', switchboard_org: orgA.id });
      const a = `/orgs/${orgA.id}`;
      assert.ok((await ok('GET', `${a}/keys`, { token: viewer })).items.length >= 3);
      await ok('GET', `${a}/credentials`, { token: viewer });
      await ok('GET', '/audit', { token: viewer });
      assert.equal(await status('POST', `${a}/teams`, viewer, { name: 'v' }), 403);
      assert.equal(await status('PATCH', `${a}/keys/${redKey.id}`, viewer, { name: 'v' }), 403);
      assert.equal(await status('POST', `${a}/keys/${redKey.id}/revoke`, viewer), 403);
      assert.equal(await status('DELETE', `${a}/teams/${red.id}`, viewer), 403);
      assert.equal(await status('POST', `${a}/credentials`, viewer, { provider: 'openai', name: 'v', secret: 'x' }), 403);
      assert.equal(await status('GET', `/orgs/${orgB.id}/keys`, viewer), 404);
    });

    test('a member manages only its own keys; a known user takes its role from the users table, not the token', async () => {
      // The token claims owner, but bob is a member in the users table, and that is what counts.
      const member = await token({ email: 'bob@acme.test', switchboard_role: 'owner', switchboard_org: orgA.id });
      const a = `/orgs/${orgA.id}`;
      const me = await ok('GET', '/me', { token: member });
      assert.deepEqual([me.id, me.role, me.user_id, me.teams], [bob.id, 'member', bob.id, { [red.id]: 'member' }]);
      const own = await ok('GET', `${a}/keys`, { token: member });
      assert.deepEqual(
        own.items.map((k: Json) => k.id),
        [bobKey.id],
      );
      assert.equal(await status('GET', `${a}/keys/${bobKey.id}`, member), 200);
      assert.equal(await status('GET', `${a}/keys/${redKey.id}`, member), 404, "its team's key is not its own");
      assert.equal(await status('GET', `${a}/keys?team_id=${red.id}`, member), 403);
      const created = await ok('POST', `${a}/keys`, { token: member, body: { name: 'bob-2', user_id: bob.id } });
      assert.equal(created.created_by, bob.id);
      assert.equal(await status('POST', `${a}/keys`, member, { name: 'x', user_id: ann.id }), 403);
      assert.equal(await status('POST', `${a}/keys`, member, { name: 'x', user_id: bob.id, team_id: blue.id }), 403, 'not a team it is in');
      await ok('POST', `${a}/keys/${created.id}/rotate`, { token: member });
      await ok('DELETE', `${a}/keys/${created.id}`, { token: member });
      assert.equal(await status('GET', `${a}/users/${ann.id}`, member), 200, 'a teammate');
      assert.equal(await status('PATCH', `${a}/users/${bob.id}`, member, { role: 'admin' }), 403);
      assert.equal(await status('GET', `${a}/credentials`, member), 403);
      const unverified = await token({ email: 'bob@acme.test', email_verified: false, switchboard_org: orgA.id });
      assert.equal(await status('GET', '/me', unverified), 403, 'an unverified email names no user');
    });

    test('conflicts are 409, unknown objects 404, and deleting what keys still use is refused', async () => {
      const a = `/orgs/${orgA.id}`;
      assert.equal(await status('POST', `${a}/teams`, MASTER, { name: 'red' }), 409);
      assert.equal(await status('POST', `${a}/users`, MASTER, { email: 'ann@acme.test', role: 'viewer' }), 409, 'emails are compared without case');
      assert.equal(await status('GET', `${a}/keys/key_nope`, MASTER), 404);
      assert.equal(await status('GET', '/orgs/org_nope/teams', MASTER), 404);
      const inUse = await call('DELETE', `${a}/teams/${red.id}`);
      assert.equal(inUse.status, 409);
      assert.equal(inUse.body.error.code, 'in_use');
    });

    test('model policies: CRUD, team-scoped reads, and every applicable policy binds the keys at once', async () => {
      const a = `/orgs/${orgA.id}/policies`;
      const blueMember = await ok('POST', `/orgs/${orgA.id}/keys`, { body: { name: 'policy-bound', team_id: blue.id } });
      const modelStatus = async (model: string) =>
        (await request(`${gateway.url}/v1/models/${model}`, { headers: { authorization: `Bearer ${blueMember.key}` } })).statusCode;
      assert.equal(await modelStatus('openai/gpt-4o'), 200);
      const orgWide = await ok('POST', a, { body: { name: 'default', allowed_models: ['openai/*'] } });
      const bluePolicy = await ok('POST', a, { body: { name: 'blue-only', team_id: blue.id, allowed_models: ['anthropic/*'] } });
      // The org's policy allows openai/*, the team's only anthropic/*: a key of the team may use neither.
      assert.equal(await modelStatus('openai/gpt-4o'), 403);
      const updated = await ok('PATCH', `${a}/${orgWide.id}`, { body: { description: 'the baseline' } });
      assert.equal(updated.description, 'the baseline');
      const ta = await token({ switchboard_role: 'team_admin', switchboard_org: orgA.id, teams: [red.id] });
      assert.deepEqual(
        (await ok('GET', a, { token: ta })).items.map((p: Json) => p.id),
        [orgWide.id],
      );
      assert.equal(await status('GET', `${a}/${bluePolicy.id}`, ta), 404);
      assert.equal(await status('PATCH', `${a}/${orgWide.id}`, ta, { name: 'x' }), 403);
      await ok('DELETE', `${a}/${bluePolicy.id}`);
      assert.equal((await ok('GET', a)).items.length, 1);
      assert.equal(await modelStatus('openai/gpt-4o'), 200, 'a deleted policy binds no more');
      await ok('DELETE', `${a}/${orgWide.id}`);
    });

    test('organizations: the master key lists, renames and deletes them; deletion keeps the audit trail', async () => {
      const org = await ok('POST', '/orgs', { body: { name: 'temp', metadata: { tier: 'trial' } } });
      const key = await ok('POST', `/orgs/${org.id}/keys`, { body: { name: 'k' } });
      assert.equal(await proxyStatus(key.key), 200);
      await ok('PATCH', `/orgs/${org.id}`, { body: { name: 'temp-2' } });
      const listed = await ok('GET', '/orgs?name=temp-2');
      assert.deepEqual(
        listed.items.map((o: Json) => o.id),
        [org.id],
      );
      await ok('DELETE', `/orgs/${org.id}`);
      assert.equal(await status('GET', `/orgs/${org.id}`, MASTER), 404);
      assert.equal(await proxyStatus(key.key), 401, 'its keys went with it');
      const trail = await ok('GET', `/audit?org_id=${org.id}`);
      assert.deepEqual(trail.items[0].action, 'organization.delete');
    });

    test('GET /admin/v1/openapi.json serves the OpenAPI 3.1 document without credentials', async () => {
      const res = await request(`${gateway.url}/admin/v1/openapi.json`);
      assert.equal(res.statusCode, 200);
      const doc = (await res.body.json()) as Json;
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/admin/v1/orgs/{org_id}/keys'].post);
      assert.ok(doc.components.schemas.IssuedKey);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'switchboard-admin-'));
adminSuite('SQLite', `sqlite://${join(dir, 'admin.db')}`, undefined, async () => rmSync(dir, { recursive: true, force: true }));

const postgres = await postgresTestSchema();
if ('skip' in postgres) adminSuite('PostgreSQL', '', postgres.skip, async () => {});
else adminSuite('PostgreSQL', postgres.url, undefined, () => postgres.drop());
