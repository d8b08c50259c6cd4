// OAuth access tokens for Vertex AI from Google credentials: a service-account key (a file or its JSON text), or
// whatever Application Default Credentials find (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the metadata server).
// Each configured provider gets one GoogleAuth, made on its first call; the library then hands out the cached token and
// fetches a new one shortly before it expires, so a request normally costs no token round trip.

import { readFile } from 'node:fs/promises';
import { GoogleAuth, gaxios, type JWTInput } from 'google-auth-library';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderConfig } from '../types.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Where google-auth-library sends every service-account token exchange, whatever the key file says. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** The token exchange has no request deadline of its own; a token service this slow is treated as down. */
const TOKEN_TIMEOUT_MS = 10_000;

const MESSAGE_LIMIT = 300;

/** Keyed by the provider object, so a reloaded configuration starts with fresh credentials and the old ones are collected. */
const clients = new WeakMap<ProviderConfig, Promise<GoogleAuth>>();

/** A problem with the configured credentials described by this module, so its message is known to be safe to show. */
class CredentialsProblem extends Error {}

export async function accessToken(provider: ProviderConfig): Promise<string> {
  try {
    const auth = await client(provider);
    const token = await auth.getAccessToken();
    if (!token) throw new CredentialsProblem('the credentials produced no access token');
    return token;
  } catch (err) {
    throw tokenError(provider.name, err);
  }
}

function client(provider: ProviderConfig): Promise<GoogleAuth> {
  let auth = clients.get(provider);
  if (auth === undefined) {
    auth = createAuth(provider.options.credentials as string | undefined);
    clients.set(provider, auth);
    // A key file that could not be read may be fixed without a restart, so a failure is not kept.
    auth.catch(() => clients.delete(provider));
  }
  return auth;
}

async function createAuth(credentials: string | undefined): Promise<GoogleAuth> {
  const json = credentials === undefined ? undefined : await loadCredentials(credentials);
  const auth: GoogleAuth = new GoogleAuth({
    scopes: [CLOUD_PLATFORM_SCOPE],
    ...(json && { credentials: json }),
    // Application Default Credentials are only read on the first token request, hence the lookup at request time.
    clientOptions: { transporter: tokenTransport(() => tokenUri(json ?? auth.jsonContent)) },
  });
  return auth;
}

/** `credentials` is the key's JSON text when it starts like a JSON object, else the path of a key file. */
async function loadCredentials(credentials: string): Promise<JWTInput> {
  const inline = credentials.trimStart().startsWith('{');
  let text = credentials;
  if (!inline) {
    try {
      text = await readFile(credentials, 'utf8');
    } catch (err) {
      // The value is not repeated: what was meant as a path may be a key in another encoding, and errors reach clients.
      throw new CredentialsProblem(`credentials is neither a JSON key nor a readable key file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  const where = inline ? 'the credentials value' : 'the key file';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, which here is the private key: its message is not passed on.
    throw new CredentialsProblem(`${where} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialsProblem(`${where} is not a JSON object`);
  }
  return parsed as JWTInput;
}

function tokenUri(credentials: object | null): string | undefined {
  const uri = (credentials as { token_uri?: unknown } | null)?.token_uri;
  return typeof uri === 'string' && uri !== GOOGLE_TOKEN_URL ? uri : undefined;
}

/**
 * google-auth-library ignores a key's `token_uri` and always posts to oauth2.googleapis.com. Keys made for a private
 * or restricted endpoint name their token service there, and the tests point it at a local fake, so the exchange is
 * redirected to it.
 */
function tokenTransport(uri: () => string | undefined): gaxios.Gaxios {
  const transport = new gaxios.Gaxios({ timeout: TOKEN_TIMEOUT_MS });
  transport.interceptors.request.add({
    resolved: async (config) => {
      const target = uri();
      if (target !== undefined && config.url.href === GOOGLE_TOKEN_URL) config.url = new URL(target);
      return config;
    },
  });
  return transport;
}

/**
 * The client's error for a failed token request. A refusal by the token service means the provider's credentials are
 * wrong (401); an unreachable or failing token service is a bad gateway (502); anything else is credentials that could
 * not be loaded or used (500). All three let the request fall over to another target.
 */
function tokenError(provider: string, err: unknown): GatewayError {
  if (err instanceof gaxios.GaxiosError) {
    const status = err.response?.status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return new GatewayError(401, 'authentication_error', `${provider}: Google's token service refused the credentials (${safeMessage(err)})`, {
        code: 'provider_auth_failed',
        provider,
      });
    }
    const what = status === undefined ? 'could not be reached' : `answered HTTP ${status}`;
    return new GatewayError(502, 'upstream_error', `${provider}: Google's token service ${what} (${safeMessage(err)})`, {
      code: 'provider_auth_unavailable',
      provider,
    });
  }
  return new GatewayError(
    500,
    'api_error',
    `${provider}: the Google credentials cannot be used (${safeMessage(err)}). Set the provider's credentials to a service-account key file or its JSON, or GOOGLE_APPLICATION_CREDENTIALS.`,
    { code: 'provider_credentials_invalid', provider },
  );
}

/**
 * Library messages are shown because they say what is wrong ("invalid_grant: Invalid JWT Signature.", "Could not load
 * the default credentials"), but a message that quotes a key or a parser's view of one is cut down to its gist.
 */
function safeMessage(err: unknown): string {
  if (err instanceof CredentialsProblem) return err.message;
  if (err instanceof SyntaxError) return 'the credentials are not valid JSON';
  // OpenSSL's own words ("error:1E08010C:DECODER routines::unsupported") do not say which setting is wrong.
  if ((err as { code?: unknown } | null)?.code?.toString().startsWith('ERR_OSSL')) return 'private_key is not a usable PEM private key';
  const message = (err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
  const redacted = message.replace(/-----BEGIN[\s\S]*?(?:-----END[^-]*-----|$)/g, '[key redacted]');
  return redacted.length > MESSAGE_LIMIT ? `${redacted.slice(0, MESSAGE_LIMIT)}…` : redacted;
}
