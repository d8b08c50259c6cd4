// Amazon Bedrock Runtime wire format: POST /model/{modelId}/converse as Converse JSON, and /converse-stream as the real
// binary AWS event stream (application/vnd.amazon.eventstream), encoded with the same codec AWS SDKs use. Requests must
// carry a Bedrock API key or a valid AWS SigV4 signature: the signature is recomputed here from the request as
// received (method, path, signed headers, body bytes) with node:crypto, independently of the signing library the
// gateway uses, so a gateway that signs the wrong bytes, host or scope fails here as it would at AWS.

import { createHash, createHmac } from 'node:crypto';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { nextId, pieces } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

const PREFIX = '/bedrock';

/** The credentials this fake knows, as a gateway would configure them; the temporary pair needs its session token. */
export const FAKE_AWS_CREDENTIALS = {
  longTerm: { access_key_id: 'AKIAFAKEBEDROCK00001', secret_access_key: 'fake-providers/long-term+secret/key00001' },
  temporary: { access_key_id: 'ASIAFAKEBEDROCK00002', secret_access_key: 'fake-providers/temporary+secret/key00002', session_token: 'fake-session-token-00002' },
} as const;

/** A Bedrock API key, sent as a bearer token instead of a signature. */
export const FAKE_BEDROCK_API_KEY = 'ABSKZmFrZS1wcm92aWRlcnMtYmVkcm9jay1rZXk=';

const SECRETS = new Map<string, { secret: string; sessionToken?: string }>(
  Object.values(FAKE_AWS_CREDENTIALS).map((c) => [c.access_key_id, { secret: c.secret_access_key, ...('session_token' in c && { sessionToken: c.session_token }) }]),
);

/** AWS refuses a signature whose x-amz-date is further than this from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const ERROR_TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

function reply(status: number, type: string, message: string): JsonReply {
  return {
    kind: 'json',
    status,
    body: { message },
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': crypto.randomUUID() },
  };
}

function error(status: number, message: string): JsonReply {
  return reply(status, ERROR_TYPES[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException'), message);
}

const invalid = (message: string) => error(400, message);

// ---- Authentication ----

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 applies it to each path segment (a second time, for every service but S3). */
const uriEscape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${uriEscape(k)}=${uriEscape(query[k]!)}`)
    .join('&');
}

function header(headers: RouteInput['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** The SigV4 signature of the request as received, by the spec's steps: canonical request, string to sign, key. */
function signatureOf(req: RouteInput, secret: string, scope: { amzDate: string; day: string; region: string; service: string; signed: string[] }): string {
  const { amzDate, day, region, service, signed } = scope;
  const segments = `${PREFIX}${req.path}`.split('/').filter((s) => s !== '');
  const canonical = [
    req.method,
    `/${segments.map(uriEscape).join('/')}`,
    canonicalQuery(req.query),
    ...signed.map((name) => `${name}:${header(req.headers, name)!.trim().replace(/\s+/g, ' ')}`),
    '',
    signed.join(';'),
    header(req.headers, 'x-amz-content-sha256') ?? sha256(req.rawBody),
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${region}/${service}/aws4_request`, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

