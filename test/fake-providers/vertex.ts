// Google Vertex AI wire format under /vertex: Gemini models at .../publishers/google/models/{model}:generateContent,
// :streamGenerateContent and :predict (text embeddings), Claude models at .../publishers/anthropic/models/{model}:
// rawPredict and :streamRawPredict, all under /v1/projects/{project}/locations/{location}. Bodies are rendered by the
// gemini and anthropic fakes. Every model call needs a bearer token from the fake OAuth token endpoint that lives here
// as well, at /vertex/oauth/token, so a service-account key's `token_uri` can be `<fake>/vertex/oauth/token`.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { anthropic, messages } from './anthropic.ts';
import { gemini, generation } from './gemini.ts';
import type { Generation, JsonReply, Route, RouteInput, WireFormat } from './types.ts';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';
/** The audience Google's token endpoint requires in a service account's JWT grant. */
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_LIFETIME_S = 3599;

const PATH = /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/;

// Google-shaped errors (what Vertex itself answers); a Claude model's own refusals are rendered by the anthropic fake.
const error = gemini.error;

const UNAUTHENTICATED = error(
  401,
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
);

// Tokens are signed with a secret of this process, so only tokens this fake issued (and not yet expired) pass.
const SECRET = randomBytes(32);
const sign = (payload: string): string => createHmac('sha256', SECRET).update(payload).digest('base64url');

function issueToken(email: string): string {
  const payload = Buffer.from(JSON.stringify({ sub: email, exp: Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_S })).toString('base64url');
  return `ya29.fake-vertex.${payload}.${sign(payload)}`;
}

function validToken(token: string): boolean {
  const m = /^ya29\.fake-vertex\.([\w-]+)\.([\w-]+)$/.exec(token);
  if (!m) return false;
  const expected = Buffer.from(sign(m[1]!));
  const given = Buffer.from(m[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
  const claims = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { exp: number };
  return claims.exp * 1000 > Date.now();
}

function authorized(headers: RouteInput['headers']): boolean {
  const value = headers.authorization;
  const bearer = /^Bearer (.+)$/.exec(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''))?.[1];
  return bearer !== undefined && validToken(bearer);
}

function oauthError(error: string, description: string): JsonReply {
  return { kind: 'json', status: 400, body: { error, error_description: description } };
}

function jwtPart(part: string | undefined): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Google's OAuth token endpoint for the service-account JWT grant, with the checks it makes on the assertion's shape
 * and claims. The signature is not checked (the fake knows no public keys); tests that care verify it themselves from
 * the recorded request.
 */
function token(form: any): JsonReply {
  if (form?.grant_type !== JWT_BEARER) return oauthError('unsupported_grant_type', 'Invalid grant_type: ' + String(form?.grant_type ?? ''));
  const parts = typeof form.assertion === 'string' ? form.assertion.split('.') : [];
  const header = jwtPart(parts[0]);
  const claims = jwtPart(parts[1]);
  if (parts.length !== 3 || header?.alg !== 'RS256' || claims === undefined || parts[2] === '') return oauthError('invalid_grant', 'Invalid JWT Signature.');
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return oauthError('invalid_grant', 'Invalid JWT: Failed audience check.');
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= now || claims.iat > now + 300) {
    return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
  }
  if (typeof claims.iss !== 'string' || !claims.iss.includes('@')) return oauthError('invalid_grant', 'Invalid grant: account not found');
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(CLOUD_PLATFORM_SCOPE)) return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  return { kind: 'json', status: 200, body: { access_token: issueToken(claims.iss), expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer' } };
}

/** Claude's Messages body on Vertex: no `model` (the URL names it) and the API version in the body, not a header. */
function claude(model: string, action: string): Route {
  if (action !== 'rawPredict' && action !== 'streamRawPredict') return error(404, `Method not found: ${action}`);
  return (body: any): Generation | JsonReply => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return anthropic.error(400, 'Request body must be a JSON object');
    if (body.model !== undefined) return anthropic.error(400, 'model: Extra inputs are not permitted');
    if (body.anthropic_version !== VERTEX_ANTHROPIC_VERSION) return anthropic.error(400, `anthropic_version: Input should be '${VERTEX_ANTHROPIC_VERSION}'`);
    if ((body.stream === true) !== (action === 'streamRawPredict')) return anthropic.error(400, `stream must be ${action === 'streamRawPredict'} for ${action}`);
    return messages({ ...body, model });
  };
}

/** The text embeddings API: one instance per text, one prediction per instance. */
function predict(body: any): Generation | JsonReply {
  const instances: unknown = body?.instances;
  if (!Array.isArray(instances) || instances.length === 0 || !instances.every((i) => typeof i?.content === 'string')) {
    return error(400, 'Invalid JSON payload: instances[].content is required.');
  }
  const inputs = instances.map((i: { content: string }) => i.content);
  return {
    conversation: { chars: inputs.reduce((n, t) => n + t.length, 0), lastUserText: '', endsWithToolResult: false, embedInputs: inputs },
    render: (r) => ({
      kind: 'json',
      status: 200,
      body: {
        predictions: r.embeddings.map((values, i) => ({ embeddings: { values, statistics: { truncated: false, token_count: Math.max(1, Math.ceil(inputs[i]!.length / 4)) } } })),
        metadata: { billableCharacterCount: inputs.join('').replace(/\s/g, '').length },
      },
    }),
  };
}

function google(model: string, action: string, query: Record<string, string>): Route {
  if (action === 'generateContent' || action === 'streamGenerateContent') return generation(model, action, query);
  if (action === 'predict') return predict;
  return error(404, `Method not found: ${action}`);
}

function route({ method, path, query, headers }: RouteInput): Route {
  if (path === '/oauth/token') return method === 'POST' ? token : error(405, 'Method not allowed');
  const m = method === 'POST' ? PATH.exec(path) : null;
  if (m === null) return error(404, `The requested URL ${path} was not found on this server.`);
  if (!authorized(headers)) return UNAUTHENTICATED;
  const [, , , , publisher, model = '', action = ''] = m;
  return publisher === 'anthropic' ? claude(decodeURIComponent(model), action) : google(decodeURIComponent(model), action, query);
}

export const vertex: WireFormat = { name: 'vertex', prefix: '/vertex', route, error };
