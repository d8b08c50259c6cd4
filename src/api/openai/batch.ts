// POST /v1/batch: many chat completions in one request. Each item runs through the same pipeline as a request to
// /v1/chat/completions, with its own context (auth, route, limits, usage), a bounded number at a time; the answers come
// back in input order, each with its own status, so one bad item does not fail the others.
//
//   request:  { "requests": [<chat completion request>, …], "concurrency"?: 1..32 (default 8) }
//   response: { "object": "batch.result", "data": [{ "index", "status", "response" } | { "index", "status", "error" }, …] }

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest, GatewayError } from '../../core/errors.ts';
import { jsonText } from '../../core/json-text.ts';
import { RequestAbort } from '../../http/abort.ts';
import { ClientAbortedError } from '../../http/client.ts';
import { newContext } from '../../pipeline/context.ts';
import { toGatewayError } from '../../server/errors.ts';
import { credentialOf } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { parseBody } from '../validation.ts';
import { parseChatRequest } from './schemas.ts';

export const MAX_BATCH_ITEMS = 1000;
export const DEFAULT_BATCH_CONCURRENCY = 8;
export const MAX_BATCH_CONCURRENCY = 32;

const batchSchema = z.strictObject({
  requests: z
    .array(z.unknown())
    .min(1, 'requests must hold at least one chat completion request')
    .max(MAX_BATCH_ITEMS, `a batch holds at most ${MAX_BATCH_ITEMS} requests; split it into several batches`),
  concurrency: z.number().int().min(1).max(MAX_BATCH_CONCURRENCY, `concurrency is at most ${MAX_BATCH_CONCURRENCY}`).optional(),
});

/**
 * Runs `fn` over the items with at most `limit` in flight, results in input order. Once `stopped()` is true no new
 * item starts (the client went away), and those never started stay undefined.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, stopped: () => boolean = () => false): Promise<(R | undefined)[]> {
  const results = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stopped()) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One item of the answer as JSON text; a successful response goes in as the text it came in (core/json-text). */
export function itemJson(index: number, outcome: { response: object } | { error: GatewayError }): string {
  if ('response' in outcome) return `{"index":${index},"status":200,"response":${jsonText(outcome.response)}}`;
  return JSON.stringify({ index, status: outcome.error.status, error: outcome.error.toOpenAI().error });
}

export function registerBatchRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, keyAuth, logger, config } = services;
  const bodyLimit = config.server.body_limit;
  // A refused key fails the whole batch at once rather than every item with the same 401; the items still run auth.
  const onRequest = async (req: FastifyRequest) => {
    await keyAuth.authenticate(credentialOf(req), req.ip);
  };

  app.post('/v1/batch', { onRequest }, async (req, reply) => {
    const { requests, concurrency = DEFAULT_BATCH_CONCURRENCY } = parseBody(batchSchema, req.body);
    const credential = credentialOf(req);
    const inFlight = new Set<RequestAbort>();
    let gone = false;
    reply.raw.on('close', () => {
      if (reply.raw.writableFinished) return;
      gone = true;
      for (const abort of inFlight) abort.abort(new ClientAbortedError());
    });

    const runItem = async (item: unknown, index: number): Promise<string> => {
      const abort = new RequestAbort();
      inFlight.add(abort);
      try {
        const body = parseChatRequest(item);
        if (body.stream === true) throw badRequest('A batch item cannot stream; leave stream out or set it to false', 'stream');
        const ctx = newContext({ id: `${req.id}-${index}`, surface: 'openai', operation: 'chat', model: body.model, stream: false, abort, credential, clientIp: req.ip, body: item });
        const response = await pipeline.run(ctx, () => caller.chat(ctx, body));
        return itemJson(index, { response });
      } catch (err) {
        const error = toGatewayError(err, bodyLimit);
        if (error.status >= 500 && !(err instanceof GatewayError) && !(err instanceof ClientAbortedError)) {
          logger.error({ err, request_id: `${req.id}-${index}` }, 'unhandled error');
        }
        return itemJson(index, { error });
      } finally {
        inFlight.delete(abort);
      }
    };

    const items = await mapBounded(requests, concurrency, runItem, () => gone);
    if (gone) throw new ClientAbortedError();
    return reply.header('content-type', 'application/json; charset=utf-8').send(`{"object":"batch.result","data":[${items.join(',')}]}`);
  });
}
