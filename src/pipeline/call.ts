// Calls the provider for a routed request: builds the wire request with the target's adapter, sends it through the one
// HTTP client, and turns the answer back into canonical objects. Targets are tried in route order; a failure that a
// different target could avoid (429, 5xx, timeout, unreachable) moves on to the next one, but only before anything
// has been sent to the client.

import { GatewayError } from '../core/errors.ts';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../core/types.ts';
import { transportError, type UpstreamClient, type UpstreamResponse } from '../http/client.ts';
import type { UpstreamCall } from '../providers/types.ts';
import { completionId, nowSeconds } from '../providers/shared.ts';
import type { Target } from '../routing/router.ts';
import type { RequestContext } from './context.ts';
import { asFloatRequest, needsPacking, packBase64 } from './embeddings-encoding.ts';
import { translateSse } from './sse.ts';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function canTryNext(err: unknown): boolean {
  return err instanceof GatewayError && (err.status === 429 || err.status >= 500);
}

type Sent = { response: UpstreamResponse; signal: AbortSignal; target: Target };

export class ProviderCaller {
  constructor(private readonly client: UpstreamClient) {}

  /** Sends to each target in turn until one answers 2xx; the body is left for the caller to read. */
  private async send(ctx: RequestContext, build: (target: Target) => UpstreamCall): Promise<Sent> {
    const targets = ctx.route!.targets;
    for (let i = 0; ; i++) {
      const target = targets[i]!;
      ctx.target = target;
      ctx.attempts++;
      try {
        const { response, signal } = await this.client.send(build(target), target.provider, ctx.clientSignal);
        if (response.statusCode < 300) return { response, signal, target };
        const body = await this.read(response, { response, signal, target }, ctx, 'text');
        throw target.adapter.parseError(response.statusCode, body, header(response.headers['retry-after']), target.provider.name);
      } catch (err) {
        if (i === targets.length - 1 || !canTryNext(err)) throw err;
      }
    }
  }

  private async read(response: UpstreamResponse, sent: Sent, ctx: RequestContext, as: 'json'): Promise<unknown>;
  private async read(response: UpstreamResponse, sent: Sent, ctx: RequestContext, as: 'text'): Promise<string>;
  private async read(response: UpstreamResponse, sent: Sent, ctx: RequestContext, as: 'json' | 'text'): Promise<unknown> {
    let text: string;
    try {
      text = await response.body.text();
    } catch (err) {
      throw transportError(err, sent.target.provider, sent.signal, ctx.clientSignal);
    }
    if (as === 'text') return text;
    try {
      return JSON.parse(text);
    } catch {
      throw new GatewayError(502, 'upstream_error', `${sent.target.provider.name}: the provider answered with a body that is not JSON`, {
        code: 'bad_upstream_response',
        provider: sent.target.provider.name,
      });
    }
  }

  async chat(ctx: RequestContext, req: ChatRequest): Promise<ChatResponse> {
    const sent = await this.send(ctx, (t) => t.adapter.buildChatRequest(req, t.model, t.provider));
    const response = sent.target.adapter.parseChatResponse(await this.read(sent.response, sent, ctx, 'json'), sent.target.model);
    ctx.usage = response.usage;
    return response;
  }

  /**
   * Resolves once a target accepted the stream (2xx headers), so every failure up to that point can still fail over
   * and reach the client as a plain HTTP error; what follows is yielded chunk by chunk.
   */
  async chatStream(ctx: RequestContext, req: ChatRequest): Promise<AsyncGenerator<ChatChunk>> {
    const sent = await this.send(ctx, (t) => t.adapter.buildChatRequest(req, t.model, t.provider));
    const translator = sent.target.adapter.createStreamTranslator({
      model: sent.target.model,
      provider: sent.target.provider.name,
      includeUsage: req.stream_options?.include_usage === true,
      id: completionId(),
      created: nowSeconds(),
    });
    return this.guard(translateSse(sent.response.body, translator), sent, ctx);
  }

  /** Maps transport failures inside a stream and records the usage chunk as it passes. */
  private async *guard(chunks: AsyncGenerator<ChatChunk>, sent: Sent, ctx: RequestContext): AsyncGenerator<ChatChunk> {
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) ctx.usage = chunk.usage;
        yield chunk;
      }
    } catch (err) {
      throw transportError(err, sent.target.provider, sent.signal, ctx.clientSignal);
    } finally {
      // Stops the upstream body when the consumer leaves early (client gone, or an error downstream).
      if (!sent.response.body.destroyed) sent.response.body.destroy();
    }
  }

  async embeddings(ctx: RequestContext, req: EmbeddingsRequest): Promise<EmbeddingsResponse> {
    const sent = await this.send(ctx, (t) => {
      if (!t.adapter.buildEmbeddingsRequest) {
        throw new GatewayError(400, 'invalid_request_error', `Provider '${t.provider.name}' (type ${t.provider.type}) has no embeddings API; route '${ctx.model}' to an embeddings model of OpenAI, Gemini or an OpenAI-compatible server`, {
          param: 'model',
          code: 'unsupported_operation',
          provider: t.provider.name,
        });
      }
      return t.adapter.buildEmbeddingsRequest(needsPacking(req, t.adapter.format) ? asFloatRequest(req) : req, t.model, t.provider);
    });
    const parsed = sent.target.adapter.parseEmbeddingsResponse!(await this.read(sent.response, sent, ctx, 'json'), sent.target.model);
    const response = needsPacking(req, sent.target.adapter.format) ? packBase64(parsed) : parsed;
    ctx.usage = { prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0, total_tokens: response.usage.total_tokens };
    return response;
  }
}
