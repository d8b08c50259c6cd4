// POST /v1/responses: OpenAI's Responses API. A target whose provider serves it (OpenAI) gets the client's request
// natively, so stored state and built-in tools keep working; every other target gets it translated to a chat
// completion and back, so Responses clients (the OpenAI SDKs, Codex, agent frameworks) can use any provider.

import type { FastifyInstance } from 'fastify';
import { badUpstreamResponse } from '../../core/errors.ts';
import { jsonText } from '../../core/json-text.ts';
import type { ChatChunk, ChatResponse } from '../../core/types.ts';
import { oncePerTarget, routeChat, streamTranslator } from '../../pipeline/call.ts';
import { canonicalReader } from '../../pipeline/upstream-stream.ts';
import type { StreamEvent, StreamReader } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import { requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { type SseEncoder, writeSse } from '../../server/sse.ts';
import { parseResponsesEnvelope, parseResponsesRequest, type ResponsesRequest, toCanonicalRequest } from './request.ts';
import { responseEcho, toResponsesResponse } from './response.ts';
import { ResponsesStreamEncoder, responsesEventEncoder } from './stream.ts';

const native = (t: Target) => t.adapter.native?.responses;

/** A native answer goes out as it came, but only if it is a response object at all. */
function nativeBody(body: unknown, t: Target): object {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badUpstreamResponse(`${t.provider.name}: the response is not a JSON object`, t.provider.name);
  return body;
}

type Answer = { native: true; body: object } | { native: false; response: ChatResponse };
type Item = ChatChunk | StreamEvent;

export function registerResponsesRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, config, pricing } = services;

  app.post('/v1/responses', async (req, reply) => {
    const envelope = parseResponsesEnvelope(req.body);
    const raw = req.body as Record<string, unknown>;
    const stream = envelope.stream === true;
    const ctx = requestContext(req, reply, {
      surface: 'responses',
      operation: 'chat',
      model: envelope.model,
      stream,
      sizing: { prompt: [raw.instructions, raw.input, raw.tools], maxOutputTokens: typeof raw.max_output_tokens === 'number' ? raw.max_output_tokens : undefined },
    });
    return pipeline.run(ctx, async () => {
      // Checked in full only when some target needs the translation: OpenAI judges what it is sent itself.
      let parsed: ResponsesRequest | undefined;
      const translated = () => (parsed ??= parseResponsesRequest(raw));
      const canonical = oncePerTarget((t) => toCanonicalRequest(translated(), t.provider.name));
      routeChat(ctx, () => canonical(ctx.route!.targets[0]!));
      const build = (t: Target) => native(t)?.buildRequest(raw, t.model, t.provider, req.headers) ?? t.adapter.buildChatRequest(canonical(t), t.model, t.provider);

      if (stream) {
        const reader = (t: Target): StreamReader<Item> =>
          (native(t)?.createStreamReader(t.provider.name) ?? canonicalReader(streamTranslator(t, canonical(t)))) as StreamReader<Item>;
        const upstream = await caller.stream(ctx, build, reader);
        const encoder = (native(upstream.target) ? responsesEventEncoder() : new ResponsesStreamEncoder(responseEcho(translated()))) as SseEncoder<Item>;
        await writeSse(reply, upstream, ctx, config.server.body_limit, encoder);
        return reply;
      }

      const answer = await caller.call<Answer>(ctx, build, (body, t) =>
        native(t) ? { native: true, body: nativeBody(body, t) } : { native: false, response: t.adapter.parseChatResponse(body, t.model) },
      );
      if (answer.native) {
        ctx.usage = native(ctx.target!)!.usage(answer.body);
        return sendJson(reply, ctx, jsonText(answer.body), pricing);
      }
      ctx.usage = answer.response.usage;
      return sendJson(reply, ctx, JSON.stringify(toResponsesResponse(answer.response, responseEcho(translated()))), pricing);
    });
  });
}
