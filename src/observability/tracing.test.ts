import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/helpers/otlp-receiver.ts';
import { RequestAbort } from '../http/abort.ts';
import { newContext } from '../pipeline/context.ts';
import type { Target } from '../routing/router.ts';
import { createLogger } from './logger.ts';
import { exportOrigin, openTracing, tracingEnabled } from './tracing.ts';

const logger = createLogger({ level: 'silent' });
const target = { id: 'p/m', model: 'm', provider: { name: 'p', type: 'openai', base_url: 'http://127.0.0.1:9/v1' } } as unknown as Target;
const CLIENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331';
let receiver: OtlpReceiver;
let requests = 0;

before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  logger.flush();
  await receiver?.close();
});

/**
 * Through a freshly opened tracer, one request with one attempt: the traceparent the attempt sends upstream, and the
 * spans exported for it (after the shutdown's flush).
 */
async function traced(env: Record<string, string>, clientTraceparent?: string): Promise<{ traceparent: string; exported: number }> {
  const saved = { ...process.env };
  // The SDK reads its settings from process.env itself.
  Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env });
  const id = `req-${++requests}`;
  try {
    const tracing = (await openTracing({ tracing: { enabled: true } }, logger, {}))!;
    const ctx = newContext({
      id,
      surface: 'openai',
      operation: 'chat',
      model: 'm',
      stream: false,
      abort: new RequestAbort(),
      credential: undefined,
      clientIp: '127.0.0.1',
      headers: clientTraceparent ? { traceparent: clientTraceparent } : {},
    });
    tracing.stage.before!(ctx);
    const attempt = ctx.trace!.attempt(target, 1);
    attempt.end({ status: 200 });
    tracing.stage.after!(ctx);
    await tracing.shutdown();
    const request = receiver.spans.find((s) => s.attributes['switchboard.request_id'] === id);
    const exported = request ? 1 + receiver.spans.filter((s) => s.parentSpanId === request.spanId).length : 0;
    return { traceparent: attempt.headers.traceparent!, exported };
  } finally {
    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', ...Object.keys(env)]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

test('off: no tracer, and nothing of the OpenTelemetry SDK is loaded', async () => {
  assert.equal(await openTracing({ tracing: {} }, logger, {}), undefined);
  assert.equal(await openTracing({ tracing: { enabled: false } }, logger, { OTEL_TRACES_EXPORTER: 'otlp' }), undefined);
  // The API alone would not matter (prom-client loads it): it is a no-op without an SDK.
  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /@opentelemetry\/(?!api\/)/.test(path));
  assert.deepEqual(loaded, []);
});

test('tracing.enabled decides; unset, OTEL_TRACES_EXPORTER naming otlp turns it on; OTEL_SDK_DISABLED turns it off', () => {
  assert.equal(tracingEnabled({}, {}), false);
  assert.equal(tracingEnabled({}, { OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(tracingEnabled({}, { OTEL_TRACES_EXPORTER: ' console, otlp ' }), true);
  assert.equal(tracingEnabled({}, { OTEL_TRACES_EXPORTER: 'none' }), false);
  assert.equal(tracingEnabled({ enabled: true }, {}), true);
  assert.equal(tracingEnabled({ enabled: false }, { OTEL_TRACES_EXPORTER: 'otlp' }), false);
  assert.equal(tracingEnabled({ enabled: true }, { OTEL_SDK_DISABLED: 'TRUE' }), false);
  assert.equal(tracingEnabled({}, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }), true);
});

test('the export origin is chosen as the exporter chooses its URL, and shows no credentials or path', () => {
  assert.equal(exportOrigin({}), 'http://localhost:4318');
  assert.equal(exportOrigin({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4318' }), 'https://collector.example.com:4318');
  assert.equal(
    exportOrigin({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://general.example.com', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://user:pw@traces.example.com/custom/v1/traces' }),
    'https://traces.example.com',
  );
  assert.equal(exportOrigin({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://general.example.com', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }), 'https://general.example.com');
  assert.equal(exportOrigin({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), 'http://localhost:4318');
});

test('the default sampler follows the client: its sampled flag goes on upstream, in its trace', async () => {
  const sampled = await traced({}, `${CLIENT}-01`);
  assert.match(sampled.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  assert.equal(sampled.exported, 2, 'the request span and its attempt');
  const unsampled = await traced({}, `${CLIENT}-00`);
  assert.match(unsampled.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/, 'propagated, though not recorded');
  assert.equal(unsampled.exported, 0);
  const root = await traced({});
  assert.match(root.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.equal(root.exported, 2);
});

test('OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG are honoured', async () => {
  assert.equal((await traced({ OTEL_TRACES_SAMPLER: 'always_off' })).exported, 0);
  assert.equal((await traced({ OTEL_TRACES_SAMPLER: 'always_on' }, `${CLIENT}-00`)).exported, 2);
  assert.equal((await traced({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).exported, 0);
  assert.equal((await traced({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, `${CLIENT}-01`)).exported, 2);
});

test('a collector that cannot be reached costs the spans, not the shutdown', async () => {
  // Port 9 (discard) has no listener here: the export fails at once.
  const { exported } = await traced({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TIMEOUT: '500' });
  assert.equal(exported, 0);
});

