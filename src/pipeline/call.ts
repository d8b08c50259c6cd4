// Calls the provider for a routed request: builds the wire request with the target's adapter, sends it through the one
// HTTP client, and turns the answer back into canonical objects. Targets are tried in route order; a failure that a
// different target could avoid (429, 5xx, timeout, unreachable) moves on to the next one, but only before anything
// has been sent to the client.

import { badUpstreamResponse, GatewayError } from '../core/errors.ts';
import { parseJson } from '../core/json-text.ts';
import type { ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../core/types.ts';
import { sleepUnlessAborted } from '../http/abort.ts';
import { transportError, type UpstreamClient, type UpstreamResponse } from '../http/client.ts';
import type { CredentialResolver } from '../identity/provider-credentials.ts';
import type { StreamReader, StreamTranslator, UpstreamCall } from '../providers/types.ts';
import { completionId, nowSeconds } from '../providers/shared.ts';
import { FORWARDED_HEADERS } from '../providers/anthropic/native.ts';
import type { Target } from '../routing/router.ts';
import { capableRoute } from '../routing/capabilities.ts';
import { coalescingKey } from '../routing/coalescer.ts';
import { sampleShadow } from '../shadow/mirror.ts';
import { fallsBack, filteredAnswer } from '../routing/fallback-on.ts';
import { failsHealth, type CircuitBreaker } from '../routing/circuit-breaker.ts';
import { isRetryable, retryAfterHeader, retryAfterMs, retryDelayMs } from '../routing/retry.ts';
import { observeLatency } from '../routing/strategies.ts';
import { ByteStream } from './byte-stream.ts';
import type { RequestContext, Surface } from './context.ts';
import { asFloatRequest, needsPacking, packBase64 } from './embeddings-encoding.ts';
import { UpstreamStream } from './upstream-stream.ts';
import { noteFailedAttempt, noteSkippedTarget } from './attempt-trail.ts';
import { estimateUsage, generatedText } from '../usage/estimate-tokens.ts';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The generated text of a provider's whole answer to a chat request, in whichever format it came: the surface's own
 * when the target served it natively, else the target's chat format.
 */
function answerText(surface: Surface, target: Target, body: unknown): string {
  const native = surface === 'openai' ? undefined : target.adapter.native?.[surface];
  if (native) return native.output(body);
  try {
    return generatedText(target.adapter.parseChatResponse(body, target.model).choices.map((c) => c.message));
  } catch {
    return '';
  }
}

/**
 * Failures another target may not have: pacing (429), the provider's own credentials (401/403), timeouts and server
 * errors. A 400-class error about the request itself would fail everywhere.
 */
function canTryNext(err: unknown): boolean {
  return err instanceof GatewayError && (err.status === 401 || err.status === 403 || err.status === 408 || err.status === 429 || err.status >= 500);
}

/** What a failed attempt adds to the target's latency figure. */
const FAILURE_PENALTY_MS = 5_000;

/** Which target answered, after how many attempts, and whether it was a fallback: on every surface's answer. */
function announce(ctx: RequestContext, target: Target, fallback: boolean): void {
  const response = ctx.response;
  if (!response) return;
  response.setHeader('x-switchboard-attempts', String(ctx.attempts));
  if (fallback) response.setHeader('x-switchboard-fallback', 'true');
  try {
    response.setHeader('x-switchboard-target', `${target.provider.name}/${target.model}`);
  } catch {
    // A model id a client addressed directly may hold what a header cannot (control characters): left out.
  }
}

/** A 2xx answer being read; `release` stops the provider's total_ms clock once its body is done with. */
type Sent = { response: UpstreamResponse; release: () => void; target: Target };

/**
 * `make` for each target, computed once however often it is asked for: a surface translates a request per target, and
 * both the wire request and the stream translator need the translation.
 */
export function oncePerTarget<T>(make: (target: Target) => T): (target: Target) => T {
  const made = new Map<Target, T>();
  return (target) => {
    if (!made.has(target)) made.set(target, make(target));
    return made.get(target)!;
  };
}

/**
 * What every chat surface does to its route before calling: drops the targets that cannot serve the request, and
 * samples it for the route's shadow. `request` is the canonical request, or, for a surface that passes requests
 * through natively, how to make it (only when needed: a route with declared capabilities, a sampled request).
 */
export function routeChat(ctx: RequestContext, request: ChatRequest | (() => ChatRequest)): void {
  // A JSON body has at least as many bytes as its strings have characters, and those at least as many as tokens.
  const bytes = Number(header(ctx.headers?.['content-length']));
  const sizeBound = bytes > 0 && ctx.sizing ? bytes + (ctx.sizing.maxOutputTokens ?? 0) : undefined;
  ctx.route = capableRoute(ctx.route!, request, sizeBound);
  sampleShadow(ctx, typeof request === 'function' ? request : () => request);
}

/** A fresh translator for one stream of `req` from `target`. */
export function streamTranslator(target: Target, req: ChatRequest): StreamTranslator {
  return target.adapter.createStreamTranslator({
    model: target.model,
    provider: target.provider.name,
    includeUsage: req.stream_options?.include_usage === true,
    id: completionId(),
    created: nowSeconds(),
  });
}

/**
 * Tells the circuit what a failed attempt says of its target: unwell; or well, for any other answer the provider gave
 * but a 429 (busy, not broken); or nothing, for a client that left or an error of the gateway's own.
 */
function report(circuit: CircuitBreaker, err: unknown, unhealthy: boolean): void {
  if (unhealthy) circuit.failed();
  else if (err instanceof GatewayError && err.provider !== undefined && err.status !== 429) circuit.succeeded();
  else circuit.released();
}

/** Every key of the target's pool rests after 429s: the provider is out of capacity for now. */
function keysResting(target: Target): GatewayError {
  return new GatewayError(429, 'rate_limit_error', `${target.provider.name}: every API key in the pool is cooling down after rate limiting`, {
    code: 'keys_cooling_down',
    provider: target.provider.name,
    headers: { 'retry-after': retryAfterHeader(target.keys!.pool.nextAvailableInMs()) },
  });
}

/** Every target of the route was skipped because its circuit is open. */
function allOpen(route: string, skipped: Target[]): GatewayError {
  return new GatewayError(503, 'upstream_error', `No target of '${route}' is available: the circuit is open for ${skipped.map((t) => t.id).join(', ')} after repeated failures`, {
    code: 'circuit_open',
    headers: { 'retry-after': retryAfterHeader(Math.min(...skipped.map((t) => t.circuit!.retryInMs()))) },
  });
}

/** A target's refusal to build the request (its provider lacks the operation or a parameter), not a failure. */
function refusedHere(err: unknown): boolean {
  return err instanceof GatewayError && err.status === 400 && (err.code === 'unsupported_operation' || err.code === 'unsupported_parameter');
}

export class ProviderCaller {
  constructor(
    private readonly client: UpstreamClient,
    private readonly credentials: Pick<CredentialResolver, 'resolve'>,
  ) {}

  /**
   * The target with its provider as the caller's organization has it (its stored credential in place of the configured
   * key); synchronous once the organization's credentials are cached. The provider keeps its name, so it shares the
   * configured provider's connection pool.
   */
  private tenantTarget(orgId: string, target: Target): Target | Promise<Target> {
    const resolved = this.credentials.resolve(orgId, target.provider);
    if (resolved instanceof Promise) return resolved.then((provider) => (provider === target.provider ? target : { ...target, provider }));
    return resolved === target.provider ? target : { ...target, provider: resolved };
  }

  /**
   * Tries each target in turn, each up to the route's retry policy allows. `accept` reads as much of a 2xx answer as
   * must be sound before the client sees anything (the whole body, or a stream's first real chunk); a failure up to
   * that point is retried or moves on to the next target. `more` tells `accept` whether another target is left.
   */
  private async attempt<T>(ctx: RequestContext, build: (target: Target) => UpstreamCall, accept: (sent: Sent, more: boolean) => Promise<T>): Promise<T> {
    const { targets, policy } = ctx.route!;
    // Master and local requests belong to no organization and use the configured keys as they are.
    const orgId = ctx.identity?.org_id;
    let refused: unknown;
    let failed: unknown;
    let skipped: Target[] | undefined;
    for (let i = 0; i < targets.length; i++) {
      const more = i < targets.length - 1;
      const configured = targets[i]!;
      const circuit = configured.circuit;
      for (let retry = 0; ; ) {
        if (circuit && !circuit.acquire()) {
          (skipped ??= []).push(configured);
          noteSkippedTarget(ctx, configured);
          break;
        }
        ctx.target = configured;
        ctx.attempts++;
        let target = configured;
        let key = -1;
        try {
          if (orgId !== undefined) {
            const tenant = this.tenantTarget(orgId, target);
            target = ctx.target = tenant instanceof Promise ? await tenant : tenant;
          }
          // A pool's key is drawn only for the configured credential: an organization's own key replaces the pool.
          if (target.keys && target.provider === configured.provider) {
            key = target.keys.pool.draw();
            if (key < 0) throw keysResting(target);
            target = ctx.target = { ...target, provider: target.keys.providers[key]! };
          }
        } catch (err) {
          // The organization's credential for this provider is unusable (or unreadable), or every pooled key rests:
          // like a provider refusing a key, a failure another target may not have.
          circuit?.released();
          if (!canTryNext(err)) throw err;
          noteFailedAttempt(ctx, target, err as GatewayError);
          failed = err;
          break;
        }
        let call: UpstreamCall;
        try {
          call = build(target);
        } catch (err) {
          circuit?.released();
          // This target cannot serve the request as asked (an operation or parameter its provider lacks); another may.
          // The first such refusal is what the client hears if none can.
          if (!refusedHere(err)) throw err;
          refused ??= err;
          noteFailedAttempt(ctx, target, err as GatewayError);
          break;
        }
        const stats = target.stats;
        stats.inFlight++;
        const span = ctx.trace?.attempt(target, ctx.attempts);
        if (span) call = { ...call, headers: { ...call.headers, ...span.headers } };
        const startedAt = performance.now();
        let sent: Sent | undefined;
        try {
          if (target.adapter.authorize) call = await target.adapter.authorize(call, target.provider);
          const { response, release } = await this.client.send(call, target.provider, ctx.abort);
          sent = { response, release, target };
          if (response.statusCode >= 300) {
            const body = await this.text(sent, ctx);
            throw target.adapter.parseError(response.statusCode, body, header(response.headers['retry-after']), target.provider.name);
          }
          const accepted = await accept(sent, more);
          const took = performance.now() - startedAt;
          ctx.upstreamMs += took;
          span?.end({ status: sent.response.statusCode });
          circuit?.succeeded();
          observeLatency(stats, took);
          // Still in flight until the request ends (a stream, until its last byte): the route stage's after ends it.
          ctx.busy = stats;
          announce(ctx, target, i > 0);
          return accepted;
        } catch (err) {
          ctx.upstreamMs += performance.now() - startedAt;
          span?.end({ status: sent?.response.statusCode, error: err });
          stats.inFlight--;
          sent?.release();
          if (sent && !sent.response.body.destroyed) sent.response.body.destroy();
          // A provider's failed answer that was still billed says what it consumed.
          if (err instanceof GatewayError && err.usage) ctx.usage = err.usage;
          const unhealthy = failsHealth(err);
          if (circuit) report(circuit, err, unhealthy);
          // For the latency strategy, a provider's failure counts as a very slow answer.
          if (unhealthy || (err instanceof GatewayError && err.status === 429)) observeLatency(stats, performance.now() - startedAt + FAILURE_PENALTY_MS);
          if (!(err instanceof GatewayError) || err.provider === undefined) throw err;
          noteFailedAttempt(ctx, target, err);
          // The provider's total_ms ended this attempt through the request's abort switch; the next one starts afresh.
          ctx.abort.rearm();
          if (key >= 0 && err.status === 429) {
            // That key's quota, not the provider's: it rests, and another key is tried at once.
            configured.keys!.pool.rest(key, retryAfterMs(err.headers['retry-after']));
            failed = err;
            continue;
          }
          if (++retry < policy.retry.max_attempts && isRetryable(err, policy.retry)) {
            const wait = retryDelayMs(err, retry, policy.retry);
            if (wait !== undefined) {
              failed = err;
              const waitedFrom = performance.now();
              await sleepUnlessAborted(ctx.abort, wait);
              ctx.upstreamMs += performance.now() - waitedFrom;
              continue;
            }
          }
          if (!canTryNext(err) && !fallsBack(err, policy.fallbackOn)) throw err;
          failed = err;
          break;
        }
      }
    }
    // A provider that failed says more about why nothing answered than a refusal or a skipped target does.
    throw failed ?? refused ?? allOpen(ctx.route!.name, skipped!);
  }

  private text(sent: Sent, ctx: RequestContext): Promise<string> {
    return this.read(sent, ctx, (body) => body.text());
  }

  /** The whole body, taken by `how` (as text, as bytes). */
  private async read<T>(sent: Sent, ctx: RequestContext, how: (body: UpstreamResponse['body']) => Promise<T>): Promise<T> {
    try {
      return await how(sent.response.body);
    } catch (err) {
      throw transportError(err, sent.target.provider, ctx.abort, 'body');
    } finally {
      sent.release();
    }
  }

  /** The body parsed; its text stays attached (core/json-text) so a passthrough answer is sent on as it came. */
  private async json(sent: Sent, ctx: RequestContext): Promise<unknown> {
    const text = await this.text(sent, ctx);
    try {
      return parseJson(text);
    } catch {
      throw badUpstreamResponse(`${sent.target.provider.name}: the provider answered with a body that is not JSON`, sent.target.provider.name);
    }
  }

  /**
   * A whole answer: per target, the wire request and how its 2xx body becomes the result. On a coalescing route an
   * identical request already in flight answers this one too.
   */
  call<T>(ctx: RequestContext, build: (target: Target) => UpstreamCall, parse: (body: unknown, target: Target, more: boolean) => T): Promise<T> {
    return this.whole(ctx, () =>
      this.attempt(ctx, build, async (sent, more) => {
        const body = await this.json(sent, ctx);
        const parsed = parse(body, sent.target, more);
        if (ctx.shadow) ctx.shadow.output = answerText(ctx.surface, sent.target, body);
        return parsed;
      }),
    );
  }

  /**
   * `work`, or the result of an identical request's `work` in flight when the route coalesces. A request without a body
   * of its own to compare is never coalesced.
   */
  private whole<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T> {
    const coalescer = ctx.route!.coalesce;
    if (!coalescer || ctx.body === undefined) return work();
    // Headers a native passthrough forwards (versions, betas) change what the body means.
    const key = coalescingKey([ctx.identity?.org_id, ctx.surface, ctx.operation, ctx.model, ...FORWARDED_HEADERS.map((h) => String(ctx.headers?.[h] ?? ''))], ctx.body);
    return coalescer.run(key, ctx, work, (leader) => {
      ctx.coalesced = true;
      if (!leader.target) return;
      ctx.target = leader.target;
      ctx.response?.setHeader('x-switchboard-coalesced', 'true');
      announce(ctx, leader.target, false);
    });
  }

  /** A whole answer as bytes with its content type, for answers that need not be JSON (a transcript as text, SRT, VTT). */
  async bytes(ctx: RequestContext, build: (target: Target) => UpstreamCall): Promise<{ body: Uint8Array; contentType: string | undefined }> {
    return this.attempt(ctx, build, async (sent) => ({
      body: await this.read(sent, ctx, (body) => body.bytes()),
      contentType: header(sent.response.headers['content-type']),
    }));
  }

  /**
   * An answer sent on unparsed as it arrives (audio). Resolves once its first bytes arrived, so a provider that fails
   * before sending any still fails over.
   */
  async pipe(ctx: RequestContext, build: (target: Target) => UpstreamCall): Promise<ByteStream> {
    return this.attempt(ctx, build, async (sent) => {
      const stream = new ByteStream(sent.response, sent.release, sent.target, header(sent.response.headers['content-type']), ctx);
      await stream.prime();
      return stream;
    });
  }

  async chat(ctx: RequestContext, req: ChatRequest): Promise<ChatResponse> {
    routeChat(ctx, req);
    const onFilter = ctx.route!.policy.fallbackOn.has('content_filter');
    const response = await this.call(
      ctx,
      (t) => t.adapter.buildChatRequest(req, t.model, t.provider),
      (body, t, more) => {
        const parsed = t.adapter.parseChatResponse(body, t.model);
        // The last target's filtered answer is still an answer: the client gets it as it came.
        if (onFilter && more && parsed.choices.some((c) => c.finish_reason === 'content_filter')) throw filteredAnswer(t.provider.name, parsed.usage);
        return parsed;
      },
    );
    if (response.usage) ctx.usage = response.usage;
    else estimateUsage(ctx, generatedText(response.choices.map((c) => c.message)));
    if (ctx.trace) ctx.finishReasons = response.choices.flatMap((c) => (c.finish_reason ? [c.finish_reason] : []));
    return response;
  }

  /**
   * A streamed answer: per target, the wire request and the reader of its stream. Resolves with the stream once it
   * produced its first substantive item (see UpstreamStream.prime).
   */
  async stream<T>(ctx: RequestContext, build: (target: Target) => UpstreamCall, reader: (target: Target) => StreamReader<T>): Promise<UpstreamStream<T>> {
    return this.attempt(ctx, build, async (sent) => {
      const stream = new UpstreamStream(sent.response, sent.release, sent.target, reader(sent.target), ctx);
      await stream.prime();
      return stream;
    });
  }

  /** A streamed chat completion, read by `read` from each target's translator. */
  chatStream<T>(ctx: RequestContext, req: ChatRequest, read: (translator: StreamTranslator) => StreamReader<T>): Promise<UpstreamStream<T>> {
    routeChat(ctx, req);
    return this.stream(ctx, (t) => t.adapter.buildChatRequest(req, t.model, t.provider), (t) => read(streamTranslator(t, req)));
  }

  async embeddings(ctx: RequestContext, req: EmbeddingsRequest): Promise<EmbeddingsResponse> {
    const response = await this.whole(ctx, () => this.attempt(ctx, (t) => {
      if (!t.adapter.buildEmbeddingsRequest) {
        throw new GatewayError(400, 'invalid_request_error', `Provider '${t.provider.name}' (type ${t.provider.type}) has no embeddings API; route '${ctx.model}' to an embeddings model of OpenAI, Gemini or an OpenAI-compatible server`, {
          param: 'model',
          code: 'unsupported_operation',
          provider: t.provider.name,
        });
      }
      return t.adapter.buildEmbeddingsRequest(needsPacking(req, t.adapter.format) ? asFloatRequest(req) : req, t.model, t.provider);
    }, async (sent) => {
      const parsed = sent.target.adapter.parseEmbeddingsResponse!(await this.json(sent, ctx), sent.target.model);
      return needsPacking(req, sent.target.adapter.format) ? packBase64(parsed) : parsed;
    }));
    // Some OpenAI-compatible servers leave usage out of embeddings responses.
    if (response.usage) {
      const tokens = response.usage.prompt_tokens ?? 0;
      ctx.usage = { prompt_tokens: tokens, completion_tokens: 0, total_tokens: response.usage.total_tokens ?? tokens };
    } else estimateUsage(ctx, undefined);
    return response;
  }
}
