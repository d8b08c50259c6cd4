// Runs the shadow calls: once a mirrored request ended, its canonical request goes to the shadow model through the same
// caller as client traffic (retries, fallbacks, circuits), off the request path; both sides are written as a sample.
//
// The shadow call is the platform's own experiment: it runs under no client's identity (the configured provider keys,
// no limits or budgets), and its usage record names no key, team or organization, so it is accounted for in the
// ledger without being charged to anyone who did not ask for it. Its record's model is the shadow's name and its
// request id the primary's with "/shadow".

import { GatewayError } from '../core/errors.ts';
import type { ChatRequest } from '../core/types.ts';
import { RequestAbort } from '../http/abort.ts';
import { ClientAbortedError } from '../http/client.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProviderCaller } from '../pipeline/call.ts';
import { newContext, type RequestContext } from '../pipeline/context.ts';
import type { Router } from '../routing/router.ts';
import { newId } from '../store/ids.ts';
import type { ShadowRepository } from '../store/repositories/shadow.ts';
import { costOf } from '../usage/cost.ts';
import { generatedText } from '../usage/estimate-tokens.ts';
import type { Pricing } from '../usage/pricing.ts';
import { usageRecord } from '../usage/record.ts';
import type { UsageSink } from '../usage/sink.ts';
import type { ShadowSample } from './mirror.ts';
import type { ShadowSide } from './record.ts';
import { elapsedMs } from '../core/elapsed.ts';

export interface ShadowRunnerOptions {
  router: Router;
  caller: ProviderCaller;
  pricing: Pricing;
  usage: UsageSink;
  samples: Pick<ShadowRepository, 'insert' | 'prune'>;
  logger: Logger;
  /** Samples older than this are deleted, checked hourly. */
  retentionDays: number;
  now?: () => Date;
}

const PRUNE_EVERY_MS = 3_600_000;

const SHUT_DOWN = new GatewayError(503, 'api_error', 'the gateway shut down before the shadow answered', { code: 'shutting_down' });

/** One side's figures from a request's context once it ended. */
function sideOf(ctx: RequestContext, pricing: Pricing, output: string | undefined, keep: number, endedAt: number): ShadowSide {
  const text = output ?? '';
  return {
    target: ctx.target?.id ?? null,
    status: ctx.error?.status ?? 200,
    latency_ms: elapsedMs(ctx.startedAt, endedAt),
    input_tokens: ctx.usage?.prompt_tokens ?? 0,
    output_tokens: ctx.usage?.completion_tokens ?? 0,
    cost_usd: costOf(ctx, pricing)?.usd ?? 0,
    output_chars: text.length,
    output: text.slice(0, keep),
    error: ctx.error?.message ?? null,
  };
}

export class ShadowRunner {
  private readonly running = new Set<Promise<void>>();
  /** The abort switches of the shadow calls under way: a shutdown does not wait for a slow shadow model. */
  private readonly aborts = new Set<RequestAbort>();
  private closing = false;
  private readonly pruner: NodeJS.Timeout;
  private readonly now: () => Date;

  constructor(private readonly opts: ShadowRunnerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.pruner = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
  }

  /**
   * Called as a mirrored request ends. A request that reached no provider of its own (refused before the call, or
   * answered by an identical request in flight) has nothing to compare: its shadow slot is given back.
   */
  mirror(ctx: RequestContext): void {
    const sample = ctx.shadow!;
    ctx.shadow = undefined;
    if (ctx.attempts === 0) {
      sample.mirror.inFlight--;
      return;
    }
    const primary = sideOf(ctx, this.opts.pricing, sample.output, sample.mirror.options.keep_output_chars, performance.now());
    // On a later turn: the translation and the call must not hold up the end of the primary's response.
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run(ctx, sample, primary, sample.output)).finally(() => {
      sample.mirror.inFlight--;
      this.running.delete(run);
    });
    this.running.add(run);
  }

  /** Ends the shadow calls under way and waits for their records (on shutdown, before the ledger closes). */
  async settled(): Promise<void> {
    clearInterval(this.pruner);
    this.closing = true;
    for (const abort of this.aborts) abort.abort(new ClientAbortedError());
    await Promise.allSettled([...this.running]);
  }

  private async run(primaryCtx: RequestContext, sample: ShadowSample, primary: ShadowSide, primaryText: string | undefined): Promise<void> {
    const { mirror } = sample;
    const { use, keep_output_chars: keep } = mirror.options;
    const ctx = newContext({
      id: `${primaryCtx.id}/shadow`,
      recordId: `${primaryCtx.recordId}/shadow`,
      surface: primaryCtx.surface,
      operation: 'chat',
      model: use,
      stream: false,
      abort: new RequestAbort(),
      credential: undefined,
      clientIp: primaryCtx.clientIp,
      sizing: primaryCtx.sizing,
    });
    let text: string | undefined;
    if (this.closing) ctx.abort.abort(new ClientAbortedError());
    this.aborts.add(ctx.abort);
    try {
      // The shadow's own route, but never mirrored or coalesced again: one shadow call per sampled request.
      ctx.route = { ...this.opts.router.pick(use), shadow: undefined, coalesce: undefined };
      const { stream: _stream, stream_options: _options, ...request } = sample.request();
      const response = await this.opts.caller.chat(ctx, request as ChatRequest);
      text = generatedText(response.choices.map((c) => c.message));
    } catch (err) {
      ctx.error = err instanceof GatewayError ? err : err instanceof ClientAbortedError ? SHUT_DOWN : new GatewayError(500, 'api_error', 'the shadow call failed inside the gateway');
      if (ctx.error.status === 500 && !(err instanceof GatewayError)) this.opts.logger.error({ err, request_id: ctx.id }, 'shadow call failed');
    } finally {
      this.aborts.delete(ctx.abort);
    }
    const shadow = sideOf(ctx, this.opts.pricing, text, keep, performance.now());
    if (ctx.target && ctx.attempts > 0) this.opts.usage.write(usageRecord(ctx, this.opts.pricing));
    // A shadow cut short by a shutdown says nothing about the model: its usage is recorded, no sample.
    if (ctx.error === SHUT_DOWN) return;
    const now = this.now();
    try {
      await this.opts.samples.insert({
        id: newId('shd', now),
        model: mirror.group,
        time: now.toISOString(),
        request_id: primaryCtx.id,
        exact_match: primaryText !== undefined && text !== undefined && primary.status < 400 && primaryText === text,
        primary,
        shadow,
      });
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, model: mirror.group }, 'shadow sample not stored');
    }
  }

  private async prune(): Promise<void> {
    const before = new Date(this.now().getTime() - this.opts.retentionDays * 86_400_000);
    try {
      await this.opts.samples.prune(before.toISOString());
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'shadow samples not pruned');
    }
  }
}
