// Admin sign-in through an identity provider: a bearer JWT signed by the issuer, checked against the keys it publishes
// (its JWKS, fetched once and cached by jose, refetched when a token names a key id not seen yet). What the token says
// about its holder (role, organization, teams, user) is read from configurable claims; turning that into an actor is
// the admin API's business (api/admin/auth.ts).

import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { request } from 'undici';
import type { OidcConfig } from '../config/schema.ts';

// Asymmetric algorithms only: an HMAC "key" from a public key set would let anyone who can read it sign tokens.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const CLOCK_TOLERANCE_S = 30;
const DISCOVERY_TIMEOUT_MS = 5000;

/** What a verified token says about its holder, as found in the configured claims. */
export interface OidcIdentity {
  subject: string;
  /** The role claim's values (one string, or each string of an array). */
  roles: string[];
  org: string | undefined;
  teams: string[];
  user: string | undefined;
}

/** A token that is not accepted (401), or an issuer whose keys cannot be had (503). Never contains the token. */
export class OidcError extends Error {
  constructor(
    readonly status: 401 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const firstString = (value: unknown): string | undefined => strings(value)[0];

function identityFrom(payload: JWTPayload, config: OidcConfig): OidcIdentity {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new OidcError(401, 'the token has no subject (sub)');
  return {
    subject: payload.sub,
    roles: strings(payload[config.role_claim]),
    org: firstString(payload[config.org_claim]),
    teams: config.team_claim ? strings(payload[config.team_claim]) : [],
    // An address the identity provider has not verified could be anyone's: it names no user.
    user: config.user_claim === 'email' && payload.email_verified === false ? undefined : firstString(payload[config.user_claim]),
  };
}

/** Why a token was refused, in words safe to return: jose's messages name claims and key ids, never the token. */
function refusal(err: unknown): OidcError {
  if (err instanceof OidcError) return err;
  if (err instanceof errors.JWTExpired) return new OidcError(401, 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) return new OidcError(401, `the token's ${err.claim} claim is not accepted (${err.message})`);
  if (err instanceof errors.JWKSNoMatchingKey) return new OidcError(401, 'the token is signed with a key the issuer does not publish');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new OidcError(401, 'the token signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed) return new OidcError(401, `the token's algorithm is not accepted; use one of ${ALGORITHMS.join(', ')}`);
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid || err instanceof errors.JOSENotSupported || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new OidcError(401, `the token is not acceptable: ${err.message}`);
  }
  // What is left is about reaching the issuer: a timeout, a refused connection, a key set that is not one.
  return new OidcError(503, `cannot get the identity provider's signing keys: ${err instanceof Error ? err.message : String(err)}`);
}

async function discoverJwksUrl(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await request(url, { headersTimeout: DISCOVERY_TIMEOUT_MS, bodyTimeout: DISCOVERY_TIMEOUT_MS });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`${url} answered ${res.statusCode}`);
  }
  const doc = (await res.body.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer) throw new Error(`${url} names issuer '${String(doc.issuer)}', not '${issuer}'`);
  if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) throw new Error(`${url} has no http(s) jwks_uri`);
  return new URL(doc.jwks_uri);
}

export class OidcVerifier {
  readonly #config: OidcConfig;
  #keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(config: OidcConfig) {
    this.#config = config;
  }

  async verify(token: string): Promise<OidcIdentity> {
    try {
      const keys = await this.#keySet();
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.#config.issuer,
        audience: this.#config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      });
      return identityFrom(payload, this.#config);
    } catch (err) {
      throw refusal(err);
    }
  }

  /** One key set for the verifier's life; a failed discovery is retried on the next token. */
  #keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!this.#keys) {
      const { jwks_url, issuer } = this.#config;
      this.#keys = (jwks_url ? Promise.resolve(new URL(jwks_url)) : discoverJwksUrl(issuer)).then((url) => createRemoteJWKSet(url));
      this.#keys.catch(() => (this.#keys = undefined));
    }
    return this.#keys;
  }
}