function authenticate(req: RouteInput): JsonReply | undefined {
  const authorization = header(req.headers, 'authorization');
  if (!authorization) return reply(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (authorization.startsWith('Bearer ')) {
    if (authorization.slice(7) === FAKE_BEDROCK_API_KEY) return undefined;
    return reply(403, 'UnrecognizedClientException', 'Invalid API Key format: Must start with pre-defined prefix');
  }
  const m = AUTH.exec(authorization);
  if (!m) {
    const message = `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${authorization}`;
    return reply(400, 'IncompleteSignatureException', message);
  }
  const [, keyId = '', day = '', region = '', service = '', signedList = '', signature = ''] = m;
  if (service !== 'bedrock') return reply(403, 'InvalidSignatureException', `Credential should be scoped to correct service: 'bedrock'.`);
  const known = SECRETS.get(keyId);
  if (!known) return reply(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (header(req.headers, 'x-amz-security-token') !== known.sessionToken) {
    return reply(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  const signed = signedList.split(';');
  for (const required of ['host', 'x-amz-date', ...(known.sessionToken ? ['x-amz-security-token'] : [])]) {
    if (!signed.includes(required)) return reply(403, 'InvalidSignatureException', `'${required}' must be a signed header.`);
  }
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm || !amzDate.startsWith(day)) {
    return reply(403, 'InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from x-amz-date: '${day}' != '${amzDate}'`);
  }
  const at = Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!);
  if (Math.abs(Date.now() - at) > MAX_SKEW_MS) {
    return reply(403, 'InvalidSignatureException', `Signature expired: ${amzDate} is now earlier or later than 15 minutes from now.`);
  }

  const missing = signed.find((name) => header(req.headers, name) === undefined);
  const mismatch = 'The request signature we calculated does not match the signature you provided.';
  if (missing) return reply(403, 'InvalidSignatureException', `${mismatch} Signed header '${missing}' is missing.`);
  if (signatureOf(req, known.secret, { amzDate, day, region, service, signed }) !== signature) {
    return reply(403, 'InvalidSignatureException', `${mismatch} Check your AWS Secret Access Key and signing method.`);
  }
  return undefined;
}

// ---- Request validation ----

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

const TOP_LEVEL_FIELDS = new Set([
  'messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig', 'additionalModelRequestFields', 'promptVariables',
  'additionalModelResponseFieldPaths', 'requestMetadata', 'performanceConfig', 'outputConfig', 'serviceTier',
]);
const INFERENCE_FIELDS = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const BLOCK_KINDS = ['text', 'image', 'document', 'video', 'toolUse', 'toolResult', 'reasoningContent', 'cachePoint', 'guardContent'];
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The first problem with a content block, in Bedrock's words, or undefined. */
function blockProblem(block: unknown, at: string, role: string): string | undefined {
  if (!isObject(block)) return `${at} must be an object`;
  const kinds = Object.keys(block).filter((k) => BLOCK_KINDS.includes(k));
  if (kinds.length !== 1 || Object.keys(block).length !== 1) {
    return `${at} must set exactly one member of the ContentBlock union, got [${Object.keys(block).join(', ')}]`;
  }
  if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
    return `The text field in the ContentBlock object at ${at} is blank. Add text to the text field, and try again.`;
  }
  if ('image' in block) {
    const image = block.image;
    if (!isObject(image) || !IMAGE_FORMATS.has(image.format)) return `${at}.image.format must be one of png, jpeg, gif, webp`;
    const source = image.source;
    const bytes = isObject(source) && typeof source.bytes === 'string' && /^[A-Za-z0-9+/]+=*$/.test(source.bytes);
    const s3 = isObject(source) && isObject(source.s3Location) && typeof source.s3Location.uri === 'string';
    if (!bytes && !s3) return `${at}.image.source must hold base64 bytes or an s3Location`;
  }
  if ('toolUse' in block) {
    const use = block.toolUse;
    if (role !== 'assistant') return `${at}: toolUse blocks may only appear in assistant messages`;
    if (!isObject(use) || typeof use.toolUseId !== 'string' || typeof use.name !== 'string' || !isObject(use.input)) {
      return `${at}.toolUse needs toolUseId, name and an object input`;
    }
  }
  if ('toolResult' in block) {
    const result = block.toolResult;
    if (role !== 'user') return `${at}: toolResult blocks may only appear in user messages`;
    if (!isObject(result) || typeof result.toolUseId !== 'string' || !Array.isArray(result.content) || result.content.length === 0) {
      return `${at}.toolResult needs a toolUseId and content`;
    }
    const filled = (c: unknown) => isObject(c) && ((typeof c.text === 'string' && c.text.trim() !== '') || isObject(c.json));
    if (!result.content.every(filled)) return `${at}.toolResult.content blocks must be non-empty text or json`;
  }
  return undefined;
}

function toolConfigProblem(config: unknown): string | undefined {
  if (!isObject(config) || !Array.isArray(config.tools) || config.tools.length === 0) return 'toolConfig.tools must be a non-empty list';
  const names: string[] = [];
  for (const [j, tool] of config.tools.entries()) {
    const spec = isObject(tool) ? tool.toolSpec : undefined;
    if (!isObject(spec) || typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) return `toolConfig.tools.${j}.toolSpec.name must match [a-zA-Z0-9_-]{1,64}`;
    if (!isObject(spec.inputSchema) || !isObject(spec.inputSchema.json)) return `toolConfig.tools.${j}.toolSpec.inputSchema.json must be a JSON object`;
    names.push(spec.name);
  }
  const choice = config.toolChoice;
  if (choice === undefined) return undefined;
  if (!isObject(choice) || Object.keys(choice).length !== 1) return 'toolConfig.toolChoice must set exactly one of auto, any, tool';
  if ('tool' in choice && !names.includes(choice.tool?.name)) return `toolConfig.toolChoice.tool.name '${String(choice.tool?.name)}' is not among the tools`;
  if (!('auto' in choice || 'any' in choice || 'tool' in choice)) return 'toolConfig.toolChoice must set exactly one of auto, any, tool';
  return undefined;
}

function requestProblem(body: Record<string, any>): string | undefined {
  const extra = Object.keys(body).find((k) => !TOP_LEVEL_FIELDS.has(k));
  if (extra) return `Malformed input request: extraneous key [${extra}] is not permitted, please reformat your input and try again.`;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'The messages field is required and must contain at least one message.';
  let toolBlocks = false;
  for (const [i, m] of messages.entries()) {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) return `messages.${i}.role must be user or assistant`;
    if (i === 0 && m.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    if (i > 0 && messages[i - 1].role === m.role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    if (!Array.isArray(m.content) || m.content.length === 0) return `messages.${i}.content must contain at least one content block`;
    for (const [j, block] of m.content.entries()) {
      const problem = blockProblem(block, `messages.${i}.content.${j}`, m.role);
      if (problem) return problem;
      toolBlocks ||= 'toolUse' in block || 'toolResult' in block;
    }
  }
  if (toolBlocks && body.toolConfig === undefined) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  if (body.toolConfig !== undefined) {
    const problem = toolConfigProblem(body.toolConfig);
    if (problem) return problem;
  }
  const textBlock = (b: unknown) => isObject(b) && typeof b.text === 'string' && b.text.trim() !== '';
  if (body.system !== undefined && !(Array.isArray(body.system) && body.system.every(textBlock))) {
    return 'system must be a list of non-blank text blocks';
  }
  const inference = body.inferenceConfig;
  if (inference !== undefined) {
    if (!isObject(inference) || Object.keys(inference).some((k) => !INFERENCE_FIELDS.has(k))) {
      return `inferenceConfig takes only ${[...INFERENCE_FIELDS].join(', ')}`;
    }
    if (inference.maxTokens !== undefined && !(Number.isInteger(inference.maxTokens) && inference.maxTokens >= 1)) {
      return 'inferenceConfig.maxTokens must be a positive integer';
    }
  }
  const format = body.outputConfig?.textFormat;
  if (body.outputConfig !== undefined) {
    if (!isObject(format) || format.type !== 'json_schema' || typeof format.structure?.jsonSchema?.schema !== 'string') {
      return 'outputConfig.textFormat must be a json_schema with structure.jsonSchema.schema as a string';
    }
    try {
      JSON.parse(format.structure.jsonSchema.schema);
    } catch {
      return 'outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON';
    }
  }
  return undefined;
}

function conversation(body: Record<string, any>): Conversation {
  const blockText = (blocks: unknown): string[] => (Array.isArray(blocks) ? blocks.filter((b) => typeof b?.text === 'string').map((b) => b.text as string) : []);
  let chars = blockText(body.system).join('').length;
  let lastUserText = '';
  for (const m of body.messages as any[]) {
    const texts = blockText(m.content);
    chars += texts.join('').length;
    if (m.role === 'user' && texts.length > 0) lastUserText = texts.join(' ');
    for (const b of m.content) if (b.toolResult) chars += blockText(b.toolResult.content).join('').length;
  }
  const last: any[] = (body.messages as any[]).at(-1).content;
  return {
    chars,
    lastUserText,
    endsWithToolResult: last.some((b) => b.toolResult),
    firstTool: body.toolConfig?.tools?.[0]?.toolSpec?.name,
  };
}

// ---- Answers ----

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'content_filtered' } as const;

// Bedrock reports uncached input apart from cache reads and writes; reasoning is inside outputTokens.
const usage = (r: Resolved) => ({
  inputTokens: r.usage.input - r.usage.cached,
  outputTokens: r.usage.output,
  totalTokens: r.usage.input + r.usage.output,
  cacheReadInputTokens: r.usage.cached,
  cacheWriteInputTokens: 0,
});

const SIGNATURE = Buffer.from('fake-providers bedrock reasoning signature').toString('base64');

function toolUses(r: Resolved) {
  return r.toolCalls.map((tc) => ({ toolUseId: tc.id ?? nextId('tooluse_'), name: tc.name, input: tc.arguments }));
}

function converse(r: Resolved): Reply {
  const content: unknown[] = [];
  if (r.reasoning !== '') content.push({ reasoningContent: { reasoningText: { text: r.reasoning, signature: SIGNATURE } } });
  if (r.text !== '') content.push({ text: r.text });
  for (const toolUse of toolUses(r)) content.push({ toolUse });
  return {
    kind: 'json',
    status: 200,
    body: { output: { message: { role: 'assistant', content } }, stopReason: STOP_REASONS[r.finish], usage: usage(r), metrics: { latencyMs: 42 } },
    headers: { 'x-amzn-requestid': crypto.randomUUID() },
  };
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
let padding = 0;

// Every payload carries a `p` field of varying length, as the real service pads events against size side channels.
function frame(type: string, payload: Record<string, unknown>): Uint8Array {
  padding = (padding + 7) % PADDING.length;
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify({ ...payload, p: PADDING.slice(0, padding + 1) })),
  });
}

