import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GatewayError } from '../../core/errors.ts';
import { RequestAbort } from '../../http/abort.ts';
import type { Target } from '../../routing/router.ts';
import { newContext, type RequestContext } from '../context.ts';
import { tracingStage } from './tracing.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
const stage = tracingStage(provider.getTracer('test'), new W3CTraceContextPropagator());
const target = {
  id: 'claude/claude-x',
  model: 'claude-x',
  provider: { name: 'claude', type: 'anthropic', base_url: 'https://[::1]/anthropic' },
} as unknown as Target;

function context(body: unknown = {}): RequestContext {
  return newContext({
    id: 'req-1',
    surface: 'gemini',
    operation: 'chat',
    model: 'smart',
    stream: false,
    abort: new RequestAbort(),
    credential: 'sk-secret-key',
    clientIp: '127.0.0.1',
    headers: {},
    body,
  });
}

/** Runs the stage around one attempt that ends as `attempt` says and a request that ends with `error`. */
function run(ctx: RequestContext, attempt: { status?: number; error?: unknown }, error?: GatewayError) {
  exporter.reset();
  stage.before!(ctx);
  ctx.target = target;
  ctx.attempts = 1;
  ctx.trace!.attempt(target, 1).end(attempt);
  ctx.error = error;
  stage.after!(ctx);
  const spans = exporter.getFinishedSpans();
  return { request: spans.find((s) => s.kind === SpanKind.SERVER)!, attempt: spans.find((s) => s.kind === SpanKind.CLIENT)! };
}

test('the request span: sampling parameters from the surface body, the answering target, never the key', () => {
  const ctx = context({ generationConfig: { temperature: 0.5, topP: 0.8 } });
  ctx.usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 2 } };
  ctx.finishReasons = ['stop'];
  const { request, attempt } = run(ctx, { status: 200 });
  assert.equal(request.name, 'chat smart');
  assert.equal(request.attributes['gen_ai.request.temperature'], 0.5);
  assert.equal(request.attributes['gen_ai.request.top_p'], 0.8);
  assert.equal(request.attributes['gen_ai.provider.name'], 'anthropic');
  assert.equal(request.attributes['gen_ai.response.model'], 'claude-x');
  assert.equal(request.attributes['gen_ai.usage.cache_read.input_tokens'], 2);
  assert.deepEqual(request.attributes['gen_ai.response.finish_reasons'], ['stop']);
  assert.ok(!JSON.stringify(request.attributes).includes('sk-secret-key'));
  assert.equal(attempt.name, 'chat claude-x');
  assert.equal(attempt.attributes['server.address'], '::1');
  assert.equal(attempt.attributes['server.port'], 443);
  assert.equal(attempt.parentSpanContext?.spanId, request.spanContext().spanId);
});

test('errors: a failed attempt is an error; the request only when the gateway or its providers failed to serve it', () => {
  const badRequest = new GatewayError(400, 'invalid_request_error', 'bad', { code: 'invalid_value', provider: 'claude' });
  let spans = run(context(), { status: 400, error: badRequest }, badRequest);
  assert.equal(spans.attempt.status.code, SpanStatusCode.ERROR);
  assert.equal(spans.attempt.attributes['error.type'], 'invalid_value');
  assert.equal(spans.request.status.code, SpanStatusCode.UNSET, "the client's request was at fault");
  assert.equal(spans.request.attributes['http.response.status_code'], 400);
  assert.equal(spans.request.attributes['gen_ai.response.model'], undefined);

  const paced = new GatewayError(429, 'rate_limit_error', 'slow down', { provider: 'claude' });
  spans = run(context(), { status: 429, error: paced }, paced);
  assert.equal(spans.request.status.code, SpanStatusCode.ERROR);
  assert.equal(spans.request.attributes['error.type'], '429');

  const down = new GatewayError(502, 'upstream_error', 'unreachable', { code: 'upstream_unreachable', provider: 'claude' });
  spans = run(context(), { error: down }, down);
  assert.equal(spans.attempt.attributes['http.response.status_code'], undefined, 'no answer, no status');
  assert.equal(spans.request.status.code, SpanStatusCode.ERROR);
  assert.equal(spans.request.attributes['error.type'], 'upstream_unreachable');
});
