// Microsoft Entra ID sign-in for Azure OpenAI (OAuth 2.0 client credentials): an app registration's id and secret are
// exchanged for an access token at {authority_host}/{tenant}/oauth2/v2.0/token, which then goes to Azure as a bearer
// token. Tokens live about an hour; each provider keeps one and fetches the next shortly before it expires.

import { request } from 'undici';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderConfig } from '../types.ts';
import type { EntraCredentials } from './options.ts';

export interface AccessToken {
  value: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type TokenFetcher = (credentials: EntraCredentials, provider: ProviderConfig) => Promise<AccessToken>;

/** Refresh this long before expiry (at most half the token's lifetime), so a token handed out is still valid on use. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** While an older token is still valid, a failed refresh is retried after this pause rather than on every call. */
const RETRY_AFTER_FAILURE_MS = 10_000;

/** One provider's token: fetched on first use, reused until its refresh time, one fetch at a time however many wait. */
export class TokenCache {
  private token: AccessToken | undefined;
  private refreshAt = 0;
  private pending: Promise<AccessToken> | undefined;

  constructor(
    private readonly fetch: () => Promise<AccessToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.now() < this.refreshAt) return this.token.value;
    try {
      return (await this.refresh()).value;
    } catch (err) {
      // A token due for refresh but not yet expired still works, so a token-service hiccup costs nothing yet.
      if (this.token && this.now() < this.token.expiresAt) return this.token.value;
      throw err;
    }
  }

  private refresh(): Promise<AccessToken> {
    this.pending ??= this.fetch().then(
      (token) => {
        const lifetime = token.expiresAt - this.now();
        this.token = token;
        this.refreshAt = token.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
        this.pending = undefined;
        return token;
      },
      (err: unknown) => {
        if (this.token) this.refreshAt = Math.min(this.now() + RETRY_AFTER_FAILURE_MS, this.token.expiresAt);
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }
}

function tokenUrl(credentials: EntraCredentials): string {
  const authority = credentials.authority_host.replace(/\/+$/, '');
  return `${authority}/${encodeURIComponent(credentials.tenant_id)}/oauth2/v2.0/token`;
}

/** The token endpoint's error: {"error":"invalid_client","error_description":"AADSTS7000215: ...\r\nTrace ID: ..."}. */
function entraReason(body: string, secret: string): string | undefined {
  let parsed: { error?: unknown; error_description?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed.error !== 'string') return undefined;
  // The first line says what is wrong; the rest is trace and correlation ids. The secret is never echoed, but a
  // message that quotes request fields must not become the way it leaks.
  const description = typeof parsed.error_description === 'string' ? parsed.error_description.split(/\r?\n/)[0]! : '';
  return (description ? `${parsed.error}: ${description}` : parsed.error).replaceAll(secret, '[redacted]');
}

function signInFailed(provider: string, status: number, code: string, detail: string): GatewayError {
  return new GatewayError(status, status === 401 ? 'authentication_error' : 'upstream_error', `${provider}: Microsoft Entra ID sign-in failed: ${detail}`, {
    code,
    provider,
  });
}

/** Fetches a token with undici's request (the token endpoint is not a provider, so it has no pool of its own). */
export const fetchEntraToken: TokenFetcher = async (credentials, provider) => {
  const url = tokenUrl(credentials);
  const host = new URL(url).host;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: credentials.client_id,
    client_secret: credentials.client_secret,
    scope: credentials.scope,
  });
  const sentAt = Date.now();
  let status: number;
  let body: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      headersTimeout: provider.timeouts.first_byte_ms,
      bodyTimeout: provider.timeouts.idle_ms,
    });
    status = res.statusCode;
    body = await res.body.text();
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw signInFailed(provider.name, 502, 'entra_unreachable', `could not reach ${host} (${code ?? (err as Error).message})`);
  }
  const reason = entraReason(body, credentials.client_secret);
  if (status === 400 || status === 401) {
    // Entra answers a wrong tenant, client id, secret or scope with 400/401: the provider's credentials are at fault.
    const detail = `${host} refused the client credentials (${reason ?? `HTTP ${status}`})`;
    throw signInFailed(provider.name, 401, 'entra_rejected', `${detail}; check entra.tenant_id, client_id, client_secret and scope`);
  }
  if (status !== 200) throw signInFailed(provider.name, 502, 'entra_unavailable', `${host} answered HTTP ${status}${reason ? ` (${reason})` : ''}`);
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    parsed = {};
  }
  const expiresIn = Number(parsed.expires_in);
  if (typeof parsed.access_token !== 'string' || !(expiresIn > 0)) {
    throw signInFailed(provider.name, 502, 'entra_unavailable', `${host} answered without an access_token and expires_in`);
  }
  return { value: parsed.access_token, expiresAt: sentAt + expiresIn * 1000 };
};
