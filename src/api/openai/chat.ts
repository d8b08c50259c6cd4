// POST /v1/chat/completions

import type { FastifyInstance } from 'fastify';
import { jsonText } from '../../core/json-text.ts';
import { requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { openaiChunkEncoder, openaiChunkEncoderWithoutUsage, writeSse } from '../../server/sse.ts';
import { openaiTextReader } from '../../pipeline/upstream-stream.ts';
import { parseChatRequest } from './schemas.ts';

export function registerChatRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, config, pricing } = services;
  app.post('/v1/chat/completions', async (req, reply) => {
    const body = parseChatRequest(req.body);
    const stream = body.stream === true;
    const ctx = requestContext(req, reply, {
      surface: 'openai',
      operation: 'chat',
      model: body.model,
      stream,
      sizing: { prompt: [body.messages, body.tools], maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined },
    });
    return pipeline.run(ctx, async () => {
      if (stream) {
        // Usage is always asked of the provider, so every stream is accounted for; the client gets the usage chunk
        // only if it asked for it too.
        const wantsUsage = body.stream_options?.include_usage === true;
        const upstream = wantsUsage ? body : { ...body, stream_options: { ...body.stream_options, include_usage: true } };
        const stream = await caller.chatStream(ctx, upstream, openaiTextReader);
        await writeSse(reply, stream, ctx, config.server.body_limit, wantsUsage ? openaiChunkEncoder : openaiChunkEncoderWithoutUsage);
        return reply;
      }
      const response = await caller.chat(ctx, body);
      return sendJson(reply, ctx, jsonText(response), pricing);
    });
  });
}
