// The seam between the limiter (what to count for a request) and where the counts live: in process (memory.ts) or on
// Redis (redis.ts), shared by every gateway instance. Both run the same algorithms and pass one test suite
// (backend.test.ts). A request's every check is admitted or refused together in one call, which on Redis is one Lua
// script and so one round trip: all applicable scopes hold, or nothing is taken from any of them.

/**
 * One counter to check and take from.
 * - `rate`: GCRA (a token bucket kept as one timestamp): `limit` units per `periodMs`, holding at most `burst` units,
 *   taking `cost` units (1 for a request, the token reservation for tokens).
 * - `window`: a sum over time buckets (token quotas and USD budgets, in integer units): admitted while the buckets from
 *   `windowStartMs` on, plus `cost`, stay within `limit`; `cost` is added to the bucket starting at `bucketStartMs`.
 *   A window counter that does not exist yet is reported `missing` (and nothing is applied) so the limiter can seed it
 *   from the usage ledger first; `ttlMs` is how long it outlives its last write.
 * - `concurrency`: in-flight requests, each holding `lease` until released or until `ttlMs` passes (an instance that
 *   died without releasing cannot hold a slot forever).
 */
export type LimitOp =
  | { kind: 'rate'; key: string; limit: number; periodMs: number; burst: number; cost: number }
  | { kind: 'window'; key: string; limit: number; windowStartMs: number; bucketStartMs: number; cost: number; ttlMs: number }
  | { kind: 'concurrency'; key: string; limit: number; lease: string; ttlMs: number };

export interface OpResult {
  /** Whether this counter alone would admit the request. */
  allowed: boolean;
  /** Units left after this request (if admitted) or now (if not); never negative. */
  remaining: number;
  /**
   * Milliseconds until the counter is back to full (rate); 0 for window and concurrency counters (when a window
   * moves on depends on its shape, which only the limiter knows, so the limiter works it out).
   */
  resetMs: number;
  /**
   * When refused: milliseconds until this counter could admit the same cost (0 when it is never going to). Window
   * counters report 0 (the limiter works it out, as for resetMs); concurrency counters until the soonest lease
   * expires, at most a second.
   */
  retryAfterMs: number;
  /** Window counters only: the counter has never been seeded (see LimitOp). */
  missing: boolean;
}

export interface Admission {
  /** True when every op allowed and none was missing: then all were applied, else none was. */
  admitted: boolean;
  /** One per op, in the order given. */
  results: OpResult[];
}

/**
 * What to give back or take after the request, once its real size is known.
 * - `rate`: `delta` units more (positive) or fewer (negative) than were taken; the bucket never refills past full.
 * - `window`: `delta` added to the bucket starting at `bucketStartMs` (may be negative).
 * - `release`: frees a concurrency lease.
 */
export type Settlement =
  | { kind: 'rate'; key: string; limit: number; periodMs: number; burst: number; delta: number }
  | { kind: 'window'; key: string; bucketStartMs: number; delta: number; ttlMs: number }
  | { kind: 'release'; key: string; lease: string };

export interface LimitBackend {
  readonly name: 'memory' | 'redis';
  /**
   * `nowMs`: the limiter's clock (Date.now() in production). On Redis this is one round trip. A key may appear once
   * per call, and every number must be whole and small enough to count exactly; otherwise the call rejects with a
   * RangeError before counting anything.
   */
  admit(ops: readonly LimitOp[], nowMs: number): Promise<Admission>;
  /**
   * Applies settlements; the Redis backend sends all of those given in one call as one script call. A window
   * counter that no longer exists is left alone: seeded again from the ledger, it will count this request there.
   */
  settle(items: readonly Settlement[], nowMs: number): Promise<void>;
  /**
   * Creates a window counter with these bucket totals unless it exists already (another instance seeded it first, or
   * requests have been counted since): seeding never overwrites a live count.
   */
  seed(key: string, buckets: ReadonlyMap<number, number>, ttlMs: number): Promise<void>;
  /** Current totals of a window counter from `windowStartMs` on, without changing it; undefined if it does not exist. */
  peek(key: string, windowStartMs: number): Promise<number | undefined>;
  close(): Promise<void>;
}
