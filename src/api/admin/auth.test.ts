import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startIssuer, type TestIssuer } from '../../../test/helpers/oidc-issuer.ts';
import { GatewayError } from '../../core/errors.ts';
import { openStore, type Store } from '../../store/store.ts';
import { adminAuthenticator } from './auth.ts';

const MASTER = 'admin-auth-master-key-0123';

let store: Store;
let idp: TestIssuer;
before(async () => {
  store = await openStore({ storage: { database: 'sqlite::memory:' } });
  idp = await startIssuer();
});
after(async () => {
  await store.close();
  await idp.close();
});

async function refused(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayError, String(err));
  return err;
}

const oidc = () => ({ issuer: idp.issuer, audience: idp.audience, jwks_url: idp.jwksUrl, role_claim: 'role', org_claim: 'org', team_claim: 'teams', user_claim: 'email' });

describe('admin authentication', () => {
  test('without a master key or admin.oidc the admin API is off, and says how to turn it on', async () => {
    const err = await refused(adminAuthenticator({ auth: {}, admin: {} }, store)(`Bearer ${MASTER}`));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'admin_auth_not_configured');
  });

  test('the master key (Bearer, any case) is the platform owner; anything else is a 401', async () => {
    const authenticate = adminAuthenticator({ auth: { master_key: MASTER }, admin: {} }, store);
    const actor = await authenticate(`bearer ${MASTER}`);
    assert.deepEqual([actor.id, actor.org_id, actor.role], ['master', null, 'owner']);
    for (const header of [undefined, MASTER, `Basic ${MASTER}`, `Bearer ${MASTER}x`, 'Bearer a.b.c']) {
      assert.equal((await refused(authenticate(header))).status, 401, String(header));
    }
  });

  test('a token acts in the organization its claim names, for the teams its team claim names in that organization only', async () => {
    const acme = await store.organizations.create({ name: 'acme' });
    const other = await store.organizations.create({ name: 'other' });
    const red = await store.tenant(acme.id).teams.create({ name: 'red' });
    const foreign = await store.tenant(other.id).teams.create({ name: 'foreign' });
    const authenticate = adminAuthenticator({ auth: {}, admin: { oidc: oidc() } }, store);
    const token = await idp.sign({ sub: 's1', org: 'acme', role: ['member', 'team_admin'], teams: ['red', foreign.id, 'nope'] });
    const actor = await authenticate(`Bearer ${token}`);
    assert.deepEqual([actor.id, actor.org_id, actor.role, actor.user_id], ['oidc:s1', acme.id, 'team_admin', null]);
    assert.deepEqual([...actor.teams], [[red.id, 'team_admin']]);
    const unknownOrg = await refused(authenticate(`Bearer ${await idp.sign({ sub: 's2', org: 'ghost', role: 'owner' })}`));
    assert.equal(unknownOrg.status, 403);
    const noRole = await refused(authenticate(`Bearer ${await idp.sign({ sub: 's3', org: acme.id, role: 'superuser' })}`));
    assert.equal(noRole.status, 403);
    assert.match(noRole.message, /names no role/);
  });
});
