// The one upstream HTTP client. One undici Pool per configured provider (keep-alive connections reused across requests,
// timeouts from that provider's config); undici's request API is several times cheaper per call than fetch.

import { Pool, type Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
import type { ProviderConfig, UpstreamCall } from '../providers/types.ts';
import type { RequestAbort } from './abort.ts';
import { Deadlines } from './deadlines.ts';

export type UpstreamResponse = Dispatcher.ResponseData;

/** The reason a request's controller is aborted with when a provider exceeds its total_ms. */
export class TotalTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no complete answer within total_ms (${ms} ms)`);
    this.name = 'TotalTimeout';
  }
}

/** Raised when the client went away; there is nobody left to answer. */
export class ClientAbortedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientAbortedError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * Turns a transport failure into the error the client sees: 504 for timeouts, 502 for a provider that could not be
 * reached (phase 'send') or whose connection broke while the answer was coming in (phase 'body').
 */
export function transportError(err: unknown, provider: ProviderConfig, signal: RequestAbort, phase: 'send' | 'body' = 'send'): Error {
  const timeout = (what: string) =>
    new GatewayError(504, 'timeout_error', `${provider.name}: ${what}`, { code: 'upstream_timeout', provider: provider.name });
  if (signal.aborted) return signal.reason instanceof TotalTimeout ? timeout(signal.reason.message) : new ClientAbortedError();
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code ?? '';
  const t = provider.timeouts;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return timeout(`no response within first_byte_ms (${t.first_byte_ms} ms)`);
  if (code === 'UND_ERR_BODY_TIMEOUT') return timeout(`the response stalled for longer than idle_ms (${t.idle_ms} ms)`);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return timeout(`could not connect within connect_ms (${t.connect_ms} ms)`);
  const detail = NETWORK_CODES.has(code) ? code : (err as Error).message ?? String(err);
  const [what, errorCode] = phase === 'send' ? ['could not reach the provider', 'upstream_unreachable'] : ['the connection broke while the answer was arriving', 'upstream_connection_lost'];
  return new GatewayError(502, 'upstream_error', `${provider.name}: ${what} (${detail})`, { code: errorCode, provider: provider.name });
}

/** Where a call's URL goes: parsed once per URL (a `new URL` per request cost 0.3 µs). */
interface Destination {
  origin: string;
  path: string;
}

/** Enough for every provider and deployment path a gateway calls; a client's model ids only vary the path on a few. */
const DESTINATIONS_MAX = 10_000;

export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();
  private readonly destinations = new Map<string, Destination>();
  private readonly deadlines = new Deadlines();

  private pool(provider: ProviderConfig, origin: string): Pool {
    // A target may connect with its own connect_ms (routing: targets[].timeouts), and a pool connects with one.
    const key = `${provider.name} ${origin} ${provider.timeouts.connect_ms}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        connect: { timeout: provider.timeouts.connect_ms },
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private destination(url: string): Destination {
    let destination = this.destinations.get(url);
    if (!destination) {
      const parsed = new URL(url);
      destination = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (this.destinations.size >= DESTINATIONS_MAX) this.destinations.clear();
      this.destinations.set(url, destination);
    }
    return destination;
  }

  /**
   * Sends a call and returns once the response headers arrived. `abort` is the request's own: the client
   * disconnecting trips it, and so does the provider's total_ms, which bounds the whole call including the body the
   * caller reads afterwards; `release` stops that clock once the caller is done with the body.
   */
  async send(call: UpstreamCall, provider: ProviderConfig, abort: RequestAbort): Promise<{ response: UpstreamResponse; release: () => void }> {
    const { origin, path } = this.destination(call.url);
    const signal = abort;
    const release = this.deadlines.add(provider.timeouts.total_ms, () => abort.abort(new TotalTimeout(provider.timeouts.total_ms)));
    try {
      const response = await this.pool(provider, origin).request({
        method: call.method,
        path,
        headers: call.headers,
        body: call.bytes ?? call.body ?? null,
        signal,
        headersTimeout: provider.timeouts.first_byte_ms,
        bodyTimeout: provider.timeouts.idle_ms,
      });
      return { response, release };
    } catch (err) {
      release();
      throw transportError(err, provider, signal);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
