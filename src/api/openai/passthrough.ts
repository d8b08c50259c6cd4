// The OpenAI endpoints beyond chat and embeddings (legacy completions, images, audio, moderations), each run through
// the pipeline like a chat request. The target's adapter says whether its provider serves the operation
// (ProviderAdapter.operations) and builds the wire request; an OpenAI-wire provider gets the client's body with only
// the model replaced, and its answer goes back as it came.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { badUpstreamResponse, GatewayError, unsupportedParam } from '../../core/errors.ts';
import { jsonText } from '../../core/json-text.ts';
import type { Usage } from '../../core/types.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { OpenAIOperation, OperationAdapter, OperationBodies } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import { writeBytes } from '../../server/bytes.ts';
import { requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { openaiChunkEncoder, writeSse } from '../../server/sse.ts';

/**
 * How the answer goes back: a JSON object; OpenAI server-sent events (a streamed legacy completion); a whole body of
 * any content type (a transcript as JSON, text, SRT or VTT); or bytes streamed on as they arrive (audio).
 */
export type Delivery = 'json' | 'events' | 'bytes' | 'stream';

export interface OperationRequest<K extends OpenAIOperation> {
  operation: K;
  /** The model name the client sent, which the pipeline routes. */
  model: string;
  body: OperationBodies[K];
  delivery: Delivery;
}

/** What each operation is and where a client can get it, for the 400 a provider without it answers. */
const OPERATIONS: Record<OpenAIOperation, { what: string; where: string }> = {
  completions: {
    what: 'legacy text completions API',
    where: 'a model of OpenAI or an OpenAI-compatible server, or send the prompt as a user message to /v1/chat/completions',
  },
  images: { what: 'image generation API', where: 'an image model of OpenAI or an OpenAI-compatible server, or a Gemini Imagen model' },
  transcriptions: { what: 'audio transcription API', where: 'a transcription model of OpenAI or an OpenAI-compatible server' },
  speech: { what: 'text-to-speech API', where: 'a speech model of OpenAI or an OpenAI-compatible server' },
  moderations: { what: 'moderation API', where: 'a moderation model of OpenAI or an OpenAI-compatible server' },
};

/** How the target's provider serves the operation, or the 400 that says it does not. */
export function operationAdapter<K extends OpenAIOperation>(
  ctx: RequestContext,
  target: Target,
  operation: K,
  delivery: Delivery,
): OperationAdapter<OperationBodies[K]> {
  const { name, type } = target.provider;
  const adapter = target.adapter.operations?.[operation] as OperationAdapter<OperationBodies[K]> | undefined;
  if (!adapter) {
    const { what, where } = OPERATIONS[operation];
    throw new GatewayError(400, 'invalid_request_error', `Provider '${name}' (type ${type}) has no ${what}; route '${ctx.model}' to ${where}`, {
      param: 'model',
      code: 'unsupported_operation',
      provider: name,
    });
  }
  if (delivery === 'events' && !adapter.createStreamReader) {
    throw unsupportedParam(name, 'stream', `its ${OPERATIONS[operation].what} cannot stream through this gateway; send stream: false`);
  }
  return adapter;
}

function jsonObject(body: unknown, target: Target): object {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badUpstreamResponse(`${target.provider.name}: the provider answered with JSON that is not an object`, target.provider.name);
  }
  return body;
}

/** The usage in a whole answer of any content type; only a JSON one can carry it. */
function bytesUsage<B>(adapter: OperationAdapter<B>, body: Uint8Array, contentType: string | undefined): Usage | undefined {
  if (!adapter.usage || !contentType?.includes('json')) return undefined;
  try {
    return adapter.usage(JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')));
  } catch {
    return undefined;
  }
}

export function passOn<K extends OpenAIOperation>(services: Services, req: FastifyRequest, reply: FastifyReply, request: OperationRequest<K>): Promise<FastifyReply> {
  const { pipeline, caller, config } = services;
  const { operation, body, delivery } = request;
  const streamed = delivery === 'events' || delivery === 'stream';
  const ctx = requestContext(req, reply, { surface: 'openai', operation, model: request.model, stream: streamed });
  const adapterOf = (t: Target) => operationAdapter(ctx, t, operation, delivery);
  const build = (t: Target) => adapterOf(t).buildRequest(body, t.model, t.provider);

  return pipeline.run(ctx, async () => {
    switch (delivery) {
      case 'json': {
        const { answer, usage } = await caller.call(ctx, build, (data, t) => {
          const adapter = adapterOf(t);
          return { answer: adapter.parseResponse ? adapter.parseResponse(data, t.model) : jsonObject(data, t), usage: adapter.usage?.(data) };
        });
        ctx.usage = usage;
        return sendJson(reply, ctx, jsonText(answer), services.pricing);
      }
      case 'events': {
        const stream = await caller.stream(ctx, build, (t) => adapterOf(t).createStreamReader!(t.provider.name));
        await writeSse<string>(reply, stream, ctx, config.server.body_limit, openaiChunkEncoder);
        return reply;
      }
      case 'bytes': {
        const answer = await caller.bytes(ctx, build);
        const target = ctx.target!;
        ctx.usage = bytesUsage(adapterOf(target), answer.body, answer.contentType);
        return reply
          .header('x-switchboard-provider', target.provider.name)
          .header('content-type', answer.contentType ?? 'application/octet-stream')
          .send(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
      }
      case 'stream': {
        const stream = await caller.pipe(ctx, build);
        await writeBytes(reply, stream, ctx, config.server.body_limit);
        return reply;
      }
    }
  });
}
