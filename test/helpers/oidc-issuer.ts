// A stand-in identity provider: an RSA signing key, its JWKS and OpenID discovery document served from a local HTTP
// server, and a signer for tokens with any claims (and, to test refusals, a key the issuer does not publish).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface TokenOptions {
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
  /** Sign with a key the issuer does not publish. */
  unknownKey?: boolean;
}

export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  sign(claims: JWTPayload, options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

async function rsaKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown>; kid: string }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, kid };
}

export async function startIssuer(audience = 'switchboard-admin'): Promise<TestIssuer> {
  const published = await rsaKey('published-1');
  const unpublished = await rsaKey('unpublished-1');
  let fetches = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/jwks.json') {
      fetches++;
      return send({ keys: [published.jwk] });
    }
    if (req.url === '/.well-known/openid-configuration') return send({ issuer, jwks_uri: `${issuer}/jwks.json` });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    audience,
    jwksFetches: () => fetches,
    async sign(claims, options = {}) {
      const key = options.unknownKey ? unpublished : published;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt(now - 60)
        .setExpirationTime(now + (options.expiresIn ?? 600))
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
