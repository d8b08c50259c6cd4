// What the pipeline knows about one request while it runs; stages read and fill it.

import type { TargetStats } from '../routing/strategies.ts';
import type { GatewayError } from '../core/errors.ts';
import type { RequestAbort } from '../http/abort.ts';
import type { Identity } from '../identity/identity.ts';
import type { Usage } from '../core/types.ts';
import type { Cost } from '../usage/pricing.ts';
import type { OpenAIOperation } from '../providers/types.ts';
import type { Route, Target } from '../routing/router.ts';
import type { Reservation } from '../limits/limiter.ts';
import type { ShadowSample } from '../shadow/mirror.ts';
import type { RequestTrace } from '../observability/request-trace.ts';
import type { PayloadCapture } from '../request-logs/capture.ts';
import type { FailedAttempt } from './attempt-trail.ts';

/**
 * What a request may consume, for token limits and budgets to reserve before the call: the part of the request whose
 * tokens are counted (estimated with gpt-tokenizer only when a token limit or a budget applies) and the most output
 * it asked for.
 */
export interface Sizing {
  prompt: unknown;
  maxOutputTokens: number | undefined;
}

/** Where stages put response headers (the Node response; headers set here merge into whatever the route sends). */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

export const SURFACES = ['openai', 'anthropic', 'responses', 'gemini'] as const;
export type Surface = (typeof SURFACES)[number];
export type Operation = 'chat' | 'embeddings' | 'count_tokens' | OpenAIOperation;

export interface RequestContext {
  /** The request id the client sees (x-request-id): the client's own when it sent one. */
  id: string;
  /**
   * Unique to this request, whatever id the client sent: the usage ledger's key, on which its replay is idempotent. A
   * client reusing an x-request-id (a retry) must not make the second request's record look like a duplicate.
   */
  recordId: string;
  surface: Surface;
  operation: Operation;
  /** The model name the client sent. */
  model: string;
  stream: boolean;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /**
   * Milliseconds spent waiting on providers (every attempt, up to a stream's first chunk) and the backoff between
   * attempts: the rest of the request's time is the gateway's own (x-switchboard-overhead-ms).
   */
  upstreamMs: number;
  /** Tripped when the client disconnects, or with a TotalTimeout when a provider runs out of total_ms. */
  abort: RequestAbort;
  /** The key the client presented, if any. */
  credential: string | undefined;
  clientIp: string;
  /** The request's headers and parsed body as they came, for routing rules and sticky routing; never changed. */
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined;
  body: unknown;
  /** Who is calling: set by the auth stage, undefined before it has run. */
  identity: Identity | undefined;
  route: Route | undefined;
  /** The target that answered (or the last one tried). */
  target: Target | undefined;
  attempts: number;
  /** Answered by an identical request's upstream call, in flight at the same time (routing/coalescer.ts): no attempt of its own. */
  coalesced: boolean;
  /** The attempts that failed and the targets skipped, in order (attempt-trail.ts); undefined while there are none. */
  failedAttempts: FailedAttempt[] | undefined;
  /** Set when the caller's key or team captures request and response bodies (log_payloads). */
  payload: PayloadCapture | undefined;
  usage: Usage | undefined;
  /** The provider reported no usage: `usage` is the gateway's estimate (usage/estimate-tokens.ts). */
  usageEstimated: boolean;
  /** Worked out from usage by costOf (src/usage/cost.ts) once the provider has answered. */
  cost: Cost | undefined;
  /** Set when the request failed; the status the client got. */
  error: GatewayError | undefined;
  /** Milliseconds from arrival to the first chunk sent (streams). */
  ttftMs: number | undefined;
  sizing: Sizing | undefined;
  /** What the limits stage took from counters, given back or topped up once the real usage is known. */
  reservation: Reservation | undefined;
  response: HeaderSink | undefined;
  /** The answering target's figures while this request still counts as in flight on it (until the route stage's after). */
  busy: TargetStats | undefined;
  /** Set when the request is mirrored to its model's shadow (shadow/mirror.ts) once it ends. */
  shadow: ShadowSample | undefined;
  /** The request's trace span, when tracing is on. */
  trace: RequestTrace | undefined;
  /**
   * Why the answer ended, one entry per choice that said (`stop`, `length`, …), for the trace's
   * gen_ai.response.finish_reasons: recorded only while the request is traced, and only from canonical chat answers and
   * OpenAI-format streams.
   */
  finishReasons: string[] | undefined;
}

/**
 * Every field is present from the start, so a context keeps one hidden class while stages fill it in; objects that
 * change shape mid-request make V8's property accesses polymorphic on the hot path.
 */
export function newContext(
  init: Pick<RequestContext, 'id' | 'surface' | 'operation' | 'model' | 'stream' | 'abort' | 'credential' | 'clientIp'> &
    Partial<Pick<RequestContext, 'recordId' | 'sizing' | 'response' | 'headers' | 'body' | 'startedAt'>>,
): RequestContext {
  return {
    id: init.id,
    recordId: init.recordId ?? init.id,
    surface: init.surface,
    operation: init.operation,
    model: init.model,
    stream: init.stream,
    startedAt: init.startedAt ?? performance.now(),
    upstreamMs: 0,
    abort: init.abort,
    credential: init.credential,
    clientIp: init.clientIp,
    headers: init.headers,
    body: init.body,
    identity: undefined,
    route: undefined,
    target: undefined,
    attempts: 0,
    coalesced: false,
    failedAttempts: undefined,
    payload: undefined,
    usage: undefined,
    usageEstimated: false,
    cost: undefined,
    error: undefined,
    ttftMs: undefined,
    sizing: init.sizing,
    reservation: undefined,
    response: init.response,
    busy: undefined,
    shadow: undefined,
    trace: undefined,
    finishReasons: undefined,
  };
}
