// OpenTelemetry traces over OTLP/HTTP, off unless asked for. The standard OTEL_* variables configure everything, read by
// the SDK itself: the endpoint and headers (the exporter), the sampler and the batching (the tracer provider and its
// span processor), the service name and resource attributes (the env detector). The gateway decides only whether
// tracing is on, and imports the SDK and the tracing stage only then: a gateway without tracing loads none of
// OpenTelemetry, and its pipeline has no tracing stage.

import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Stage } from '../pipeline/stages.ts';
import type { Logger } from './logger.ts';

export interface Tracing {
  /** Goes first in the pipeline. */
  readonly stage: Stage;
  /** The origin spans are exported to, for the banner: never the path or the headers, which may hold credentials. */
  readonly endpoint: string;
  /** Exports the spans still queued, then stops the exporter; never rejects. */
  shutdown(): Promise<void>;
}

/** A variable as the SDK reads it: trimmed, and unset when empty. */
function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** `tracing.enabled`, or when unset, whether OTEL_TRACES_EXPORTER names otlp; OTEL_SDK_DISABLED=true turns it off. */
export function tracingEnabled(config: Config['tracing'], env: NodeJS.ProcessEnv): boolean {
  if (variable(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return false;
  return config.enabled ?? (variable(env, 'OTEL_TRACES_EXPORTER') ?? '').split(',').some((name) => name.trim() === 'otlp');
}

function parsedUrl(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * The origin the exporter sends to, chosen as it chooses: the traces endpoint, else the general one, else the OTLP/HTTP
 * default; a variable that is not a URL is passed over.
 */
export function exportOrigin(env: NodeJS.ProcessEnv): string {
  const url =
    parsedUrl(variable(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')) ?? parsedUrl(variable(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')) ?? new URL('http://localhost:4318');
  return url.origin;
}

/**
 * Starts the tracer provider when tracing is on. `env` decides whether it is; the SDK reads its own settings from
 * process.env.
 */
export async function openTracing(config: Pick<Config, 'tracing'>, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingEnabled(config.tracing, env)) return undefined;
  const [api, core, sdk, otlp, resources, semconv, stage] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('../pipeline/stages/tracing.ts'),
  ]);
  // Failed exports and unusable OTEL_* settings reach the gateway's log instead of nowhere.
  const warn = (message: string) => logger.warn(`opentelemetry: ${message}`);
  const quiet = () => undefined;
  api.diag.setLogger({ error: warn, warn, info: quiet, debug: quiet, verbose: quiet }, { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true });

  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the env detector, override the gateway's own name.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: 'switchboard', [semconv.ATTR_SERVICE_VERSION]: version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter())] });
  return {
    stage: stage.tracingStage(provider.getTracer('switchboard', version), new core.W3CTraceContextPropagator()),
    endpoint: exportOrigin(process.env),
    // A collector that is down costs the last spans, never the rest of the shutdown.
    shutdown: () =>
      provider.shutdown().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'opentelemetry: the last spans could not be exported')),
  };
}
