// A request's abort switch: the client disconnecting or a provider's total_ms trips it, and the upstream call stops.
// It is an EventEmitter with `aborted` and `reason`, which undici accepts as a request signal, rather than an
// AbortController: on Node 20 the EventTarget listeners undici attaches to an AbortSignal cost about a tenth of a
// proxied request's CPU (measured with the benchmark's per-request CPU time).

import { EventEmitter } from 'node:events';
import { TotalTimeout } from './client.ts';

export class RequestAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /**
   * Clears an abort that ended one attempt only: a provider's total_ms. The route's next attempt (another target, a
   * retry) gets the switch back; a client that left stays gone.
   */
  rearm(): void {
    if (this.reason instanceof TotalTimeout) {
      this.aborted = false;
      this.reason = undefined;
    }
  }
}

/** Waits `ms`, or rejects with the abort's reason as soon as the request is aborted (a queued client that left). */
export function sleepUnlessAborted(abort: RequestAbort, ms: number): Promise<void> {
  if (abort.aborted) return Promise.reject(abort.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abort.reason);
    };
    const timer = setTimeout(() => {
      abort.off('abort', onAbort);
      resolve();
    }, ms);
    abort.once('abort', onAbort);
  });
}
