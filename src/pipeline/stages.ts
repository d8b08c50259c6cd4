// The stage runner. A stage is a small module with `before` (in order, before the provider call) and `after` (in
// reverse order, always, success or failure). Later stages (auth, limits, cache, guardrails, usage) plug in here
// without the routes or the providers knowing.

import { CLIENT_CLOSED, GatewayError, INTERNAL_ERROR } from '../core/errors.ts';
import { ClientAbortedError } from '../http/client.ts';
import type { RequestContext } from './context.ts';

export interface Stage {
  readonly name: string;
  before?(ctx: RequestContext): void | Promise<void>;
  after?(ctx: RequestContext): void | Promise<void>;
}

export class Pipeline {
  constructor(private readonly stages: readonly Stage[]) {}

  /** Runs `before` of every stage, then `call`, then `after` of every stage that ran `before`, in reverse. */
  async run<T>(ctx: RequestContext, call: () => Promise<T>): Promise<T> {
    let ran = 0;
    try {
      for (const stage of this.stages) {
        ran++;
        // Awaiting only what is a promise keeps synchronous stages off the microtask queue.
        const pending = stage.before?.(ctx);
        if (pending) await pending;
      }
      return await call();
    } catch (err) {
      if (err instanceof GatewayError) ctx.error = err;
      else if (err instanceof ClientAbortedError) ctx.error = CLIENT_CLOSED;
      // Anything else is the gateway's own failure, answered with a 500: logs, metrics and traces must say so too.
      else ctx.error = INTERNAL_ERROR;
      throw err;
    } finally {
      for (let i = ran - 1; i >= 0; i--) {
        const pending = this.stages[i]!.after?.(ctx);
        if (pending) await pending;
      }
    }
  }
}
