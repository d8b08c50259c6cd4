// Request coalescing: identical requests in flight at the same time share one upstream call. A burst of the same
// prompt (a retry storm, a dashboard refreshing for many users, an agent fan-out) then costs one provider call, not N.
//
// Only whole answers are shared: a stream is read once, by the client it was opened for. The first request of a key
// (the leader) makes the call; the others (followers) wait for its result, success or failure. A leader whose own
// client left aborts its upstream call with it, which says nothing about the request, so its followers do not inherit
// that: each tries again, and one of them leads the next call.

import { createHash } from 'node:crypto';
import { ClientAbortedError } from '../http/client.ts';

interface Flight<T, L> {
  result: Promise<T>;
  leader: L;
}

export class Coalescer {
  private readonly flights = new Map<string, Flight<unknown, unknown>>();

  /** Requests in flight that others could join. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * `work`'s result, from this call or from an identical one already in flight; `joined` is told the leader (whatever
   * `lead` was when it started) when this request followed one.
   */
  async run<T, L>(key: string, lead: L, work: () => Promise<T>, joined: (leader: L) => void): Promise<T> {
    for (;;) {
      const flight = this.flights.get(key) as Flight<T, L> | undefined;
      if (!flight) break;
      try {
        const result = await flight.result;
        joined(flight.leader);
        return result;
      } catch (err) {
        if (!(err instanceof ClientAbortedError)) {
          joined(flight.leader);
          throw err;
        }
        this.land(key, flight);
      }
    }
    const flight: Flight<T, L> = { result: work(), leader: lead };
    this.flights.set(key, flight);
    try {
      return await flight.result;
    } finally {
      this.land(key, flight);
    }
  }

  /** The flight is over: a request arriving now makes a call of its own. Another flight under the key stays. */
  private land(key: string, flight: Flight<unknown, unknown>): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
  }
}

/**
 * The identity of a request for coalescing: who asks (the tenant: requests of different organizations never share an
 * answer), through which surface and operation, for which model, and the body as it came. Hashed, so the map holds
 * short keys however long the prompts.
 */
export function coalescingKey(parts: readonly (string | undefined)[], body: unknown): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part ?? ''}\u0000`);
  hash.update(JSON.stringify(body) ?? '');
  return hash.digest('base64url');
}
