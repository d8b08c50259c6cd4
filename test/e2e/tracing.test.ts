// OpenTelemetry traces through the real gateway process, exported over OTLP/HTTP to a local receiver: a request span
// continuing the client's W3C trace, a child span per upstream attempt whose context reaches the provider in its
// traceparent header, the GenAI attributes (tokens as the fake provider reported them), streams traced to their end,
// and failures marked. With tracing off, the gateway (in this process) loads none of the OpenTelemetry SDK and sends no
// traceparent upstream.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';
import { APIError } from 'openai';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';
import { SPAN_KIND, STATUS_CODE, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { startFakeProviders } from '../fake-providers/server.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { buildApp } from '../../src/server/app.ts';
import { createServices, openGatewayDependencies } from '../../src/server/services.ts';

const MASTER = 'sk-master-tracing-0123456789';
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const hi = [{ role: 'user' as const, content: 'hi' }];

/** The request span of the request with this x-request-id, and its attempt spans in order, once all are exported. */
async function traceOf(receiver: OtlpReceiver, requestId: string, attempts: number): Promise<{ request: ReceivedSpan; attempts: ReceivedSpan[] }> {
  const spans = await receiver.waitFor((all) => {
    const request = all.find((s) => s.attributes['switchboard.request_id'] === requestId);
    return request !== undefined && all.filter((s) => s.parentSpanId === request.spanId).length >= attempts;
  });
  const request = spans.find((s) => s.attributes['switchboard.request_id'] === requestId)!;
  const children = spans.filter((s) => s.parentSpanId === request.spanId).sort((a, b) => Number(a.attributes['switchboard.attempt']) - Number(b.attributes['switchboard.attempt']));
  return { request, attempts: children };
}

/** trace id and parent id of a traceparent header. */
function traceparent(header: string | undefined): { traceId: string; spanId: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(header ?? '');
  assert.ok(m, `not a traceparent: ${header}`);
  return { traceId: m[1]!, spanId: m[2]! };
}

describe('tracing on', () => {
  let receiver: OtlpReceiver;
  let e: FakeGateway;

  before(async () => {
    receiver = await startOtlpReceiver();
    e = await startFakeGateway(
      (url) => `${threeProviders(url)}
auth: { master_key: ${MASTER}, secret: tracing-e2e-secret-0123456789abcdef }
models:
  - name: sturdy
    targets: [{ provider: openai, model: gpt-tr1 }, { provider: gemini, model: gem-tr1 }]
  - name: fragile
    targets: [{ provider: openai, model: gpt-tr2 }]
`,
      {
        apiKey: MASTER,
        env: {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=secret-token-123',
          OTEL_SERVICE_NAME: 'switchboard-e2e',
          // Spans leave within 50 ms rather than the default 5 s, so the tests need not stop the gateway to see them.
          OTEL_BSP_SCHEDULE_DELAY: '50',
        },
      },
    );
  });
  after(async () => {
    await e?.stop();
    await receiver?.close();
  });
  beforeEach(() => e.fake.reset());

  test('the banner says where spans go, and never the exporter headers', () => {
    assert.match(e.gateway.output(), new RegExp(`tracing: OpenTelemetry spans over OTLP/HTTP to ${receiver.url}`));
    assert.doesNotMatch(e.gateway.output(), /secret-token-123/);
  });

  test('a fallback: a request span continuing the client trace, one attempt span per attempt, each propagated upstream', async () => {
    e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai' });
    e.fake.script({ text: 'fine', usage: { input: 12, output: 7 }, finish: 'stop' }, { provider: 'gemini' });
    const { response } = await e.client.chat.completions
      .create({ model: 'sturdy', messages: hi, max_tokens: 50, temperature: 0.3, top_p: 0.9 }, { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` } })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const { request, attempts } = await traceOf(receiver, requestId, 2);

    assert.equal(request.traceId, CLIENT_TRACE, "the client's trace goes on");
    assert.equal(request.parentSpanId, CLIENT_SPAN);
    assert.equal(request.kind, SPAN_KIND.server);
    assert.equal(request.name, 'chat sturdy');
    assert.equal(request.status.code, STATUS_CODE.unset);
    assert.equal(request.resource['service.name'], 'switchboard-e2e');
    assert.equal(typeof request.resource['service.version'], 'string');
    const a = request.attributes;
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.request.model'], 'sturdy');
    assert.equal(a['gen_ai.provider.name'], 'gcp.gemini');
    assert.equal(a['gen_ai.response.model'], 'gem-tr1');
    assert.equal(a['gen_ai.usage.input_tokens'], 12);
    assert.equal(a['gen_ai.usage.output_tokens'], 7);
    assert.deepEqual(a['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(a['gen_ai.request.max_tokens'], 50);
    assert.equal(a['gen_ai.request.temperature'], 0.3);
    assert.equal(a['gen_ai.request.top_p'], 0.9);
    assert.equal(a['gen_ai.request.stream'], false);
    assert.equal(a['switchboard.attempts'], 2);
    assert.equal(a['switchboard.provider'], 'gemini');
    assert.equal(a['http.response.status_code'], 200);

    assert.equal(attempts.length, 2);
    const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
    for (const span of attempts) {
      assert.equal(span.traceId, CLIENT_TRACE);
      assert.equal(span.kind, SPAN_KIND.client);
      assert.equal(span.attributes['server.address'], '127.0.0.1');
      assert.equal(span.attributes['server.port'], e.fake.port);
      assert.ok(span.startNs >= request.startNs && span.endNs <= request.endNs, 'within the request span');
    }
    assert.equal(first.name, 'chat gpt-tr1');
    assert.equal(first.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(first.attributes['gen_ai.request.model'], 'gpt-tr1');
    assert.equal(first.attributes['switchboard.attempt'], 1);
    assert.equal(first.attributes['http.response.status_code'], 500);
    assert.equal(typeof first.attributes['error.type'], 'string');
    assert.equal(first.status.code, STATUS_CODE.error);
    assert.equal(second.name, 'chat gem-tr1');
    assert.equal(second.attributes['gen_ai.provider.name'], 'gcp.gemini');
    assert.equal(second.attributes['switchboard.attempt'], 2);
    assert.equal(second.attributes['http.response.status_code'], 200);
    assert.equal(second.attributes['error.type'], undefined);
    assert.equal(second.status.code, STATUS_CODE.unset);

    // Each provider got the context of its own attempt span, in the client's trace.
    const [toOpenai, toGemini] = e.fake.received;
    assert.equal(toOpenai?.provider, 'openai');
    assert.deepEqual(traceparent(toOpenai.headers.traceparent), { traceId: CLIENT_TRACE, spanId: first.spanId });
    assert.equal(toGemini?.provider, 'gemini');
    assert.deepEqual(traceparent(toGemini.headers.traceparent), { traceId: CLIENT_TRACE, spanId: second.spanId });
  });

  test('a request without a traceparent starts a trace of its own, and its attempt carries it upstream', async () => {
    const { response } = await e.client.chat.completions.create({ model: 'openai/gpt-tr3', messages: hi }).withResponse();
    const { request, attempts } = await traceOf(receiver, response.headers.get('x-request-id')!, 1);
    assert.equal(request.parentSpanId, undefined);
    assert.notEqual(request.traceId, CLIENT_TRACE);
    assert.equal(request.attributes['gen_ai.request.model'], 'openai/gpt-tr3');
    assert.equal(request.attributes['gen_ai.response.model'], 'gpt-tr3');
    assert.equal(request.attributes['gen_ai.request.max_tokens'], undefined, 'only what the client asked for');
    assert.deepEqual(traceparent(e.fake.received[0]!.headers.traceparent), { traceId: request.traceId, spanId: attempts[0]!.spanId });
  });

  for (const [model, provider] of [
    ['openai/gpt-tr4', 'openai'],
    ['anthropic/claude-tr4', 'anthropic'],
  ] as const) {
    test(`a stream from ${provider}: the request span ends with the stream, its usage and finish reason recorded`, async () => {
      e.fake.script({ text: 'a longer answer, streamed', usage: { input: 21, output: 9 }, finish: 'length' }, { provider });
      const { data: stream, response } = await e.client.chat.completions.create({ model, messages: hi, stream: true }).withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(text, 'a longer answer, streamed');
      const { request, attempts } = await traceOf(receiver, response.headers.get('x-request-id')!, 1);
      const a = request.attributes;
      assert.equal(a['gen_ai.request.stream'], true);
      assert.equal(a['gen_ai.provider.name'], provider);
      assert.equal(a['gen_ai.usage.input_tokens'], 21);
      assert.equal(a['gen_ai.usage.output_tokens'], 9);
      assert.deepEqual(a['gen_ai.response.finish_reasons'], ['length']);
      assert.equal(typeof a['switchboard.ttft_ms'], 'number');
      assert.equal(typeof a['gen_ai.response.time_to_first_chunk'], 'number');
      // The attempt ends once the stream is accepted (its first chunk); the request, once the last one is sent.
      assert.ok(attempts[0]!.endNs <= request.endNs);
    });
  }

  test('a failed request: the request span is an error with the status the client got', async () => {
    e.fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
    let status = 0;
    let requestId = '';
    try {
      await e.client.chat.completions.create({ model: 'fragile', messages: hi });
    } catch (err) {
      assert.ok(err instanceof APIError, String(err));
      status = err.status ?? 0;
      requestId = err.headers?.get('x-request-id') ?? '';
    }
    assert.ok(status >= 500, `status ${status}`);
    const { request, attempts } = await traceOf(receiver, requestId, 1);
    assert.equal(request.status.code, STATUS_CODE.error);
    assert.equal(request.attributes['http.response.status_code'], status);
    assert.equal(typeof request.attributes['error.type'], 'string');
    assert.equal(request.attributes['gen_ai.response.model'], undefined, 'nothing answered');
    assert.equal(attempts[0]!.status.code, STATUS_CODE.error);
    assert.equal(attempts[0]!.attributes['http.response.status_code'], 503);
  });

  test('a request refused before any attempt is a span without children and without error status', async () => {
    const res = await fetch(`${e.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-wrong' },
      body: JSON.stringify({ model: 'sturdy', messages: hi }),
    });
    assert.equal(res.status, 401);
    const spans = await receiver.waitFor((all) => all.some((s) => s.attributes['switchboard.request_id'] === res.headers.get('x-request-id')));
    const request = spans.find((s) => s.attributes['switchboard.request_id'] === res.headers.get('x-request-id'))!;
    assert.equal(request.attributes['http.response.status_code'], 401);
    assert.equal(request.status.code, STATUS_CODE.unset, "the client's mistake, not the gateway's failure");
    assert.equal(spans.filter((s) => s.parentSpanId === request.spanId).length, 0);
    assert.equal(e.fake.received.length, 0);
  });
});

describe('tracing off', () => {
  test('the OpenTelemetry SDK is not loaded, there is no tracer, and no traceparent goes upstream', async () => {
    const fake = await startFakeProviders();
    const config = parseConfig(
      `storage: { database: "sqlite::memory:" }
auth: { master_key: ${MASTER}, secret: ${'s'.repeat(40)} }
providers:
  openai: { type: openai, api_key: sk-fake, base_url: "${fake.url}/openai/v1" }
`,
      {},
      'test',
    );
    const logger = createLogger({ level: 'silent' });
    const services = createServices(config, logger, await openGatewayDependencies(config, logger, {}));
    const app = buildApp(services);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${MASTER}`, traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
        payload: { model: 'openai/gpt-4o-mini', messages: hi },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(services.tracing, undefined);
      assert.equal(fake.received.length, 1);
      assert.equal(fake.received[0]!.headers.traceparent, undefined);
      // The API alone may be there (prom-client loads it, for exemplars); it is a no-op without an SDK.
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /@opentelemetry\/(?!api\/)/.test(path));
      assert.deepEqual(loaded, []);
    } finally {
      await app.close();
      await services.close();
      await fake.close();
    }
  });
});
