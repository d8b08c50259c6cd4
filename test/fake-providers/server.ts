// One HTTP server speaking the OpenAI, Anthropic and Gemini wire formats, for end-to-end tests (in-process, scripted,
// with injected faults) and for the benchmark (own process, fixed latency, no recording). It is plain node:http rather
// than Fastify: the fakes need to cut and stall sockets at will, and the benchmark wants the leanest possible hot path.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropic } from './anthropic.ts';
import { azure } from './azure.ts';
import { bedrock } from './bedrock.ts';
import { cohere } from './cohere.ts';
import { gemini } from './gemini.ts';
import { mistral } from './mistral.ts';
import { openai } from './openai.ts';
import { resolve } from './scenario.ts';
import { vertex } from './vertex.ts';
import type { Fault, JsonReply, ProviderName, RecordedRequest, Scenario, WireFormat } from './types.ts';

export type { Fault, RecordedRequest, Scenario, ScenarioToolCall } from './types.ts';

export interface FakeProviders {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  received: RecordedRequest[];
  /** Model calls whose client closed the connection before the answer was complete (a gateway aborting upstream). */
  readonly abandoned: number;
  /**
   * Queues a scenario: the next matching model call (chat, messages, generate, embed) renders it (FIFO). Listings,
   * 404s and rejected requests never take scripts or faults, so a gateway's probes cannot steal them.
   */
  script(s: Scenario, opts?: { provider?: ProviderName }): void;
  /** The next `times` (default 1) matching model calls suffer the fault. */
  fault(f: Fault, opts?: { provider?: ProviderName; times?: number }): void;
  /** Clears received, scripts and faults. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeProvidersOptions {
  port?: number;
  host?: string;
  /** Fixed delay before the headers of every response. */
  latencyMs?: number;
  /** Delay between two events of a stream; by default events go out back to back. */
  streamEventDelayMs?: number;
  /** false: keep no record of requests (the benchmark, whose memory would otherwise grow). */
  record?: boolean;
}

const FORMATS: WireFormat[] = [openai, anthropic, gemini, azure, vertex, bedrock, cohere, mistral];

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

const isText = (events: string[] | Uint8Array[]): events is string[] => typeof events[0] === 'string';

/** FIFO of items addressed to one provider or to any; an item serves `times` matching takes. */
class Queue<T> {
  private items: { value: T; provider: ProviderName | undefined; times: number }[] = [];

  push(value: T, provider: ProviderName | undefined, times: number): void {
    if (times > 0) this.items.push({ value, provider, times });
  }

  take(provider: ProviderName): T | undefined {
    if (this.items.length === 0) return undefined;
    const i = this.items.findIndex((e) => e.provider === undefined || e.provider === provider);
    const e = this.items[i];
    if (e === undefined) return undefined;
    if (--e.times === 0) this.items.splice(i, 1);
    return e.value;
  }

  clear(): void {
    this.items = [];
  }
}

