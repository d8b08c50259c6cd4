import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startIssuer, type TestIssuer } from '../../test/helpers/oidc-issuer.ts';
import type { OidcConfig } from '../config/schema.ts';
import { OidcError, OidcVerifier } from './oidc.ts';

let idp: TestIssuer;
before(async () => {
  idp = await startIssuer();
});
after(() => idp.close());

const settings = (overrides: Partial<OidcConfig> = {}): OidcConfig => ({
  issuer: idp.issuer,
  audience: idp.audience,
  jwks_url: idp.jwksUrl,
  role_claim: 'switchboard_role',
  org_claim: 'switchboard_org',
  user_claim: 'email',
  ...overrides,
});

async function refusal(verifier: OidcVerifier, token: string): Promise<OidcError> {
  const err = await verifier.verify(token).then(
    () => assert.fail('the token was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OidcError, String(err));
  assert.ok(!err.message.includes(token), 'the token is never echoed');
  return err;
}

describe('OIDC token verification', () => {
  test('a valid token yields its subject and the configured claims', async () => {
    const verifier = new OidcVerifier(settings({ team_claim: 'groups' }));
    const token = await idp.sign({ sub: 'u-1', email: 'Ann@Example.com', switchboard_role: 'admin', switchboard_org: 'acme', groups: ['red', 'blue'] });
    assert.deepEqual(await verifier.verify(token), { subject: 'u-1', roles: ['admin'], org: 'acme', teams: ['red', 'blue'], user: 'Ann@Example.com' });
  });

  test('claims may be arrays or absent; the claim names are configurable', async () => {
    const verifier = new OidcVerifier(settings({ role_claim: 'https://sb/roles', org_claim: 'tenant', user_claim: 'preferred_username' }));
    const token = await idp.sign({ sub: 'u-2', 'https://sb/roles': ['viewer', 'admin', 7], tenant: ['org_1'], preferred_username: 'ann' });
    assert.deepEqual(await verifier.verify(token), { subject: 'u-2', roles: ['viewer', 'admin'], org: 'org_1', teams: [], user: 'ann' });
    const bare = await verifier.verify(await idp.sign({ sub: 'u-3' }));
    assert.deepEqual(bare, { subject: 'u-3', roles: [], org: undefined, teams: [], user: undefined });
  });

  test('an email the identity provider has not verified names no user', async () => {
    const verifier = new OidcVerifier(settings());
    const identity = await verifier.verify(await idp.sign({ sub: 'u-4', email: 'boss@example.com', email_verified: false }));
    assert.equal(identity.user, undefined);
  });

  test('wrong audience: 401 naming the aud claim', async () => {
    const err = await refusal(new OidcVerifier(settings()), await idp.sign({ sub: 'u' }, { audience: 'someone-else' }));
    assert.equal(err.status, 401);
    assert.match(err.message, /aud claim is not accepted/);
  });

  test('wrong issuer: 401 naming the iss claim', async () => {
    const err = await refusal(new OidcVerifier(settings()), await idp.sign({ sub: 'u' }, { issuer: 'https://evil.example' }));
    assert.equal(err.status, 401);
    assert.match(err.message, /iss claim is not accepted/);
  });

  test('expired: 401', async () => {
    const err = await refusal(new OidcVerifier(settings()), await idp.sign({ sub: 'u' }, { expiresIn: -3600 }));
    assert.equal(err.status, 401);
    assert.equal(err.message, 'the token has expired');
  });

  test('signed with a key the issuer does not publish (unknown kid): 401', async () => {
    const err = await refusal(new OidcVerifier(settings()), await idp.sign({ sub: 'u' }, { unknownKey: true }));
    assert.equal(err.status, 401);
    assert.match(err.message, /key the issuer does not publish/);
  });

  test('a tampered token: 401', async () => {
    const token = await idp.sign({ sub: 'u', switchboard_role: 'viewer' });
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'u', switchboard_role: 'owner', iss: idp.issuer, aud: idp.audience, exp: 9999999999 })).toString('base64url');
    const err = await refusal(new OidcVerifier(settings()), `${header}.${forged}.${signature}`);
    assert.equal(err.status, 401);
  });

  test('a token without a subject: 401', async () => {
    const err = await refusal(new OidcVerifier(settings()), await idp.sign({ email: 'a@b.c' }));
    assert.match(err.message, /no subject/);
  });

  test('the key set is fetched once and cached across tokens', async () => {
    const verifier = new OidcVerifier(settings());
    const before = idp.jwksFetches();
    for (let i = 0; i < 3; i++) await verifier.verify(await idp.sign({ sub: `u${i}` }));
    assert.equal(idp.jwksFetches() - before, 1);
  });

  test('without jwks_url, the key set is found through the issuer’s discovery document', async () => {
    const verifier = new OidcVerifier(settings({ jwks_url: undefined }));
    assert.equal((await verifier.verify(await idp.sign({ sub: 'd' }))).subject, 'd');
  });

  test('an issuer that cannot be reached: 503, and a later token tries again', async () => {
    const verifier = new OidcVerifier(settings({ jwks_url: undefined, issuer: 'http://127.0.0.1:1' }));
    const err = await refusal(verifier, await idp.sign({ sub: 'u' }, { issuer: 'http://127.0.0.1:1' }));
    assert.equal(err.status, 503);
    assert.match(err.message, /cannot get the identity provider's signing keys/);
    const again = await refusal(verifier, await idp.sign({ sub: 'u' }, { issuer: 'http://127.0.0.1:1' }));
    assert.equal(again.status, 503);
  });
});
