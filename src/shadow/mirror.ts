// Shadow traffic: a share of a model's chat requests is sent again, after the client has its answer, to a shadow
// model, so a candidate can be judged on production traffic (latency, cost, errors, how its answers compare) without
// any client seeing it. This is the per-model part: which requests are mirrored, and how many shadow calls may run.
//
// A shadow call is made only after the primary request ended, never alongside it, so it cannot slow a client down or
// change what it gets. Shadow calls that would pile up (a slow shadow model) are not queued: a sampled request over
// the cap is skipped and counted, since a backlog would measure the queue rather than the model.

import type { ChatRequest } from '../core/types.ts';
import type { RequestContext } from '../pipeline/context.ts';

export interface ShadowOptions {
  /** A configured model name or "<provider>/<model>". */
  use: string;
  /** Share of the model's chat requests mirrored, 0..1. */
  share: number;
  max_in_flight: number;
  keep_output_chars: number;
}

/** One mirrored request while its primary runs: what the shadow call needs, and the primary's answer text once known. */
export interface ShadowSample {
  mirror: ShadowMirror;
  /** The request in canonical form: made only when the shadow call is, so a surface's native path pays nothing. */
  request: () => ChatRequest;
  /** The primary's generated text (routing/…/generatedText); undefined until it answered, and if it never did. */
  output: string | undefined;
}

export class ShadowMirror {
  inFlight = 0;
  /** Sampled requests left unmirrored because max_in_flight shadow calls were running (since start, this instance). */
  skipped = 0;

  constructor(
    /** The model whose traffic is mirrored. */
    readonly group: string,
    readonly options: Readonly<ShadowOptions>,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether this request is mirrored; a true takes a shadow slot, which the shadow call gives back. */
  sample(): boolean {
    if (this.options.share <= 0 || this.random() >= this.options.share) return false;
    if (this.inFlight >= this.options.max_in_flight) {
      this.skipped++;
      return false;
    }
    this.inFlight++;
    return true;
  }
}

/**
 * Marks a chat request of a mirrored model for shadowing, for the shadow stage to act on when it ends. `request` gives
 * its canonical form (a surface translating anyway has it; one passing through natively makes it only if sampled).
 */
export function sampleShadow(ctx: RequestContext, request: () => ChatRequest): void {
  const mirror = ctx.route?.shadow;
  if (mirror && ctx.shadow === undefined && mirror.sample()) ctx.shadow = { mirror, request, output: undefined };
}
