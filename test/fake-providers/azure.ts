// Azure OpenAI wire format: the OpenAI one (rendered by openai.ts) at Azure's addresses, behind Azure's checks, with
// Azure's content-filter annotations. Deployments API: /azure/openai/deployments/{deployment}/chat/completions (and
// the other endpoints) with ?api-version=YYYY-MM-DD[-preview]; v1 API: /azure/openai/v1/... with the deployment as
// `model`. Auth is an `api-key` header or a bearer token from the fake Microsoft Entra ID token endpoint that lives
// here as well, at /azure/login/{tenant}/oauth2/v2.0/token, so a provider's `entra.authority_host` can be
// `<fake>/azure/login`. Streams are rendered as with Azure's asynchronous filter: a prompt annotation first, completion
// chunks as OpenAI sends them, and an annotation chunk after the finish, or carrying the finish when the scenario's
// finish is content_filter.

import { openai } from './openai.ts';
import type { Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

/** The only client secret the fake token endpoint accepts. */
export const FAKE_ENTRA_SECRET = 'fake-entra-secret';
const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
const TOKEN_LIFETIME_S = 3599;

function error(status: number, message: string, code: string = String(status)): JsonReply {
  return { kind: 'json', status, body: { error: { code, message } } };
}

const ACCESS_DENIED = error(
  401,
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
);

/** A token the fake issues and accepts: readable claims, no signature (nothing here needs one). */
export function fakeEntraToken(claims: { tid: string; appid: string; exp?: number }): string {
  const exp = claims.exp ?? Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_S;
  return `fake-entra.${Buffer.from(JSON.stringify({ ...claims, exp })).toString('base64url')}`;
}

function validToken(token: string): boolean {
  if (!token.startsWith('fake-entra.')) return false;
  try {
    const claims = JSON.parse(Buffer.from(token.slice('fake-entra.'.length), 'base64url').toString('utf8')) as { exp?: number };
    return typeof claims.exp === 'number' && claims.exp * 1000 > Date.now();
  } catch {
    return false;
  }
}

function header(headers: RouteInput['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function authorized(headers: RouteInput['headers']): boolean {
  if (header(headers, 'api-key')) return true;
  const bearer = /^Bearer (.+)$/.exec(header(headers, 'authorization') ?? '')?.[1];
  return bearer !== undefined && validToken(bearer);
}

function entraError(status: number, error: string, code: number, description: string): JsonReply {
  return {
    kind: 'json',
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2025-01-01 00:00:00Z`,
      error_codes: [code],
      timestamp: '2025-01-01 00:00:00Z',
    },
  };
}

/** The client-credentials grant of the Microsoft identity platform's v2.0 token endpoint. */
function token(tenant: string) {
  return (form: any): JsonReply => {
    if (form?.grant_type !== 'client_credentials') return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (typeof form.client_id !== 'string' || form.client_id === '') return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (form.client_secret !== FAKE_ENTRA_SECRET) {
      return entraError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    if (form.scope !== COGNITIVE_SERVICES_SCOPE) return entraError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid.`);
    return {
      kind: 'json',
      status: 200,
      body: { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, ext_expires_in: TOKEN_LIFETIME_S, access_token: fakeEntraToken({ tid: tenant, appid: form.client_id }) },
    };
  };
}

const SAFE = { filtered: false, severity: 'safe' };
const SAFE_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { ...SAFE_RESULTS, jailbreak: { filtered: false, detected: false } } }];

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
/** What Azure's asynchronous filter sends between completion chunks: no id, no delta, only the filter's results. */
const annotation = (finish: string | null, results: unknown) =>
  event({ id: '', object: '', created: 0, model: '', choices: [{ index: 0, finish_reason: finish, content_filter_results: results, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 40 } }], usage: null });

function azureStream(events: string[]): string[] {
  const out = [event({ id: '', object: '', created: 0, model: '', prompt_filter_results: PROMPT_FILTER_RESULTS, choices: [], usage: null })];
  for (const e of events) {
    const data = e.slice('data: '.length).trimEnd();
    const finish = data.startsWith('{') ? (JSON.parse(data) as { choices: { finish_reason: string | null }[] }).choices[0]?.finish_reason : undefined;
    if (finish === 'content_filter') {
      out.push(annotation('content_filter', { ...SAFE_RESULTS, violence: { filtered: true, severity: 'high' } }));
    } else {
      out.push(e);
      if (finish) out.push(annotation(null, SAFE_RESULTS));
    }
  }
  return out;
}

function decorate(reply: Reply): Reply {
  if (reply.kind === 'sse') return { kind: 'sse', events: azureStream(reply.events) };
  if (reply.kind !== 'json') return reply;
  const body = reply.body as { choices?: Record<string, unknown>[] };
  if (reply.status !== 200 || !Array.isArray(body.choices)) return reply;
  return {
    ...reply,
    body: {
      ...body,
      prompt_filter_results: PROMPT_FILTER_RESULTS,
      choices: body.choices.map((c) => ({ ...c, content_filter_results: c.finish_reason === 'content_filter' ? { violence: { filtered: true, severity: 'high' } } : SAFE_RESULTS })),
    },
  };
}

const DATED_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
/** The OpenAI endpoints Azure serves per deployment (it has no moderations). */
const OPERATIONS = '(/chat/completions|/embeddings|/completions|/images/generations|/audio/transcriptions|/audio/speech)';
const DEPLOYMENT_PATH = new RegExp(`^/openai/deployments/([^/]+)${OPERATIONS}$`);
const V1_PATH = new RegExp(`^/openai/v1${OPERATIONS}$`);

/** The OpenAI fake's model call at `openaiPath`, with the deployment as the model and Azure's annotations added. */
function modelCall(req: RouteInput, openaiPath: string, deployment: string | undefined): Route {
  if (!authorized(req.headers)) return ACCESS_DENIED;
  const route = openai.route({ ...req, path: openaiPath });
  if (typeof route !== 'function') return route;
  return (body: any): Generation | JsonReply => {
    // The deployments API takes the model from the path; `model` in the body, if any, is ignored.
    const call = route(deployment === undefined ? body : { ...body, model: deployment });
    if (!('render' in call)) return call;
    return { conversation: call.conversation, render: (r: Resolved) => decorate(call.render(r)) };
  };
}

function route(req: RouteInput): Route {
  const { method, path, query } = req;
  const login = /^\/login\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
  if (login && method === 'POST') return token(decodeURIComponent(login[1]!));

  const deployments = DEPLOYMENT_PATH.exec(path);
  if (deployments && method === 'POST') {
    // Azure answers a missing api-version with a bare 404, as if the path did not exist.
    if (query['api-version'] === undefined) return error(404, 'Resource not found');
    if (!DATED_VERSION.test(query['api-version'])) return error(400, 'API version not supported', 'BadRequest');
    return modelCall(req, deployments[2]!, decodeURIComponent(deployments[1]!));
  }
  const v1 = V1_PATH.exec(path);
  if (v1 && method === 'POST') {
    const version = query['api-version'];
    if (version !== undefined && version !== 'preview' && version !== 'latest') return error(400, 'API version not supported', 'BadRequest');
    return modelCall(req, v1[1]!, undefined);
  }
  return error(404, 'Resource not found');
}

export const azure: WireFormat = { name: 'azure', prefix: '/azure', route, error };
