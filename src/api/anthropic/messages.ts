// POST /v1/messages and /v1/messages/count_tokens: the Anthropic Messages API. A target whose provider speaks it
// (Anthropic) gets the client's request natively; every other target gets it translated to the canonical shape and
// back, so Anthropic SDK clients (Claude Code included) can use any provider.

import type { FastifyInstance } from 'fastify';
import { jsonText } from '../../core/json-text.ts';
import type { ChatChunk, ChatResponse } from '../../core/types.ts';
import { oncePerTarget, routeChat, streamTranslator } from '../../pipeline/call.ts';
import { canonicalReader } from '../../pipeline/upstream-stream.ts';
import type { StreamEvent, StreamReader } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import { requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { type SseEncoder, writeSse } from '../../server/sse.ts';
import { estimateTokens } from '../../usage/estimate-tokens.ts';
import { parseBody } from '../validation.ts';
import { messagesRequestSchema, parseMessagesRequest, toCanonicalRequest } from './request.ts';
import { anthropicError, toAnthropicMessage } from './response.ts';
import { AnthropicStreamEncoder, anthropicEventEncoder } from './stream.ts';

const native = (t: Target) => t.adapter.native?.anthropic;
const where = (t: Target) => `provider '${t.provider.name}' (type ${t.provider.type})`;

type Answer = { native: true; body: unknown } | { native: false; response: ChatResponse };

const countTokensSchema = messagesRequestSchema.extend({ max_tokens: messagesRequestSchema.shape.max_tokens.optional() });

export function registerAnthropicRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, config, pricing } = services;
  const options = { config: { errorShape: anthropicError } };

  app.post('/v1/messages', options, async (req, reply) => {
    const body = parseMessagesRequest(req.body);
    const raw = req.body as Record<string, unknown>;
    const stream = body.stream === true;
    const ctx = requestContext(req, reply, {
      surface: 'anthropic',
      operation: 'chat',
      model: body.model,
      stream,
      sizing: { prompt: [body.system, body.messages, body.tools], maxOutputTokens: body.max_tokens },
    });
    return pipeline.run(ctx, async () => {
      const canonical = oncePerTarget((t) => toCanonicalRequest(body, where(t)));
      routeChat(ctx, () => canonical(ctx.route!.targets[0]!));
      const build = (t: Target) => native(t)?.buildRequest(raw, t.model, t.provider, req.headers) ?? t.adapter.buildChatRequest(canonical(t), t.model, t.provider);
      if (stream) {
        const reader = (t: Target): StreamReader<ChatChunk | StreamEvent> =>
          (native(t)?.createStreamReader(t.provider.name) ?? canonicalReader(streamTranslator(t, canonical(t)))) as StreamReader<ChatChunk | StreamEvent>;
        const upstream = await caller.stream(ctx, build, reader);
        const encoder = (native(upstream.target) ? anthropicEventEncoder : new AnthropicStreamEncoder(body.model)) as SseEncoder<ChatChunk | StreamEvent>;
        await writeSse(reply, upstream, ctx, config.server.body_limit, encoder);
        return reply;
      }
      const answer = await caller.call<Answer>(ctx, build, (parsed, t) =>
        native(t) ? { native: true, body: parsed } : { native: false, response: t.adapter.parseChatResponse(parsed, t.model) },
      );
      if (answer.native) {
        ctx.usage = native(ctx.target!)!.usage(answer.body);
        return sendJson(reply, ctx, jsonText(answer.body as object), pricing);
      }
      ctx.usage = answer.response.usage;
      return sendJson(reply, ctx, JSON.stringify(toAnthropicMessage(answer.response, body.model)), pricing);
    });
  });

  app.post('/v1/messages/count_tokens', options, async (req, reply) => {
    const body = parseBody(countTokensSchema, req.body);
    const ctx = requestContext(req, reply, { surface: 'anthropic', operation: 'count_tokens', model: body.model, stream: false });
    return pipeline.run(ctx, async () => {
      const target = ctx.route!.targets[0]!;
      const counter = native(target)?.buildCountTokensRequest;
      if (!counter) {
        // No provider of this route counts Anthropic requests: an estimate, the same for every target.
        const { model: _model, max_tokens: _max, stream: _stream, ...counted } = body;
        return sendJson(reply, ctx, JSON.stringify({ input_tokens: estimateTokens(counted) }));
      }
      // Counted by the route's first provider alone: a different provider's count would not be this model's.
      ctx.route = { ...ctx.route!, targets: [target] };
      const counted = await caller.call(ctx, (t) => counter(req.body as Record<string, unknown>, t.model, t.provider, req.headers), (parsed) => parsed);
      return sendJson(reply, ctx, jsonText(counted as object));
    });
  });
}
