// A local OTLP/HTTP trace receiver for the tracing tests: plain node:http on 127.0.0.1, accepting POST /v1/traces in
// the JSON encoding (the one @opentelemetry/exporter-trace-otlp-http sends), each span flattened for assertions.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** OTLP span kinds (SPAN_KIND_*). */
export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;
/** OTLP status codes (STATUS_CODE_*). */
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  /** Values decoded: strings, numbers (ints included), booleans, arrays of those. */
  attributes: Record<string, unknown>;
  status: { code: number; message: string | undefined };
  startNs: bigint;
  endNs: bigint;
  /** The resource the span was exported with (service.name, service.version…). */
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** http://127.0.0.1:<port>, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Every export request's headers, in order. */
  exports: http.IncomingHttpHeaders[];
  /** Resolves with the spans once `ready(spans)` holds (polling), or rejects after `timeoutMs`. */
  waitFor(ready: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
}
interface TracesRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function decode(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decode);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, decode(kv.value)]));
}

function flatten(body: TracesRequest): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || undefined,
        name: s.name,
        kind: s.kind,
        attributes: attributes(s.attributes),
        status: { code: s.status?.code ?? STATUS_CODE.unset, message: s.status?.message },
        startNs: BigInt(s.startTimeUnixNano),
        endNs: BigInt(s.endTimeUnixNano),
        resource,
      })),
    );
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!req.headers['content-type']?.startsWith('application/json')) {
        res.writeHead(415, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'this receiver takes OTLP/JSON only' }));
        return;
      }
      exports.push(req.headers);
      spans.push(...flatten(JSON.parse(Buffer.concat(chunks).toString('utf8')) as TracesRequest));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    exports,
    async waitFor(ready, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (!ready(spans)) {
        if (Date.now() > until) throw new Error(`the spans expected did not arrive within ${timeoutMs} ms; got:\n${spans.map((s) => `  ${s.name} ${s.spanId}`).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
