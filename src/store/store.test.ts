// One repository suite, run against SQLite (in memory, and in a file, where usage records are inserted by a thread of
// their own) and against a real PostgreSQL (a fresh schema, dropped after; skipped with the reason when no server
// answers on 127.0.0.1:5432).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { storeBackends } from '../../test/helpers/store-backends.ts';
import { openDatabase, type Database } from './db.ts';
import { StoreError, type StoreErrorCode } from './errors.ts';
import { migrate } from './migrate.ts';
import { migrations } from './migrations/index.ts';
import { Store, type TenantStore } from './store.ts';
import { readBool, readTime } from './dialect.ts';
import { usageRecordFixture } from '../../test/helpers/usage-record.ts';

const BACKENDS = await storeBackends('store');

const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a StoreError '${code}'`);
}

for (const backend of BACKENDS) {
  describe(`store on ${backend.name}`, { skip: backend.skip }, () => {
    let database: Database;
    let store: Store;
    let firstRun: string[];
    // Real time unless a test sets it.
    let frozen: number | undefined;

    before(async () => {
      database = openDatabase(backend.url);
      firstRun = await migrate(database);
      store = new Store(database, { now: () => new Date(frozen ?? Date.now()) });
    });
    after(async () => {
      await store?.close();
      await backend.cleanup();
    });

    async function newOrg(): Promise<TenantStore> {
      const org = await store.organizations.create({ name: unique('org') });
      return store.tenant(org.id);
    }

    test('migrations run once: the first run applies them, a second run is a no-op', async () => {
      assert.deepEqual(firstRun, Object.keys(migrations(database.dialect)));
      assert.ok(firstRun.includes('0003_limits') && firstRun.includes('0004_shadow'));
      assert.deepEqual(await migrate(database), []);
    });

    test('organizations: create, get, list by name, update, unique name', async () => {
      const name = unique('acme');
      const org = await store.organizations.create({ name, metadata: { plan: 'pro' } });
      assert.match(org.id, /^org_[0-9a-z]{26}$/);
      assert.deepEqual(await store.organizations.get(org.id), org);
      assert.deepEqual((await store.organizations.list({ name })).items, [org]);
      const renamed = await store.organizations.update(org.id, { name: `${name}-2` });
      assert.equal(renamed?.name, `${name}-2`);
      assert.deepEqual(renamed?.metadata, { plan: 'pro' });
      await rejectsWith(store.organizations.create({ name: `${name}-2` }), 'conflict');
      assert.equal(await store.organizations.update('org_missing', { name: 'x' }), undefined);
    });

    test('deleting an organization removes everything in it but keeps its audit records', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const user = await t.users.create({ email: 'a@x.io', role: 'member' });
      await t.memberships.create({ team_id: team.id, user_id: user.id, role: 'member' });
      const hash = unique('hash');
      await t.keys.create({ name: 'k', key_hash: hash, key_prefix: 'sk-sb-abcd', team_id: team.id, user_id: user.id, created_by: 'master' });
      await t.policies.create({ name: 'p', team_id: team.id, allowed_models: ['*'], created_by: 'master' });
      await t.credentials.create({ provider: 'openai', name: 'c', ciphertext: 'v1:x', created_by: 'master' });
      await t.audit.record({ actor: 'master', action: 'team.create', target_type: 'team', target_id: team.id });

      assert.equal(await store.organizations.delete(t.orgId), true);
      assert.equal(await store.organizations.get(t.orgId), undefined);
      assert.equal(await store.findKeyByHash(hash), undefined);
      assert.deepEqual((await t.teams.list()).items, []);
      assert.deepEqual((await t.users.list()).items, []);
      assert.equal((await t.audit.list()).items.length, 1);
      assert.equal(await store.organizations.delete(t.orgId), false);
    });

    test('teams: CRUD, metadata, a name unique within its organization only', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const team = await a.teams.create({ name: 'eng', metadata: { cost_center: 42 } });
      assert.match(team.id, /^team_/);
      assert.equal(team.org_id, a.orgId);
      assert.deepEqual(team.metadata, { cost_center: 42 });
      assert.deepEqual(await a.teams.get(team.id), team);
      await rejectsWith(a.teams.create({ name: 'eng' }), 'conflict');
      await b.teams.create({ name: 'eng' });
      const updated = await a.teams.update(team.id, { metadata: { cost_center: 7 } });
      assert.deepEqual(updated?.metadata, { cost_center: 7 });
      assert.equal(updated?.name, 'eng');
      assert.deepEqual((await a.teams.list({ name: 'eng' })).items.map((t) => t.id), [team.id]);
      assert.equal(await a.teams.delete(team.id), true);
      assert.equal(await a.teams.get(team.id), undefined);
    });

    test('teams and users still owning keys or policies cannot be deleted; memberships go with them', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const user = await t.users.create({ email: 'u@x.io', role: 'member' });
      const membership = await t.memberships.create({ team_id: team.id, user_id: user.id, role: 'member' });
      const key = await t.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', team_id: team.id, user_id: user.id, created_by: 'master' });
      const policy = await t.policies.create({ name: 'p', team_id: team.id, allowed_models: [], created_by: 'master' });

      const teamInUse = await rejectsWith(t.teams.delete(team.id), 'in_use');
      assert.match(teamInUse.message, /virtual keys or model policies/);
      await rejectsWith(t.users.delete(user.id), 'in_use');

      await t.keys.delete(key.id);
      assert.equal(await t.users.delete(user.id), true);
      assert.equal(await t.memberships.get(membership.id), undefined);
      await rejectsWith(t.teams.delete(team.id), 'in_use');
      await t.policies.delete(policy.id);
      assert.equal(await t.teams.delete(team.id), true);
    });

    test('users: emails are lower-cased and unique within an organization; role and team filters', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const ada = await a.users.create({ email: ' Ada@Example.COM ', name: 'Ada', role: 'admin' });
      assert.match(ada.id, /^usr_/);
      assert.equal(ada.email, 'ada@example.com');
      assert.deepEqual(await a.users.getByEmail('ADA@example.com'), ada);
      const conflict = await rejectsWith(a.users.create({ email: 'ada@example.com', role: 'member' }), 'conflict');
      assert.equal(conflict.message, 'a user with this email already exists');
      await b.users.create({ email: 'ada@example.com', role: 'owner' });

      const bob = await a.users.create({ email: 'bob@example.com', role: 'viewer' });
      const team = await a.teams.create({ name: 'eng' });
      await a.memberships.create({ team_id: team.id, user_id: bob.id, role: 'team_admin' });
      assert.deepEqual((await a.users.list({ role: 'viewer' })).items.map((u) => u.id), [bob.id]);
      assert.deepEqual((await a.users.list({ team_id: team.id })).items.map((u) => u.id), [bob.id]);
      assert.deepEqual((await a.users.list({ email: 'ADA@example.com' })).items.map((u) => u.id), [ada.id]);

      const promoted = await a.users.update(bob.id, { role: 'team_admin', name: null });
      assert.equal(promoted?.role, 'team_admin');
      assert.equal(promoted?.name, null);
      await rejectsWith(a.users.update(bob.id, { email: 'ADA@example.com' }), 'conflict');
    });

    test('memberships: one per team and user, found by pair, filtered, role updated, only within the organization', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const team = await a.teams.create({ name: 'eng' });
      const user = await a.users.create({ email: 'm@x.io', role: 'member' });
      const m = await a.memberships.create({ team_id: team.id, user_id: user.id, role: 'member' });
      assert.match(m.id, /^mem_/);
      await rejectsWith(a.memberships.create({ team_id: team.id, user_id: user.id, role: 'viewer' }), 'conflict');
      assert.deepEqual(await a.memberships.find(team.id, user.id), m);
      assert.deepEqual((await a.memberships.list({ team_id: team.id })).items, [m]);
      assert.deepEqual((await a.memberships.list({ user_id: user.id })).items, [m]);
      assert.equal((await a.memberships.update(m.id, { role: 'team_admin' }))?.role, 'team_admin');

      // B cannot tie A's team or user into its own rows.
      const bUser = await b.users.create({ email: 'm@x.io', role: 'member' });
      const bTeam = await b.teams.create({ name: 'eng' });
      await rejectsWith(b.memberships.create({ team_id: team.id, user_id: bUser.id, role: 'member' }), 'invalid_reference');
      await rejectsWith(b.memberships.create({ team_id: bTeam.id, user_id: user.id, role: 'member' }), 'invalid_reference');
      assert.equal(await a.memberships.delete(m.id), true);
      assert.equal(await a.memberships.find(team.id, user.id), undefined);
    });

    test('keys: create with every field, parsed back; the hash is found across organizations and never returned', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const hash = unique('hash');
      const key = await t.keys.create({
        name: 'ci',
        key_hash: hash,
        key_prefix: 'sk-sb-AbCd',
        team_id: team.id,
        allowed_models: ['anthropic/*', 'smart'],
        allowed_surfaces: ['openai', 'anthropic'],
        ip_allowlist: ['10.0.0.0/8', '2001:db8::/32'],
        metadata: { env: 'ci', tags: ['a', 'b'], nested: { n: 1.5, ok: true, none: null }, text: 'ünïcødé ✓' },
        expires_at: '2030-01-02T03:04:05.678+01:00',
        enabled: false,
        created_by: 'usr_admin',
      });
      assert.match(key.id, /^key_/);
      assert.equal(key.org_id, t.orgId);
      assert.equal(key.team_id, team.id);
      assert.equal(key.user_id, null);
      assert.deepEqual(key.allowed_models, ['anthropic/*', 'smart']);
      assert.deepEqual(key.allowed_surfaces, ['openai', 'anthropic']);
      assert.deepEqual(key.ip_allowlist, ['10.0.0.0/8', '2001:db8::/32']);
      assert.deepEqual(key.metadata, { env: 'ci', tags: ['a', 'b'], nested: { n: 1.5, ok: true, none: null }, text: 'ünïcødé ✓' });
      assert.equal(key.expires_at, '2030-01-02T02:04:05.678Z');
      assert.equal(key.enabled, false);
      assert.equal(key.revoked_at, null);
      assert.match(key.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(!('key_hash' in key), 'the hash is not part of the domain object');
      assert.deepEqual(await t.keys.get(key.id), key);
      assert.deepEqual(await store.findKeyByHash(hash), key);
      assert.equal(await store.findKeyByHash('no-such-hash'), undefined);

      const defaults = await t.keys.create({ name: 'plain', key_hash: unique('hash'), key_prefix: 'sk-sb-0000', created_by: 'master' });
      assert.deepEqual(
        [defaults.allowed_models, defaults.allowed_surfaces, defaults.ip_allowlist, defaults.metadata, defaults.expires_at, defaults.enabled],
        [[], [], [], {}, null, true],
      );
    });

    test('keys: a duplicate hash is refused, in any organization, without echoing it', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const hash = unique('secret-hash');
      await a.keys.create({ name: 'k', key_hash: hash, key_prefix: 'sk-sb-1', created_by: 'master' });
      const err = await rejectsWith(b.keys.create({ name: 'k', key_hash: hash, key_prefix: 'sk-sb-1', created_by: 'master' }), 'conflict');
      assert.equal(err.message, 'a virtual key with this key_hash already exists');
      assert.ok(!err.message.includes(hash));
    });

    test('keys: filters by team, user, enabled and revoked; update, revoke, rotate, delete', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const user = await t.users.create({ email: 'k@x.io', role: 'member' });
      const k = (name: string, extra: object = {}) => t.keys.create({ name, key_hash: unique('h'), key_prefix: 'sk-sb-x', created_by: 'master', ...extra });
      const teamKey = await k('team', { team_id: team.id });
      const userKey = await k('user', { user_id: user.id, enabled: false });
      const orgKey = await k('org');
      const ids = async (query: object) => (await t.keys.list(query)).items.map((key) => key.id);
      assert.deepEqual(await ids({}), [teamKey.id, userKey.id, orgKey.id]);
      assert.deepEqual(await ids({ team_id: team.id }), [teamKey.id]);
      assert.deepEqual(await ids({ user_id: user.id }), [userKey.id]);
      assert.deepEqual(await ids({ enabled: false }), [userKey.id]);
      assert.deepEqual(await ids({ enabled: true }), [teamKey.id, orgKey.id]);

      frozen = Date.parse('2031-05-06T07:08:09.000Z');
      const updated = await t.keys.update(orgKey.id, { name: 'renamed', allowed_models: ['openai/*'], enabled: false, expires_at: '2032-01-01T00:00:00Z', user_id: user.id });
      assert.equal(updated?.name, 'renamed');
      assert.deepEqual(updated?.allowed_models, ['openai/*']);
      assert.equal(updated?.enabled, false);
      assert.equal(updated?.expires_at, '2032-01-01T00:00:00.000Z');
      assert.equal(updated?.user_id, user.id);
      assert.equal(updated?.updated_at, '2031-05-06T07:08:09.000Z');
      assert.equal((await t.keys.update(orgKey.id, { expires_at: null }))?.expires_at, null);

      const revoked = await t.keys.revoke(teamKey.id);
      assert.equal(revoked?.revoked_at, '2031-05-06T07:08:09.000Z');
      frozen = Date.parse('2031-06-01T00:00:00.000Z');
      assert.equal((await t.keys.revoke(teamKey.id))?.revoked_at, '2031-05-06T07:08:09.000Z', 'the first revocation time stays');
      frozen = undefined;
      assert.deepEqual(await ids({ revoked: true }), [teamKey.id]);
      assert.deepEqual(await ids({ revoked: false }), [userKey.id, orgKey.id]);

      const oldHash = unique('old');
      const rotating = await k('rotating', { key_hash: oldHash });
      const newHash = unique('new');
      const rotated = await t.keys.rotate(rotating.id, { key_hash: newHash, key_prefix: 'sk-sb-NEW' });
      assert.equal(rotated?.key_prefix, 'sk-sb-NEW');
      assert.equal(await store.findKeyByHash(oldHash), undefined);
      assert.equal((await store.findKeyByHash(newHash))?.id, rotating.id);
      await rejectsWith(t.keys.rotate(userKey.id, { key_hash: newHash, key_prefix: 'x' }), 'conflict');

      assert.equal(await t.keys.delete(rotating.id), true);
      assert.equal(await t.keys.get(rotating.id), undefined);
      assert.equal(await t.keys.delete(rotating.id), false);
    });

    test('hasKeys: true once any organization has a key', async () => {
      const t = await newOrg();
      await t.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', created_by: 'master' });
      assert.equal(await store.hasKeys(), true);
    });

    test('provider credentials: the ciphertext is stored and read back only through getCiphertext', async () => {
      const t = await newOrg();
      const cred = await t.credentials.create({ provider: 'openai', name: 'prod', ciphertext: 'v1:kid:AAAA', created_by: 'usr_1' });
      assert.match(cred.id, /^cred_/);
      assert.ok(!('ciphertext' in cred));
      assert.deepEqual(await t.credentials.get(cred.id), cred);
      for (const listed of (await t.credentials.list()).items) assert.ok(!('ciphertext' in listed));
      assert.equal(await t.credentials.getCiphertext(cred.id), 'v1:kid:AAAA');
      const updated = await t.credentials.update(cred.id, { ciphertext: 'v2:kid:BBBB' });
      assert.ok(updated && !('ciphertext' in updated));
      assert.equal(await t.credentials.getCiphertext(cred.id), 'v2:kid:BBBB');
      await t.credentials.create({ provider: 'anthropic', name: 'other', ciphertext: 'v1:x', created_by: 'usr_1' });
      assert.deepEqual((await t.credentials.list({ provider: 'openai' })).items.map((c) => c.id), [cred.id]);
      await rejectsWith(t.credentials.create({ provider: 'anthropic', name: 'prod', ciphertext: 'v1:y', created_by: 'usr_1' }), 'conflict');
      assert.equal(await t.credentials.delete(cred.id), true);
      assert.equal(await t.credentials.getCiphertext(cred.id), undefined);
    });

    test('provider credentials: listSealed gives all of the organization with ciphertexts, most recently updated first', async () => {
      const t = await newOrg();
      const other = await newOrg();
      await other.credentials.create({ provider: 'openai', name: 'theirs', ciphertext: 'v1:theirs', created_by: 'usr_1' });
      try {
        frozen = Date.parse('2030-01-01T00:00:00.000Z');
        const older = await t.credentials.create({ provider: 'openai', name: 'older', ciphertext: 'v1:a', created_by: 'usr_1' });
        frozen += 1000;
        const newer = await t.credentials.create({ provider: 'openai', name: 'newer', ciphertext: 'v1:b', created_by: 'usr_1' });
        const same = await t.credentials.create({ provider: 'anthropic', name: 'same-time', ciphertext: 'v1:c', created_by: 'usr_1' });
        frozen += 1000;
        await t.credentials.update(older.id, { ciphertext: 'v1:a2' });
        assert.deepEqual(await t.credentials.listSealed(), [
          { id: older.id, provider: 'openai', ciphertext: 'v1:a2', updated_at: '2030-01-01T00:00:02.000Z' },
          { id: same.id, provider: 'anthropic', ciphertext: 'v1:c', updated_at: '2030-01-01T00:00:01.000Z' },
          { id: newer.id, provider: 'openai', ciphertext: 'v1:b', updated_at: '2030-01-01T00:00:01.000Z' },
        ]);
      } finally {
        frozen = undefined;
      }
    });

    test('model policies: CRUD, organization-wide and per-team filters, team within the organization', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const team = await a.teams.create({ name: 'eng' });
      const wide = await a.policies.create({ name: 'default', allowed_models: ['openai/gpt-4o*'], created_by: 'master' });
      const teamPolicy = await a.policies.create({ name: 'eng', team_id: team.id, description: 'engineering', allowed_models: ['anthropic/*', 'smart'], created_by: 'master' });
      assert.match(wide.id, /^pol_/);
      assert.deepEqual(teamPolicy.allowed_models, ['anthropic/*', 'smart']);
      assert.deepEqual((await a.policies.list({ team_id: null })).items.map((p) => p.id), [wide.id]);
      assert.deepEqual((await a.policies.list({ team_id: team.id })).items.map((p) => p.id), [teamPolicy.id]);
      const updated = await a.policies.update(wide.id, { allowed_models: [], description: 'none' });
      assert.deepEqual([updated?.allowed_models, updated?.description], [[], 'none']);
      await rejectsWith(a.policies.create({ name: 'default', allowed_models: [], created_by: 'master' }), 'conflict');
      await rejectsWith(b.policies.create({ name: 'x', team_id: team.id, allowed_models: [], created_by: 'master' }), 'invalid_reference');
      await rejectsWith(b.policies.update((await b.policies.create({ name: 'y', allowed_models: [], created_by: 'm' })).id, { team_id: team.id }), 'invalid_reference');
      assert.equal(await a.policies.delete(wide.id), true);
    });

    test('audit: newest first, filtered by actor, action, target and time range, before/after parsed', async () => {
      const t = await newOrg();
      frozen = Date.parse('2030-01-01T00:00:00.000Z');
      const first = await t.audit.record({ actor: 'master', action: 'team.create', target_type: 'team', target_id: 'team_1', after: { name: 'eng' }, request_id: 'req-1' });
      frozen = Date.parse('2030-01-02T00:00:00.000Z');
      const second = await t.audit.record({ actor: 'usr_1', action: 'team.update', target_type: 'team', target_id: 'team_1', before: { name: 'eng' }, after: { name: 'platform' } });
      frozen = Date.parse('2030-01-03T00:00:00.000Z');
      const third = await t.audit.record({ actor: 'usr_1', action: 'key.revoke', target_type: 'key', target_id: 'key_1' });
      frozen = undefined;

      assert.match(first.id, /^aud_/);
      assert.deepEqual([first.org_id, first.before, first.after, first.request_id, first.created_at], [t.orgId, null, { name: 'eng' }, 'req-1', '2030-01-01T00:00:00.000Z']);
      const ids = async (query: object) => (await t.audit.list(query)).items.map((r) => r.id);
      assert.deepEqual(await ids({}), [third.id, second.id, first.id]);
      assert.deepEqual(await ids({ actor: 'usr_1' }), [third.id, second.id]);
      assert.deepEqual(await ids({ action: 'team.create' }), [first.id]);
      assert.deepEqual(await ids({ target_type: 'team', target_id: 'team_1' }), [second.id, first.id]);
      assert.deepEqual(await ids({ since: '2030-01-02T00:00:00Z' }), [third.id, second.id]);
      assert.deepEqual(await ids({ until: '2030-01-02T00:00:00Z' }), [first.id]);
      assert.deepEqual(await ids({ since: '2030-01-01T12:00:00+00:00', until: '2030-01-02T12:00:00Z' }), [second.id]);
      assert.deepEqual((await t.audit.list({ target_id: 'team_1' })).items[0], second);
      await assert.rejects(t.audit.list({ since: 'yesterday' }), RangeError);
    });

    test('platform audit: records outside any organization, and every organization for the master key', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const inA = await a.audit.record({ actor: 'master', action: 'org.update', target_type: 'organization', target_id: a.orgId });
      const inB = await store.audit.record({ org_id: b.orgId, actor: 'master', action: 'org.create', target_type: 'organization', target_id: b.orgId });
      const platform = await store.audit.record({ actor: 'master', action: 'config.reload', target_type: 'config' });
      assert.equal(platform.org_id, null);
      assert.deepEqual((await store.audit.list({ org_id: b.orgId })).items, [inB]);
      assert.ok((await store.audit.list({ org_id: null })).items.some((r) => r.id === platform.id));
      const all = (await store.audit.list({ limit: 1000 })).items.map((r) => r.id);
      assert.ok([inA.id, inB.id, platform.id].every((id) => all.includes(id)));
      assert.deepEqual((await b.audit.list()).items, [inB]);
    });

    test('pagination: pages follow one stable order with no gaps or repeats, and end with a null cursor', async () => {
      const t = await newOrg();
      frozen = Date.parse('2030-01-01T00:00:00.000Z');
      const created = [];
      for (let i = 0; i < 5; i++) created.push((await t.teams.create({ name: `team-${i}` })).id);
      frozen = undefined;
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.teams.list({ limit: 2, cursor });
        seen.push(...page.items.map((team) => team.id));
        cursor = page.next_cursor ?? undefined;
        pages++;
      } while (cursor);
      assert.deepEqual(seen, created, 'creation order, even within one millisecond');
      assert.equal(pages, 3);
      const exact = await t.teams.list({ limit: 5 });
      assert.equal(exact.next_cursor, null);

      for (let i = 0; i < 3; i++) await t.audit.record({ actor: 'a', action: `x.${i}`, target_type: 'x' });
      const newest = await t.audit.list({ limit: 2 });
      assert.deepEqual(newest.items.map((r) => r.action), ['x.2', 'x.1']);
      assert.deepEqual((await t.audit.list({ limit: 2, cursor: newest.next_cursor! })).items.map((r) => r.action), ['x.0']);
      await assert.rejects(t.teams.list({ limit: 0 }), RangeError);
      await assert.rejects(t.teams.list({ limit: 1001 }), RangeError);
    });

    test('tenant isolation: organization B cannot read, change or delete organization A\'s rows through any method', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const team = await a.teams.create({ name: 'eng' });
      const user = await a.users.create({ email: 'iso@x.io', role: 'owner' });
      const membership = await a.memberships.create({ team_id: team.id, user_id: user.id, role: 'member' });
      const key = await a.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', team_id: team.id, created_by: 'master' });
      const cred = await a.credentials.create({ provider: 'openai', name: 'c', ciphertext: 'v1:secret', created_by: 'master' });
      const policy = await a.policies.create({ name: 'p', allowed_models: ['*'], created_by: 'master' });
      const record = await a.audit.record({ actor: 'master', action: 'x', target_type: 'team', target_id: team.id });

      // Reads.
      assert.equal(await b.teams.get(team.id), undefined);
      assert.equal(await b.users.get(user.id), undefined);
      assert.equal(await b.users.getByEmail('iso@x.io'), undefined);
      assert.equal(await b.memberships.get(membership.id), undefined);
      assert.equal(await b.memberships.find(team.id, user.id), undefined);
      assert.equal(await b.keys.get(key.id), undefined);
      assert.equal(await b.credentials.get(cred.id), undefined);
      assert.equal(await b.credentials.getCiphertext(cred.id), undefined);
      assert.equal(await b.policies.get(policy.id), undefined);
      for (const page of [
        await b.teams.list(),
        await b.users.list(),
        await b.users.list({ team_id: team.id }),
        await b.memberships.list({ team_id: team.id }),
        await b.keys.list({ team_id: team.id }),
        await b.credentials.list(),
        await b.policies.list(),
        await b.audit.list({ target_id: team.id }),
      ]) {
        assert.deepEqual(page.items, []);
      }
      assert.ok((await a.audit.list()).items.some((r) => r.id === record.id));

      // Writes.
      assert.equal(await b.teams.update(team.id, { name: 'stolen' }), undefined);
      assert.equal(await b.users.update(user.id, { role: 'viewer' }), undefined);
      assert.equal(await b.memberships.update(membership.id, { role: 'team_admin' }), undefined);
      assert.equal(await b.keys.update(key.id, { enabled: false }), undefined);
      assert.equal(await b.keys.revoke(key.id), undefined);
      assert.equal(await b.keys.rotate(key.id, { key_hash: unique('h'), key_prefix: 'x' }), undefined);
      assert.equal(await b.credentials.update(cred.id, { ciphertext: 'v1:mine' }), undefined);
      assert.equal(await b.policies.update(policy.id, { allowed_models: [] }), undefined);

      // Deletes.
      assert.equal(await b.memberships.delete(membership.id), false);
      assert.equal(await b.keys.delete(key.id), false);
      assert.equal(await b.credentials.delete(cred.id), false);
      assert.equal(await b.policies.delete(policy.id), false);
      assert.equal(await b.teams.delete(team.id), false);
      assert.equal(await b.users.delete(user.id), false);

      // And A's rows are as they were.
      assert.deepEqual(await a.teams.get(team.id), team);
      assert.deepEqual(await a.users.get(user.id), user);
      assert.deepEqual(await a.memberships.get(membership.id), membership);
      assert.deepEqual(await a.keys.get(key.id), key);
      assert.deepEqual(await a.credentials.get(cred.id), cred);
      assert.equal(await a.credentials.getCiphertext(cred.id), 'v1:secret');
      assert.deepEqual(await a.policies.get(policy.id), policy);

      // Nor can B point its own rows at A's.
      await rejectsWith(b.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'x', team_id: team.id, created_by: 'm' }), 'invalid_reference');
      await rejectsWith(b.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'x', user_id: user.id, created_by: 'm' }), 'invalid_reference');
      const bKey = await b.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'x', created_by: 'm' });
      await rejectsWith(b.keys.update(bKey.id, { team_id: team.id }), 'invalid_reference');

      // A scope for an organization that does not exist holds nothing and accepts nothing.
      const ghost = store.tenant('org_does_not_exist');
      assert.deepEqual((await ghost.keys.list()).items, []);
      await rejectsWith(ghost.teams.create({ name: 'x' }), 'invalid_reference');
    });

    test('transactions: a mutation and its audit record land together, or neither does', async () => {
      const t = await newOrg();
      const team = await store.transaction(async (tx) => {
        const created = await tx.tenant(t.orgId).teams.create({ name: 'committed' });
        await tx.tenant(t.orgId).audit.record({ actor: 'master', action: 'team.create', target_type: 'team', target_id: created.id, after: created });
        return created;
      });
      assert.deepEqual(await t.teams.get(team.id), team);
      assert.equal((await t.audit.list({ target_id: team.id })).items.length, 1);

      let rolledBack = '';
      await assert.rejects(
        store.transaction(async (tx) => {
          const created = await tx.tenant(t.orgId).teams.create({ name: 'rolled-back' });
          rolledBack = created.id;
          // A nested call joins the outer transaction, so its write is undone too.
          await tx.transaction((inner) => inner.tenant(t.orgId).audit.record({ actor: 'master', action: 'team.create', target_type: 'team', target_id: created.id }));
          await tx.tenant(t.orgId).teams.create({ name: 'committed' });
        }),
        (err: unknown) => err instanceof StoreError && err.code === 'conflict',
      );
      assert.equal(await t.teams.get(rolledBack), undefined);
      assert.deepEqual((await t.audit.list({ target_id: rolledBack })).items, []);
      assert.deepEqual((await t.teams.list({ name: 'rolled-back' })).items, []);
    });

    test('rate limits: one per subject of each scope, values parsed back, update replaces them, delete', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const user = await t.users.create({ email: 'l@x.io', role: 'member' });
      const key = await t.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', created_by: 'master' });
      const values = { requests_per_minute: 60, tokens_per_day: 100_000, on_limit: 'queue' as const, queue_ms: 2000 };
      const org = await t.rateLimits.create({ scope: 'org', subject_id: t.orgId, limits: values, created_by: 'master' });
      assert.match(org.id, /^lim_[0-9a-z]{26}$/);
      assert.deepEqual(
        { ...org, id: undefined, created_at: undefined, updated_at: undefined },
        { id: undefined, org_id: t.orgId, scope: 'org', subject_id: t.orgId, limits: values, created_by: 'master', created_at: undefined, updated_at: undefined },
      );
      assert.deepEqual(await t.rateLimits.get(org.id), org);
      for (const [scope, subject_id] of [['team', team.id], ['user', user.id], ['key', key.id]] as const) {
        const limit = await t.rateLimits.create({ scope, subject_id, limits: { max_concurrent: 2, on_limit: 'reject' }, created_by: 'master' });
        assert.deepEqual([limit.scope, limit.subject_id], [scope, subject_id]);
        await rejectsWith(t.rateLimits.create({ scope, subject_id, limits: { max_concurrent: 3, on_limit: 'reject' }, created_by: 'master' }), 'conflict');
      }
      assert.equal((await t.rateLimits.list()).items.length, 4);
      assert.deepEqual((await t.rateLimits.list({ scope: 'team' })).items.map((l) => l.subject_id), [team.id]);
      assert.deepEqual((await t.rateLimits.list({ subject_id: key.id })).items.map((l) => l.scope), ['key']);
      const updated = await t.rateLimits.update(org.id, { limits: { requests_per_second: 5, on_limit: 'reject' } });
      assert.deepEqual(updated?.limits, { requests_per_second: 5, on_limit: 'reject' });
      assert.equal(updated?.subject_id, t.orgId);
      assert.equal(await t.rateLimits.update('lim_missing', { limits: values }), undefined);
      assert.equal(await t.rateLimits.delete(org.id), true);
      assert.equal(await t.rateLimits.get(org.id), undefined);
      assert.equal(await t.rateLimits.delete(org.id), false);
    });

    test('budgets: several per subject, every field parsed back (amounts as numbers), patched, thresholds null for the default', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const daily = await t.budgets.create({ scope: 'team', subject_id: team.id, amount_usd: 12.5, period: 'daily', window: 'calendar', enforcement: 'hard', created_by: 'master' });
      assert.match(daily.id, /^bud_[0-9a-z]{26}$/);
      assert.deepEqual([daily.amount_usd, daily.alert_thresholds, daily.webhook_url, daily.webhook_format], [12.5, null, null, 'json']);
      const monthly = await t.budgets.create({
        scope: 'team',
        subject_id: team.id,
        amount_usd: 300,
        period: 'monthly',
        window: 'rolling',
        enforcement: 'soft',
        alert_thresholds: [50, 90, 120],
        webhook_url: 'https://hooks.example.test/services/T/B/secret',
        webhook_format: 'slack',
        created_by: 'usr_1',
      });
      assert.deepEqual(await t.budgets.get(monthly.id), monthly);
      assert.deepEqual(
        [monthly.scope, monthly.subject_id, monthly.amount_usd, monthly.period, monthly.window, monthly.enforcement, monthly.alert_thresholds, monthly.webhook_url, monthly.webhook_format, monthly.created_by],
        ['team', team.id, 300, 'monthly', 'rolling', 'soft', [50, 90, 120], 'https://hooks.example.test/services/T/B/secret', 'slack', 'usr_1'],
      );
      assert.deepEqual((await t.budgets.list({ subject_id: team.id })).items.map((b) => b.id), [daily.id, monthly.id]);
      const patched = await t.budgets.update(monthly.id, { amount_usd: 0.75, alert_thresholds: null, webhook_url: null, enforcement: 'hard' });
      assert.deepEqual([patched?.amount_usd, patched?.alert_thresholds, patched?.webhook_url, patched?.enforcement, patched?.period], [0.75, null, null, 'hard', 'monthly']);
      assert.equal(await t.budgets.update('bud_missing', { amount_usd: 1 }), undefined);
      assert.equal(await t.budgets.delete(daily.id), true);
      assert.deepEqual((await t.budgets.list()).items.map((b) => b.id), [monthly.id]);
    });

    test('rate limits and budgets: the subject must be of this organization and of the kind scope says; org scope binds the organization itself', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const team = await a.teams.create({ name: 'eng' });
      const user = await a.users.create({ email: 's@x.io', role: 'member' });
      const key = await a.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', created_by: 'master' });
      const limits = { requests_per_minute: 1, on_limit: 'reject' as const };
      const budget = { amount_usd: 1, period: 'daily' as const, window: 'calendar' as const, enforcement: 'hard' as const, created_by: 'master' };
      for (const [scope, subject_id] of [['team', team.id], ['user', user.id], ['key', key.id], ['org', a.orgId]] as const) {
        await rejectsWith(b.rateLimits.create({ scope, subject_id, limits, created_by: 'master' }), 'invalid_reference');
        await rejectsWith(b.budgets.create({ scope, subject_id, ...budget }), 'invalid_reference');
      }
      // A real subject named under the wrong scope is no subject of that kind.
      await rejectsWith(a.rateLimits.create({ scope: 'user', subject_id: team.id, limits, created_by: 'master' }), 'invalid_reference');
      await rejectsWith(a.budgets.create({ scope: 'key', subject_id: user.id, ...budget }), 'invalid_reference');
      await rejectsWith(a.budgets.create({ scope: 'team', subject_id: 'team_missing', ...budget }), 'invalid_reference');
      assert.deepEqual((await b.rateLimits.list()).items, []);
      assert.deepEqual((await b.budgets.list()).items, []);
    });

    test('rate limits and budgets: forKey gives the key\'s own, its team\'s, its user\'s and the organization\'s, nothing else', async () => {
      const t = await newOrg();
      const other = await newOrg();
      const [red, blue] = [await t.teams.create({ name: 'red' }), await t.teams.create({ name: 'blue' })];
      const [ann, bob] = [await t.users.create({ email: 'ann@x.io', role: 'member' }), await t.users.create({ email: 'bob@x.io', role: 'member' })];
      const key = await t.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', team_id: red.id, user_id: ann.id, created_by: 'master' });
      const sibling = await t.keys.create({ name: 'k2', key_hash: unique('h'), key_prefix: 'sk-sb-2', team_id: red.id, created_by: 'master' });
      const limits = { requests_per_minute: 1, on_limit: 'reject' as const };
      const budget = { amount_usd: 1, period: 'daily' as const, window: 'calendar' as const, enforcement: 'hard' as const, created_by: 'master' };
      const subjects = [['org', t.orgId], ['team', red.id], ['user', ann.id], ['key', key.id]] as const;
      const bound = new Set<string>();
      for (const [scope, subject_id] of subjects) {
        bound.add((await t.rateLimits.create({ scope, subject_id, limits, created_by: 'master' })).id);
        bound.add((await t.budgets.create({ scope, subject_id, ...budget })).id);
      }
      for (const [scope, subject_id] of [['team', blue.id], ['user', bob.id], ['key', sibling.id]] as const) {
        await t.rateLimits.create({ scope, subject_id, limits, created_by: 'master' });
        await t.budgets.create({ scope, subject_id, ...budget });
      }
      await other.rateLimits.create({ scope: 'org', subject_id: other.orgId, limits, created_by: 'master' });
      const found = [...(await t.rateLimits.forKey(key)), ...(await t.budgets.forKey(key))];
      assert.deepEqual(new Set(found.map((r) => r.id)), bound);
      assert.deepEqual((await t.rateLimits.forKey(key)).map((l) => l.scope), ['org', 'team', 'user', 'key']);
      const bare = await t.keys.create({ name: 'bare', key_hash: unique('h'), key_prefix: 'sk-sb-3', created_by: 'master' });
      assert.deepEqual((await t.budgets.forKey(bare)).map((b) => b.scope), ['org']);
    });

    test('rate limits and budgets: visible_to narrows to the teams given, the user\'s own, and keys of either', async () => {
      const t = await newOrg();
      const [red, blue] = [await t.teams.create({ name: 'red' }), await t.teams.create({ name: 'blue' })];
      const [ann, bob] = [await t.users.create({ email: 'ann@x.io', role: 'member' }), await t.users.create({ email: 'bob@x.io', role: 'member' })];
      const redKey = await t.keys.create({ name: 'r', key_hash: unique('h'), key_prefix: 'sk-sb-1', team_id: red.id, created_by: 'master' });
      const annKey = await t.keys.create({ name: 'a', key_hash: unique('h'), key_prefix: 'sk-sb-2', user_id: ann.id, created_by: 'master' });
      const blueKey = await t.keys.create({ name: 'b', key_hash: unique('h'), key_prefix: 'sk-sb-3', team_id: blue.id, user_id: bob.id, created_by: 'master' });
      const limits = { requests_per_minute: 1, on_limit: 'reject' as const };
      const ids: Record<string, string> = {};
      for (const [name, scope, subject_id] of [
        ['org', 'org', t.orgId],
        ['red', 'team', red.id],
        ['blue', 'team', blue.id],
        ['ann', 'user', ann.id],
        ['bob', 'user', bob.id],
        ['redKey', 'key', redKey.id],
        ['annKey', 'key', annKey.id],
        ['blueKey', 'key', blueKey.id],
      ] as const) {
        ids[name] = (await t.rateLimits.create({ scope, subject_id, limits, created_by: 'master' })).id;
        await t.budgets.create({ scope, subject_id, amount_usd: 1, period: 'total', window: 'calendar', enforcement: 'soft', created_by: name });
      }
      const names = (items: { id: string }[]) => items.map((i) => Object.keys(ids).find((n) => ids[n] === i.id)).sort();
      assert.deepEqual(names((await t.rateLimits.list({ visible_to: { team_ids: [red.id], user_id: ann.id } })).items), ['ann', 'annKey', 'red', 'redKey']);
      assert.deepEqual(names((await t.rateLimits.list({ visible_to: { team_ids: [], user_id: bob.id } })).items), ['blueKey', 'bob']);
      assert.deepEqual(names((await t.rateLimits.list({ scope: 'key', visible_to: { team_ids: [red.id, blue.id], user_id: null } })).items), ['blueKey', 'redKey']);
      assert.deepEqual((await t.rateLimits.list({ visible_to: { team_ids: [], user_id: null } })).items, []);
      const budgets = await t.budgets.list({ visible_to: { team_ids: [blue.id], user_id: null } });
      assert.deepEqual(budgets.items.map((b) => b.created_by).sort(), ['blue', 'blueKey']);
    });

    test('deleting a key, team, user or organization deletes its rate limits and budgets', async () => {
      const t = await newOrg();
      const team = await t.teams.create({ name: 'eng' });
      const user = await t.users.create({ email: 'd@x.io', role: 'member' });
      const key = await t.keys.create({ name: 'k', key_hash: unique('h'), key_prefix: 'sk-sb-1', created_by: 'master' });
      const limits = { requests_per_minute: 1, on_limit: 'reject' as const };
      for (const [scope, subject_id] of [['org', t.orgId], ['team', team.id], ['user', user.id], ['key', key.id]] as const) {
        await t.rateLimits.create({ scope, subject_id, limits, created_by: 'master' });
        await t.budgets.create({ scope, subject_id, amount_usd: 5, period: 'weekly', window: 'calendar', enforcement: 'hard', created_by: 'master' });
      }
      const scopes = async () => [(await t.rateLimits.list()).items.map((l) => l.scope), (await t.budgets.list()).items.map((b) => b.scope)];
      assert.equal(await t.keys.delete(key.id), true);
      assert.deepEqual(await scopes(), [['org', 'team', 'user'], ['org', 'team', 'user']]);
      assert.equal(await t.teams.delete(team.id), true, 'limits and budgets do not block their team\'s deletion');
      assert.equal(await t.users.delete(user.id), true);
      assert.deepEqual(await scopes(), [['org'], ['org']]);
      assert.equal(await store.organizations.delete(t.orgId), true);
      assert.deepEqual(await scopes(), [[], []]);
    });

    test('tenant isolation: rate limits and budgets of organization A are out of reach through organization B', async () => {
      const a = await newOrg();
      const b = await newOrg();
      const limit = await a.rateLimits.create({ scope: 'org', subject_id: a.orgId, limits: { max_concurrent: 1, on_limit: 'reject' }, created_by: 'master' });
      const budget = await a.budgets.create({ scope: 'org', subject_id: a.orgId, amount_usd: 1, period: 'daily', window: 'calendar', enforcement: 'hard', created_by: 'master' });
      assert.equal(await b.rateLimits.get(limit.id), undefined);
      assert.equal(await b.budgets.get(budget.id), undefined);
      assert.equal(await b.rateLimits.update(limit.id, { limits: { max_concurrent: 9, on_limit: 'reject' } }), undefined);
      assert.equal(await b.budgets.update(budget.id, { amount_usd: 9 }), undefined);
      assert.equal(await b.rateLimits.delete(limit.id), false);
      assert.equal(await b.budgets.delete(budget.id), false);
      assert.deepEqual(await b.rateLimits.forKey({ id: 'key_x', team_id: null, user_id: null }), []);
      assert.deepEqual(await a.rateLimits.get(limit.id), limit);
      assert.deepEqual(await a.budgets.get(budget.id), budget);
    });
    test('usage records: insertMany is idempotent by request_id (across and within batches) and stores every field', async () => {
      const key = unique('key');
      const [a, b, c] = [
        usageRecordFixture({ key_id: key, org_id: 'org_x', team_id: 'team_x', user_id: 'usr_x', time: '2030-01-01T10:00:00.123+02:00', ttft_ms: 4.25, cost_usd: 0.0000123456789, cached_tokens: 3, cache_write_tokens: 4, reasoning_tokens: 5, priced: false, cache_hit: true, estimated: true, surface: 'anthropic', attempts: 2, status: 429 }),
        usageRecordFixture({ key_id: key }),
        usageRecordFixture({ key_id: key }),
      ];
      assert.equal(await store.usage.insertMany([a!, b!]), 2);
      assert.equal(await store.usage.insertMany([a!, b!, c!, c!]), 1, 'only c is new, however often it appears');
      assert.equal(await store.usage.insertMany([]), 0);
      const rows = await database.db.selectFrom('usage_records').selectAll().where('key_id', '=', key).execute();
      assert.equal(rows.length, 3);
      const row = rows.find((r) => r.request_id === a!.request_id)!;
      assert.equal(readTime(row.time), '2030-01-01T08:00:00.123Z');
      assert.deepEqual(
        [row.org_id, row.team_id, row.user_id, row.surface, row.attempts, row.status, Number(row.cached_tokens), Number(row.cache_write_tokens), Number(row.reasoning_tokens)],
        ['org_x', 'team_x', 'usr_x', 'anthropic', 2, 429, 3, 4, 5],
      );
      assert.deepEqual([row.cost_usd, Number(row.cost_nano_usd), row.ttft_ms], [0.0000123456789, 12346, 4.25]);
      assert.deepEqual([readBool(row.priced), readBool(row.cache_hit), readBool(row.estimated)], [false, true, true]);
    });

    test('usage totals: cost in nano-USD and tokens from a time on, filtered by any column, per bucket or as one', async () => {
      const model = unique('model');
      const at = (iso: string, extra: object = {}) => usageRecordFixture({ model, time: iso, input_tokens: 100, output_tokens: 10, cost_usd: 0.25, ...extra });
      await store.usage.insertMany([
        at('2030-03-01T09:59:59.999Z'),
        at('2030-03-01T10:00:00.000Z'),
        at('2030-03-01T10:59:59.999Z', { key_id: 'key_t', cost_usd: 0.000000001 }),
        at('2030-03-01T11:00:00.000Z', { provider: 'other', provider_model: 'm2', org_id: 'org_t', team_id: 'team_t', user_id: 'usr_t' }),
        at('2030-03-01T13:30:00.000Z', { cost_usd: 0.0000000004 }),
      ]);
      const hour = 3_600_000;
      const from = Date.parse('2030-03-01T10:00:00.000Z');
      const buckets = await store.usage.totals({ model }, from, hour);
      assert.deepEqual(
        [...buckets].sort(([x], [y]) => x - y),
        [
          [from, { cost_nano_usd: 250_000_001, tokens: 220 }],
          [from + hour, { cost_nano_usd: 250_000_000, tokens: 110 }],
          [from + 3 * hour, { cost_nano_usd: 0, tokens: 110 }],
        ],
      );
      assert.deepEqual([...(await store.usage.totals({ model }, from))], [[from, { cost_nano_usd: 500_000_001, tokens: 440 }]]);
      assert.deepEqual([...(await store.usage.totals({ model }, from - 1))], [[from - 1, { cost_nano_usd: 750_000_001, tokens: 550 }]]);
      for (const filter of [{ provider: 'other' }, { provider_model: 'm2' }, { org_id: 'org_t' }, { team_id: 'team_t' }, { user_id: 'usr_t' }]) {
        assert.deepEqual([...(await store.usage.totals({ model, ...filter }, from, hour))], [[from + hour, { cost_nano_usd: 250_000_000, tokens: 110 }]], JSON.stringify(filter));
      }
      assert.deepEqual([...(await store.usage.totals({ model, key_id: 'key_t' }, from))], [[from, { cost_nano_usd: 1, tokens: 110 }]]);
      assert.deepEqual([...(await store.usage.totals({ model: unique('none') }, from, hour))], [], 'no records: no buckets');
      assert.deepEqual([...(await store.usage.totals({ model: unique('none') }, from))], [[from, { cost_nano_usd: 0, tokens: 0 }]]);
      // A day bucket is aligned to the epoch, as the limiter's windows are.
      assert.deepEqual([...(await store.usage.totals({ model }, from, 24 * hour)).keys()], [Date.parse('2030-03-01T00:00:00Z')]);
      await assert.rejects(store.usage.totals({}, from, 0), RangeError);
    });

    test('usage summary: totals and errors over [from, to), grouped by key, team, user, model, provider or UTC day', async () => {
      const t = await newOrg();
      const other = await newOrg();
      const rec = (time: string, extra: object) =>
        usageRecordFixture({ org_id: t.orgId, time, input_tokens: 10, output_tokens: 2, cached_tokens: 1, reasoning_tokens: 1, cost_usd: 0.1, ...extra });
      await store.usage.insertMany([
        rec('2030-05-01T00:00:00.000Z', { key_id: 'key_a', team_id: 'team_red', user_id: 'usr_ann', model: 'smart' }),
        rec('2030-05-01T23:59:59.999Z', { key_id: 'key_a', team_id: 'team_red', user_id: 'usr_ann', model: 'fast', status: 500 }),
        rec('2030-05-02T03:00:00.000+05:00', { key_id: 'key_b', team_id: 'team_blue', model: 'smart', provider: 'anthropic', priced: false, cost_usd: 0 }),
        rec('2030-05-03T00:00:00.000Z', { key_id: 'key_c', user_id: 'usr_bob', model: 'smart', status: 429 }),
        rec('2030-04-30T23:59:59.999Z', { key_id: 'key_a', team_id: 'team_red' }),
        rec('2030-05-04T00:00:00.000Z', { key_id: 'key_a', team_id: 'team_red' }),
        usageRecordFixture({ org_id: other.orgId, time: '2030-05-02T00:00:00.000Z', key_id: 'key_a', team_id: 'team_red' }),
      ]);
      const range = { from: '2030-05-01T00:00:00Z', to: '2030-05-04T00:00:00Z' };
      const sums = (requests: number, errors: number, extra: object = {}) => ({
        requests,
        errors,
        input_tokens: 10 * requests,
        output_tokens: 2 * requests,
        cached_tokens: requests,
        cache_write_tokens: 0,
        reasoning_tokens: requests,
        cost_usd: 0.1 * requests,
        unpriced_requests: 0,
        ...extra,
      });
      const whole = await t.usage.summary(range);
      assert.deepEqual(whole, { total: sums(4, 2, { cost_usd: 0.3, unpriced_requests: 1 }), groups: [] });

      const by = async (group_by: 'key' | 'team' | 'user' | 'model' | 'provider' | 'day', filters: object = {}) =>
        (await t.usage.summary({ ...range, group_by, ...filters })).groups.map((g) => [g.group, g.requests, g.errors]);
      assert.deepEqual(await by('key'), [['key_a', 2, 1], ['key_b', 1, 0], ['key_c', 1, 1]]);
      assert.deepEqual(await by('team'), [['team_blue', 1, 0], ['team_red', 2, 1], [null, 1, 1]]);
      assert.deepEqual(await by('user'), [['usr_ann', 2, 1], ['usr_bob', 1, 1], [null, 1, 0]]);
      assert.deepEqual(await by('model'), [['fast', 1, 1], ['smart', 3, 1]]);
      assert.deepEqual(await by('provider'), [['anthropic', 1, 0], ['openai', 3, 2]]);
      assert.deepEqual(await by('day'), [['2030-05-01', 3, 1], ['2030-05-03', 1, 1]], '03:00+05:00 on the 2nd is 22:00Z on the 1st');
      assert.deepEqual(await by('day', { model: 'smart', team_id: 'team_red' }), [['2030-05-01', 1, 0]]);
      assert.deepEqual(await by('model', { key_id: 'key_a', user_id: 'usr_ann' }), [['fast', 1, 1], ['smart', 1, 0]]);
      const spend = await t.usage.summary({ ...range, group_by: 'key' });
      assert.deepEqual(spend.groups.map((g) => [g.group, g.cost_usd, g.unpriced_requests]), [['key_a', 0.2, 0], ['key_b', 0, 1], ['key_c', 0.1, 0]]);

      // Narrowed to what a team-scoped caller may see: its teams' records and its own.
      assert.deepEqual(await by('key', { visible: { team_ids: ['team_blue'], user_id: 'usr_bob' } }), [['key_b', 1, 0], ['key_c', 1, 1]]);
      assert.deepEqual(await by('key', { visible: { team_ids: ['team_red'], user_id: null } }), [['key_a', 2, 1]]);
      assert.deepEqual((await t.usage.summary({ ...range, visible: { team_ids: [], user_id: null } })).total.requests, 0);

      // Another organization's scope sees only its own record; one without records sees zeros.
      assert.deepEqual(await other.usage.summary({ ...range, group_by: 'team' }).then((s) => [s.total.requests, s.groups.map((g) => g.group)]), [1, ['team_red']]);
      assert.deepEqual(await store.tenant('org_nobody').usage.summary(range), { total: sums(0, 0, { cost_usd: 0 }), groups: [] });
    });

    test('shadow samples: both sides stored as written, listed newest first within [from, to) and per model, pruned by age', async () => {
      const model = unique('shadowed');
      const side = (over: object) => ({ target: 'openai/gpt-4o', status: 200, latency_ms: 123.45, input_tokens: 12, output_tokens: 7, cost_usd: 0.00042, output_chars: 30, output: 'Echo: hi', error: null, ...over });
      const sample = (id: string, time: string, over: object = {}) => ({
        id,
        model,
        time,
        request_id: `req-${id}`,
        exact_match: false,
        primary: side({}),
        shadow: side({ target: null, status: 502, error: 'unreachable', output: '', output_chars: 0, cost_usd: 0 }),
        ...over,
      });
      await store.shadow.insert(sample('shd_a', '2031-01-01T10:00:00.000Z', { exact_match: true }));
      await store.shadow.insert(sample('shd_b', '2031-01-01T11:00:00.000Z'));
      await store.shadow.insert(sample('shd_c', '2031-01-02T00:00:00.000Z'));
      await store.shadow.insert({ ...sample('shd_d', '2031-01-01T10:30:00.000Z'), model: `${model}-other` });

      const listed = await store.shadow.list(model, '2031-01-01T00:00:00.000Z', '2031-01-02T00:00:00.000Z', 10);
      assert.deepEqual(listed.map((r) => r.id), ['shd_b', 'shd_a']);
      assert.deepEqual(listed[1], sample('shd_a', '2031-01-01T10:00:00.000Z', { exact_match: true }));
      assert.deepEqual((await store.shadow.list(model, '2031-01-01T00:00:00.000Z', '2031-01-03T00:00:00.000Z', 2)).map((r) => r.id), ['shd_c', 'shd_b']);

      assert.equal(await store.shadow.prune('2031-01-01T10:45:00.000Z'), 2, 'both models\' old samples');
      assert.deepEqual((await store.shadow.list(model, '2030-01-01T00:00:00.000Z', '2032-01-01T00:00:00.000Z', 10)).map((r) => r.id), ['shd_c', 'shd_b']);
    });
  });
}