function formatFor(path: string): WireFormat | undefined {
  for (const f of FORMATS) {
    if (path.startsWith(f.prefix) && (path.length === f.prefix.length || path[f.prefix.length] === '/')) return f;
  }
  return undefined;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

/** A multipart form as its fields: text values as strings, files as { filename, type, size }, a repeated name as a list. */
async function formFields(raw: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form) {
    const v = typeof value === 'string' ? value : { filename: value.name, type: value.type, size: value.size };
    const seen = fields[name];
    fields[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return fields;
}

function flatten(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function sendJson(res: http.ServerResponse, reply: JsonReply): void {
  const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

/** Responses this server cut on purpose, so they are not counted as abandoned by the client. */
const cutOnPurpose = new WeakSet<http.ServerResponse>();

/** Kills the connection once everything written so far has reached the socket, so the client sees exactly that. */
function cutConnection(res: http.ServerResponse): void {
  cutOnPurpose.add(res);
  res.flushHeaders();
  const socket = res.socket;
  socket?.write('', () => socket.destroy());
}

function statusReply(format: WireFormat, f: Fault & { kind: 'status' }): JsonReply {
  let reply: JsonReply;
  if (f.body === undefined) {
    reply = format.error(f.status, `Injected fault: HTTP ${f.status}`);
  } else {
    // A raw body may be anything a proxy in front of a provider returns, an HTML error page included.
    let json = true;
    try {
      JSON.parse(f.body);
    } catch {
      json = false;
    }
    reply = { kind: 'json', status: f.status, body: f.body, headers: { 'content-type': json ? 'application/json' : 'text/plain; charset=utf-8' } };
  }
  if (f.retryAfter !== undefined) reply.headers = { ...reply.headers, 'retry-after': f.retryAfter };
  return reply;
}

export async function startFakeProviders(opts: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const latencyMs = opts.latencyMs ?? 0;
  const eventDelayMs = opts.streamEventDelayMs ?? 0;
  const record = opts.record ?? true;
  const received: RecordedRequest[] = [];
  const scripts = new Queue<Scenario>();
  const faults = new Queue<Fault>();
  let abandoned = 0;

  /** Server-sent events (strings) or binary frames, each element one event. */
  async function stream(req: http.IncomingMessage, res: http.ServerResponse, events: string[] | Uint8Array[], headers: http.OutgoingHttpHeaders, cutAfter?: number) {
    const n = cutAfter === undefined ? events.length : Math.min(cutAfter, events.length);
    res.writeHead(200, headers);
    if (eventDelayMs === 0) {
      // One write: the client still parses the same events, and the benchmark saves a syscall per event.
      const first = events.slice(0, n);
      const body = isText(first) ? first.join('') : Buffer.concat(first);
      if (cutAfter === undefined) return void res.end(body);
      if (body.length > 0) res.write(body);
    } else {
      for (let i = 0; i < n; i++) {
        if (i > 0) await sleep(eventDelayMs);
        if (req.socket.destroyed) return;
        res.write(events[i]);
      }
      if (cutAfter === undefined) return void res.end();
    }
    cutConnection(res);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const raw = await readBody(req);
    const format = formatFor(path);
    if (format === undefined) return sendJson(res, openai.error(404, `No fake provider at ${path}; use /openai/v1, /anthropic or /gemini`));

    const query: Record<string, string> = q < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
    let body: unknown;
    let malformed = false;
    if (raw.length > 0) {
      const text = raw.toString('utf8');
      // Token endpoints (the fake Microsoft Entra ID) take HTML forms, not JSON.
      const contentType = req.headers['content-type'] ?? '';
      if (contentType.startsWith('application/x-www-form-urlencoded')) {
        body = Object.fromEntries(new URLSearchParams(text));
      } else if (contentType.startsWith('multipart/form-data')) {
        // Audio uploads (OpenAI transcriptions).
        try {
          body = await formFields(raw, contentType);
        } catch {
          malformed = true;
          body = text;
        }
      } else {
        try {
          body = JSON.parse(text);
        } catch {
          malformed = true;
          body = text;
        }
      }
    }
    if (record) received.push({ provider: format.name, method, path, query, headers: flatten(req.headers), body });
    if (latencyMs > 0) await sleep(latencyMs);

    const route = format.route({ method, path: path.slice(format.prefix.length), query, headers: req.headers, rawBody: raw });
    if (typeof route !== 'function') return sendJson(res, route);
    if (malformed) return sendJson(res, format.error(400, 'The request body is not valid JSON'));
    const call = route(body);
    if (!('render' in call)) return sendJson(res, call);
    res.once('close', () => {
      if (!res.writableFinished && !cutOnPurpose.has(res)) abandoned++;
    });

    // Faults that replace the answer (status, hang) leave the scripts queued for the retry; latency and cut do not.
    const fault = faults.take(format.name);
    if (fault?.kind === 'status') return sendJson(res, statusReply(format, fault));
    if (fault?.kind === 'hang') return; // close() destroys the socket
    if (fault?.kind === 'latency') await sleep(fault.ms);
    if (req.socket.destroyed) return;

    const reply = call.render(resolve(scripts.take(format.name), call.conversation));
    const cutAfter = fault?.kind === 'cut' ? fault.afterEvents : undefined;
    if (reply.kind === 'sse') return stream(req, res, reply.events, SSE_HEADERS, cutAfter);
    if (reply.kind === 'binary') return stream(req, res, reply.frames, { 'content-type': reply.contentType }, cutAfter);
    if (cutAfter === undefined) return sendJson(res, reply);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON.stringify(reply.body)) });
    cutConnection(res);
  }

  const server = http.createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, { kind: 'json', status: 500, body: { error: { message: `fake provider crashed: ${String(err)}` } } });
    });
  });
  // Clients (the gateway's undici pools, the benchmark) keep connections open across long idle gaps between tests.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    received,
    get abandoned() {
      return abandoned;
    },
    script: (s, o) => scripts.push(s, o?.provider, 1),
    fault: (f, o) => faults.push(f, o?.provider, o?.times ?? 1),
    reset: () => {
      received.length = 0;
      abandoned = 0;
      scripts.clear();
      faults.clear();
    },
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((err) => (err ? fail(err) : done()));
        // Hanging and streaming responses would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}