function converseStream(r: Resolved): Reply {
  const frames = [frame('messageStart', { role: 'assistant' })];
  let index = 0;
  const block = (start: Record<string, unknown> | undefined, deltas: Record<string, unknown>[]) => {
    const contentBlockIndex = index++;
    if (start) frames.push(frame('contentBlockStart', { contentBlockIndex, start }));
    for (const delta of deltas) frames.push(frame('contentBlockDelta', { contentBlockIndex, delta }));
    frames.push(frame('contentBlockStop', { contentBlockIndex }));
  };
  if (r.reasoning !== '') {
    block(undefined, [...pieces(r.reasoning).map((text) => ({ reasoningContent: { text } })), { reasoningContent: { signature: SIGNATURE } }]);
  }
  // Text blocks open with their first delta; only tool use has a contentBlockStart.
  if (r.text !== '') block(undefined, pieces(r.text).map((text) => ({ text })));
  for (const use of toolUses(r)) {
    block({ toolUse: { toolUseId: use.toolUseId, name: use.name } }, pieces(JSON.stringify(use.input)).map((input) => ({ toolUse: { input } })));
  }
  frames.push(frame('messageStop', { stopReason: STOP_REASONS[r.finish] }), frame('metadata', { usage: usage(r), metrics: { latencyMs: 42 } }));
  return { kind: 'binary', contentType: 'application/vnd.amazon.eventstream', frames };
}

function call(stream: boolean) {
  return (body: any): Generation | JsonReply => {
    if (!isObject(body)) return invalid('The request body must be a JSON object.');
    const problem = requestProblem(body);
    if (problem) return invalid(problem);
    return { conversation: conversation(body), render: (r) => (stream ? converseStream(r) : converse(r)) };
  };
}

const OPERATION = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

function route(req: RouteInput): Route {
  const m = OPERATION.exec(req.path);
  if (req.method !== 'POST' || !m) return reply(404, 'UnknownOperationException', `No operation at ${req.method} ${req.path}`);
  const denied = authenticate(req);
  if (denied) return denied;
  return call(m[2] === 'converse-stream');
}

export const bedrock: WireFormat = { name: 'bedrock', prefix: PREFIX, route, error };
