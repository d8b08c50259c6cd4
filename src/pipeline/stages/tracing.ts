// A span per request (SERVER) and a child span per upstream attempt (CLIENT), with the OpenTelemetry GenAI semantic
// conventions. The request span continues the client's trace (W3C traceparent); each attempt's context travels to the
// provider in the headers ProviderCaller merges into the call. Only observability/tracing.ts loads this module, and
// only when tracing is on, so the OpenTelemetry SDK is never loaded otherwise. First in the pipeline: its `after` runs
// last and sees the outcome, usage and cost.

import { defaultTextMapGetter, defaultTextMapSetter, SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { GatewayError } from '../../core/errors.ts';
import {
  GEN_AI_OPERATION_NAME,
  GEN_AI_PROVIDER_NAME,
  GEN_AI_REQUEST_MAX_TOKENS,
  GEN_AI_REQUEST_MODEL,
  GEN_AI_REQUEST_STREAM,
  GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_REQUEST_TOP_P,
  GEN_AI_RESPONSE_FINISH_REASONS,
  GEN_AI_RESPONSE_MODEL,
  GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  GEN_AI_USAGE_INPUT_TOKENS,
  GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  genAiOperationName,
  genAiProviderName,
} from '../../observability/gen-ai.ts';
import type { AttemptTrace, RequestTrace } from '../../observability/request-trace.ts';
import type { ProviderConfig } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import type { RequestContext } from '../context.ts';
import type { Stage } from '../stages.ts';

/** server.address and server.port of a provider, worked out once per provider configuration (tenant copies included). */
const servers = new WeakMap<ProviderConfig, Attributes>();

function serverOf(provider: ProviderConfig): Attributes {
  let server = servers.get(provider);
  if (server === undefined) {
    try {
      const url = new URL(provider.base_url);
      server = {
        [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      };
    } catch {
      server = {};
    }
    servers.set(provider, server);
  }
  return server;
}

/** error.type: the gateway's error code where it has one, else what kind of failure it was. */
function errorType(err: unknown, status: number | undefined): string {
  if (err instanceof GatewayError) return err.code ?? String(err.status);
  if (err instanceof Error) return err.name;
  return status !== undefined ? String(status) : '_OTHER';
}

/**
 * A request the gateway failed to serve, rather than one refused for what it asked: its own 5xx, and the providers'
 * failures that reach the client as such (their credentials, their timeouts, their pacing).
 */
function failedServing(err: GatewayError): boolean {
  return err.status >= 500 || (err.provider !== undefined && (err.status === 401 || err.status === 403 || err.status === 408 || err.status === 429));
}

class AttemptSpan implements AttemptTrace {
  constructor(
    private readonly span: Span,
    readonly headers: Readonly<Record<string, string>>,
  ) {}

  end(outcome: { status?: number | undefined; error?: unknown }): void {
    const span = this.span;
    if (span.isRecording()) {
      if (outcome.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
      if (outcome.error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType(outcome.error, outcome.status));
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
      }
    }
    span.end();
  }
}

class RequestSpan implements RequestTrace {
  constructor(
    readonly span: Span,
    /** The client's context with this span in it: each attempt's parent. */
    private readonly context: Context,
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    private readonly operation: string,
  ) {}

  attempt(target: Target, attempt: number): AttemptTrace {
    const span = this.tracer.startSpan(
      `${this.operation} ${target.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [GEN_AI_OPERATION_NAME]: this.operation,
          [GEN_AI_PROVIDER_NAME]: genAiProviderName(target.provider.type),
          [GEN_AI_REQUEST_MODEL]: target.model,
          ...serverOf(target.provider),
          'switchboard.provider': target.provider.name,
          'switchboard.attempt': attempt,
        },
      },
      this.context,
    );
    const headers: Record<string, string> = {};
    this.propagator.inject(trace.setSpan(this.context, span), headers, defaultTextMapSetter);
    return new AttemptSpan(span, headers);
  }
}

/** temperature and top_p as the client asked for them, in its surface's body (Gemini nests them, camel-cased). */
function samplingParameters(span: Span, ctx: RequestContext): void {
  const body = ctx.body as Record<string, unknown> | null | undefined;
  if (typeof body !== 'object' || body === null) return;
  const params = (ctx.surface === 'gemini' ? body.generationConfig : body) as Record<string, unknown> | undefined;
  if (typeof params !== 'object' || params === null) return;
  if (typeof params.temperature === 'number') span.setAttribute(GEN_AI_REQUEST_TEMPERATURE, params.temperature);
  const topP = params.top_p ?? params.topP;
  if (typeof topP === 'number') span.setAttribute(GEN_AI_REQUEST_TOP_P, topP);
}

/** What the request span says once the request is over. */
function outcome(span: Span, ctx: RequestContext): void {
  span.setAttribute(GEN_AI_REQUEST_STREAM, ctx.stream);
  const maxTokens = ctx.sizing?.maxOutputTokens;
  if (maxTokens !== undefined) span.setAttribute(GEN_AI_REQUEST_MAX_TOKENS, maxTokens);
  samplingParameters(span, ctx);
  const identity = ctx.identity;
  if (identity?.key_id !== undefined) span.setAttribute('switchboard.key_id', identity.key_id);
  if (identity?.team_id !== undefined) span.setAttribute('switchboard.team_id', identity.team_id);
  span.setAttribute('switchboard.attempts', ctx.attempts);
  if (ctx.coalesced) span.setAttribute('switchboard.coalesced', true);
  const target = ctx.target;
  if (target) {
    span.setAttribute(GEN_AI_PROVIDER_NAME, genAiProviderName(target.provider.type));
    span.setAttribute('switchboard.provider', target.provider.name);
    if (!ctx.error) span.setAttribute(GEN_AI_RESPONSE_MODEL, target.model);
  }
  const usage = ctx.usage;
  if (usage) {
    span.setAttribute(GEN_AI_USAGE_INPUT_TOKENS, usage.prompt_tokens);
    span.setAttribute(GEN_AI_USAGE_OUTPUT_TOKENS, usage.completion_tokens);
    const cached = usage.prompt_tokens_details?.cached_tokens;
    if (cached) span.setAttribute(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cached);
    const reasoning = usage.completion_tokens_details?.reasoning_tokens;
    if (reasoning) span.setAttribute(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning);
    if (ctx.usageEstimated) span.setAttribute('switchboard.usage_estimated', true);
  }
  if (ctx.finishReasons?.length) span.setAttribute(GEN_AI_RESPONSE_FINISH_REASONS, ctx.finishReasons);
  // Worked out by the usage stage's `after`, which has run by now.
  if (ctx.cost?.priced) span.setAttribute('switchboard.cost_usd', ctx.cost.usd);
  if (ctx.ttftMs !== undefined) {
    span.setAttribute('switchboard.ttft_ms', ctx.ttftMs);
    span.setAttribute(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, ctx.ttftMs / 1000);
  }
  const error = ctx.error;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, error?.status ?? 200);
  if (error) {
    span.setAttribute(ATTR_ERROR_TYPE, errorType(error, error.status));
    if (failedServing(error)) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
}

export function tracingStage(tracer: Tracer, propagator: TextMapPropagator): Stage {
  return {
    name: 'tracing',
    before(ctx) {
      const parent = ctx.headers ? propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter) : ROOT_CONTEXT;
      const operation = genAiOperationName(ctx.operation);
      const span = tracer.startSpan(
        `${operation} ${ctx.model}`,
        {
          kind: SpanKind.SERVER,
          // The request's arrival (a performance.now() time), not this stage's turn: the span covers all of the
          // gateway's time. Its end is one too, so the duration keeps the monotonic clock's precision.
          startTime: ctx.startedAt,
          attributes: {
            [GEN_AI_OPERATION_NAME]: operation,
            [GEN_AI_REQUEST_MODEL]: ctx.model,
            'switchboard.request_id': ctx.id,
            'switchboard.surface': ctx.surface,
          },
        },
        parent,
      );
      ctx.trace = new RequestSpan(span, trace.setSpan(parent, span), tracer, propagator, operation);
    },
    after(ctx) {
      const span = (ctx.trace as RequestSpan).span;
      if (span.isRecording()) outcome(span, ctx);
      span.end(performance.now());
    },
  };
}
