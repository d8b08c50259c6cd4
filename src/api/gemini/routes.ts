// POST /v1beta/models/{model}:{method} and GET /v1beta/models: the Gemini API, as the Google GenAI SDKs speak it. A
// target whose provider speaks it (Gemini) gets the client's body natively; every other target gets it translated to
// the canonical shape and back, so Gemini clients can use any provider.
//
// The method sits in the last path segment after a colon, which Fastify's router reads as a parameter marker, and
// model names may hold slashes (`openai/gpt-4o`) and colons of their own (`ollama/llama3:8b`): so one wildcard route
// takes the rest of the path and splits it at its last colon.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, badUpstreamResponse, GatewayError } from '../../core/errors.ts';
import { jsonText } from '../../core/json-text.ts';
import type { ModelObject, Usage } from '../../core/types.ts';
import { checkModel, visibleModels } from '../../identity/model-access.ts';
import { oncePerTarget, routeChat, streamTranslator } from '../../pipeline/call.ts';
import type { Operation, Sizing } from '../../pipeline/context.ts';
import { isPlainObject } from '../../providers/shared.ts';
import type { UpstreamCall } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import { credentialOf, requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { writeSse } from '../../server/sse.ts';
import { estimateTokens } from '../../usage/estimate-tokens.ts';
import { toContentEmbeddings, toEmbeddingsRequest } from './embeddings.ts';
import { geminiErrorShape } from './errors.ts';
import { includeThoughts, toChatRequest } from './request.ts';
import { toGenerateContentResponse } from './response.ts';
import { GeminiChunkConverter, geminiSseEncoder, translatedReader } from './stream.ts';
import { parseBatchEmbedContents, parseCountTokens, parseEmbedContent, parseGenerateContent, type GenerateContentRequest } from './wire.ts';

type Method = 'generateContent' | 'streamGenerateContent' | 'countTokens' | 'embedContent' | 'batchEmbedContents';
type Body = Record<string, unknown>;
type Handler = (req: FastifyRequest, reply: FastifyReply, model: string, body: Body) => Promise<FastifyReply>;

/** What the gateway answers for every model: it cannot know which of them embed and which generate. */
const METHODS: Method[] = ['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'];

const where = (t: Target) => `provider '${t.provider.name}' (type ${t.provider.type})`;

/** The call that sends the client's body to `t` untranslated, when `t` speaks the Gemini API and this method of it. */
function nativeCall(t: Target, method: Method, req: FastifyRequest): ((body: Body) => UpstreamCall) | undefined {
  const native = t.adapter.native?.gemini;
  if (!native) return undefined;
  if (method === 'generateContent') return (body) => native.buildRequest(body, t.model, t.provider, req.headers);
  return native.buildMethodRequest && ((body) => native.buildMethodRequest!(method, body, t.model, t.provider));
}

function nativeBody(body: unknown, t: Target): object {
  if (!isPlainObject(body)) throw badUpstreamResponse(`${t.provider.name}: the provider answered with JSON that is not an object`, t.provider.name);
  return body;
}

/** Gemini's embeddings report no usage: zero rather than none, as the OpenAI surface records embeddings without it. */
const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

export function registerGeminiRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, config, router, keyAuth, pricing } = services;
  const options = { config: { errorShape: geminiErrorShape } };

  function context(req: FastifyRequest, reply: FastifyReply, operation: Operation, model: string, stream: boolean, sizing?: Sizing) {
    return requestContext(req, reply, { surface: 'gemini', operation, model, stream, sizing });
  }

  const generate = (stream: boolean): Handler => async (req, reply, model, body) => {
    const method: Method = stream ? 'streamGenerateContent' : 'generateContent';
    if (stream && (req.query as { alt?: string }).alt !== 'sse') {
      throw badRequest('This gateway streams Gemini answers as server-sent events only: call streamGenerateContent with ?alt=sse', 'alt');
    }
    const generation = isPlainObject(body.generationConfig) ? body.generationConfig : {};
    const maxOutputTokens = typeof generation.maxOutputTokens === 'number' ? generation.maxOutputTokens : undefined;
    const ctx = context(req, reply, 'chat', model, stream, { prompt: [body.systemInstruction, body.contents, body.tools], maxOutputTokens });
    return pipeline.run(ctx, async () => {
      let parsed: GenerateContentRequest | undefined;
      const request = () => (parsed ??= parseGenerateContent(body));
      const canonical = oncePerTarget((t) => toChatRequest(request(), model, stream, where(t)));
      routeChat(ctx, () => canonical(ctx.route!.targets[0]!));
      const build = (t: Target) => nativeCall(t, method, req)?.(body) ?? t.adapter.buildChatRequest(canonical(t), t.model, t.provider);

      if (stream) {
        const upstream = await caller.stream(ctx, build, (t) =>
          nativeCall(t, method, req)
            ? t.adapter.native!.gemini!.createStreamReader(t.provider.name)
            : translatedReader(streamTranslator(t, canonical(t)), new GeminiChunkConverter(includeThoughts(request()))),
        );
        await writeSse(reply, upstream, ctx, config.server.body_limit, geminiSseEncoder);
        return reply;
      }
      const answer = await caller.call(ctx, build, (parsedBody, t) => {
        if (nativeCall(t, method, req)) return { text: jsonText(nativeBody(parsedBody, t)), usage: t.adapter.native!.gemini!.usage(parsedBody) };
        const response = t.adapter.parseChatResponse(parsedBody, t.model);
        return { text: JSON.stringify(toGenerateContentResponse(response, includeThoughts(request()))), usage: response.usage };
      });
      ctx.usage = answer.usage;
      return sendJson(reply, ctx, answer.text, pricing);
    });
  };

  const countTokens: Handler = async (req, reply, model, body) => {
    const ctx = context(req, reply, 'count_tokens', model, false);
    return pipeline.run(ctx, async () => {
      const target = ctx.route!.targets[0]!;
      if (!nativeCall(target, 'countTokens', req)) {
        // The route's provider cannot count Gemini requests: an estimate over what the prompt holds.
        const { contents, systemInstruction, tools } = parseCountTokens(body);
        const { messages, tools: functions } = toChatRequest({ contents, systemInstruction, tools }, model, false, where(target));
        return sendJson(reply, ctx, JSON.stringify({ totalTokens: estimateTokens({ messages, tools: functions }) }));
      }
      // Counted by the route's first provider alone: a different provider's count would not be this model's.
      ctx.route = { ...ctx.route!, targets: [target] };
      const counted = await caller.call(ctx, (t) => nativeCall(t, 'countTokens', req)!(body), (parsedBody, t) => jsonText(nativeBody(parsedBody, t)));
      return sendJson(reply, ctx, counted);
    });
  };

  const embed = (batch: boolean): Handler => async (req, reply, model, body) => {
    const method: Method = batch ? 'batchEmbedContents' : 'embedContent';
    const ctx = context(req, reply, 'embeddings', model, false, { prompt: body, maxOutputTokens: 0 });
    return pipeline.run(ctx, async () => {
      const requests = () => (batch ? parseBatchEmbedContents(body) : [parseEmbedContent(body)]);
      const build = (t: Target) => {
        const native = nativeCall(t, method, req);
        if (native) return native(body);
        if (!t.adapter.buildEmbeddingsRequest) {
          throw new GatewayError(400, 'invalid_request_error', `${where(t)} has no embeddings API; route '${model}' to an embeddings model of Gemini, OpenAI or an OpenAI-compatible server`, {
            param: 'model',
            code: 'unsupported_operation',
            provider: t.provider.name,
          });
        }
        return t.adapter.buildEmbeddingsRequest(toEmbeddingsRequest(requests(), model, where(t), batch), t.model, t.provider);
      };
      const answer = await caller.call(ctx, build, (parsedBody, t) => {
        if (nativeCall(t, method, req)) return { text: jsonText(nativeBody(parsedBody, t)), usage: t.adapter.native!.gemini!.usage(parsedBody) };
        const response = t.adapter.parseEmbeddingsResponse!(parsedBody, t.model);
        const embeddings = toContentEmbeddings(response);
        // Some OpenAI-compatible servers leave usage out of embeddings responses.
        const tokens = response.usage?.prompt_tokens ?? 0;
        const usage = { prompt_tokens: tokens, completion_tokens: 0, total_tokens: response.usage?.total_tokens ?? tokens };
        return { text: JSON.stringify(batch ? { embeddings } : { embedding: embeddings[0] }), usage };
      });
      ctx.usage = answer.usage ?? NO_USAGE;
      return sendJson(reply, ctx, answer.text, pricing);
    });
  };

  const handlers: Record<Method, Handler> = {
    generateContent: generate(false),
    streamGenerateContent: generate(true),
    countTokens,
    embedContent: embed(false),
    batchEmbedContents: embed(true),
  };

  for (const version of ['v1beta', 'v1']) {
    app.post<{ Params: { '*': string } }>(`/${version}/models/*`, options, async (req, reply) => {
      const resource = req.params['*'];
      const colon = resource.lastIndexOf(':');
      const method = resource.slice(colon + 1);
      const handler = colon > 0 && Object.hasOwn(handlers, method) ? handlers[method as Method] : undefined;
      if (!handler) {
        throw new GatewayError(404, 'not_found_error', `No Gemini method at POST /${version}/models/${resource}; this gateway serves models/{model}:${METHODS.join(' | :')}`, {
          code: 'unknown_route',
        });
      }
      if (!isPlainObject(req.body)) throw badRequest('The request body must be a JSON object');
      return handler(req, reply, resource.slice(0, colon), req.body);
    });
  }

  // Listing models needs the same key as using them; these routes do not run the pipeline, so they check it here.
  // A key restricted to some models sees only those.
  const geminiModel = (m: ModelObject) => ({ name: `models/${m.id}`, displayName: m.id, supportedGenerationMethods: METHODS });
  app.get('/v1beta/models', options, async (req) => {
    const identity = await keyAuth.authenticate(credentialOf(req), req.ip);
    return { models: visibleModels(identity, router).map(geminiModel) };
  });
  app.get<{ Params: { '*': string } }>('/v1beta/models/*', options, async (req) => {
    const identity = await keyAuth.authenticate(credentialOf(req), req.ip);
    const id = req.params['*'];
    const model = router.model(id);
    checkModel(identity, id, router.resolve(id));
    return geminiModel(model);
  });
}
