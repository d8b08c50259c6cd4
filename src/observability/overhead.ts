// x-switchboard-overhead-ms: the time the gateway itself added to a response, so users can check the performance claim
// on their own traffic. It is the time from the request's arrival to its response headers, less the time spent waiting
// on providers and backing off between attempts (RequestContext.upstreamMs). For a stream it is measured when the
// headers go out, after the first chunk: the chunks that follow are relayed as they come.

import type { FastifyInstance } from 'fastify';
import type { RequestContext } from '../pipeline/context.ts';

export const OVERHEAD_HEADER = 'x-switchboard-overhead-ms';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived (onRequest), before its body was read. */
    arrivedAt: number;
    /** The pipeline context of a proxied request, once its route has made one. */
    pipeline: RequestContext | null;
  }
}

/** Milliseconds to the hundredth: for people and dashboards, not for nanosecond accounting. */
export function overheadMs(startedAt: number, upstreamMs: number, now = performance.now()): number {
  return Math.max(0, Math.round((now - startedAt - upstreamMs) * 100) / 100);
}

/** The header's value, always with two decimals. */
export function overheadHeaderValue(startedAt: number, upstreamMs: number): string {
  return overheadMs(startedAt, upstreamMs).toFixed(2);
}

/** Stamps every request's arrival, and every response Fastify sends (answers, errors, admin calls) with its overhead. */
export function overheadHeader(app: FastifyInstance): void {
  app.decorateRequest('arrivedAt', 0);
  app.decorateRequest('pipeline', null);
  app.addHook('onSend', (req, reply, payload, done) => {
    const ctx = req.pipeline;
    reply.header(OVERHEAD_HEADER, overheadHeaderValue(req.arrivedAt, ctx === null ? 0 : ctx.upstreamMs));
    done(null, payload);
  });
}
