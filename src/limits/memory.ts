// The limit counters of a single gateway instance, in its own memory: what the limits count when there is no Redis to
// share them through. The counting itself is gcra.ts, the same as the Redis script's. Counters go as soon as they
// count nothing (a rate bucket empty again, a window idle for its ttl, a concurrency counter with no live lease), on
// use and by a periodic sweep, so a flood of distinct keys cannot hold memory beyond their counters' lifetimes.

import type { Admission, LimitBackend, LimitOp, OpResult, Settlement } from './backend.ts';
import {
  checkNow,
  checkOps,
  checkSeed,
  checkSettlements,
  concurrencyAdmit,
  LimitBackendClosedError,
  MISSING,
  rateAdmit,
  rateSettle,
  untilTat,
  windowAdmit,
  windowValue,
  type Tat,
} from './gcra.ts';

type Counter =
  | { kind: 'rate'; tat: Tat; expiresAt: number }
  | { kind: 'window'; buckets: Map<number, number>; expiresAt: number }
  | { kind: 'concurrency'; leases: Map<string, number>; expiresAt: number };

type Kind = Counter['kind'];
type CounterOf<K extends Kind> = Extract<Counter, { kind: K }>;

export interface MemoryLimitBackendOptions {
  /** How often counters that count nothing any more are dropped, for keys nobody uses again. */
  sweepMs?: number;
}

export class MemoryLimitBackend implements LimitBackend {
  readonly name = 'memory';
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;
  /**
   * The limiter's clock, as far as it has been told (the latest nowMs given): seed() and peek() take no time, and
   * expiry must be judged by the clock the counters were written by, which in tests is not the real one.
   */
  private clock: number | undefined;
  private closed = false;

  constructor(options: MemoryLimitBackendOptions = {}) {
    this.sweeper = setInterval(() => this.sweep(), options.sweepMs ?? 10_000);
    this.sweeper.unref();
  }

  /** Counters held, expired ones not yet swept included. */
  get size(): number {
    return this.counters.size;
  }

  async admit(ops: readonly LimitOp[], nowMs: number): Promise<Admission> {
    this.open();
    checkNow(nowMs);
    checkOps(ops);
    this.tick(nowMs);
    // Every op is checked before any is applied, so one refusal leaves every counter as it was.
    const results: OpResult[] = [];
    const apply: (() => void)[] = [];
    let admitted = true;
    for (const op of ops) {
      let result: OpResult;
      switch (op.kind) {
        case 'rate': {
          const { result: answer, next } = rateAdmit(this.find(op.key, 'rate', nowMs)?.tat, op, nowMs);
          result = answer;
          apply.push(() => this.storeTat(op.key, next, nowMs));
          break;
        }
        case 'window': {
          const counter = this.find(op.key, 'window', nowMs);
          if (counter === undefined) {
            result = { ...MISSING };
            break;
          }
          for (const start of counter.buckets.keys()) if (start < op.windowStartMs) counter.buckets.delete(start);
          result = windowAdmit(windowValue(counter.buckets, op.windowStartMs), op);
          apply.push(() => {
            counter.buckets.set(op.bucketStartMs, (counter.buckets.get(op.bucketStartMs) ?? 0) + op.cost);
            counter.expiresAt = nowMs + op.ttlMs;
          });
          break;
        }
        case 'concurrency': {
          const counter = this.find(op.key, 'concurrency', nowMs);
          let live = 0;
          let earliest: number | undefined;
          if (counter) {
            for (const [lease, expiresAt] of counter.leases) {
              if (expiresAt <= nowMs) counter.leases.delete(lease);
              else earliest = Math.min(earliest ?? expiresAt, expiresAt);
            }
            live = counter.leases.size - (counter.leases.has(op.lease) ? 1 : 0);
          }
          result = concurrencyAdmit(live, earliest, op, nowMs);
          apply.push(() => this.lease(op.key, counter, op.lease, nowMs + op.ttlMs));
          break;
        }
      }
      if (!result.allowed) admitted = false;
      results.push(result);
    }
    if (admitted) for (const step of apply) step();
    return { admitted, results };
  }

  async settle(items: readonly Settlement[], nowMs: number): Promise<void> {
    this.open();
    checkNow(nowMs);
    checkSettlements(items);
    this.tick(nowMs);
    for (const item of items) {
      switch (item.kind) {
        case 'rate':
          this.storeTat(item.key, rateSettle(this.find(item.key, 'rate', nowMs)?.tat, item, nowMs), nowMs);
          break;
        case 'window': {
          // A counter gone since the admission is seeded again from the ledger, which will hold this request too.
          const counter = this.find(item.key, 'window', nowMs);
          if (counter === undefined) break;
          counter.buckets.set(item.bucketStartMs, (counter.buckets.get(item.bucketStartMs) ?? 0) + item.delta);
          counter.expiresAt = nowMs + item.ttlMs;
          break;
        }
        case 'release': {
          const counter = this.find(item.key, 'concurrency', nowMs);
          if (counter?.leases.delete(item.lease) && counter.leases.size === 0) this.counters.delete(item.key);
          break;
        }
      }
    }
  }

  async seed(key: string, buckets: ReadonlyMap<number, number>, ttlMs: number): Promise<void> {
    this.open();
    checkSeed(key, buckets, ttlMs);
    const nowMs = this.now();
    if (this.find(key, 'window', nowMs) !== undefined) return;
    this.counters.set(key, { kind: 'window', buckets: new Map(buckets), expiresAt: nowMs + ttlMs });
  }

  async peek(key: string, windowStartMs: number): Promise<number | undefined> {
    this.open();
    const counter = this.find(key, 'window', this.now());
    return counter && windowValue(counter.buckets, windowStartMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.counters.clear();
  }

  private find<K extends Kind>(key: string, kind: K, nowMs: number): CounterOf<K> | undefined {
    const counter = this.counters.get(key);
    if (counter === undefined) return undefined;
    if (counter.expiresAt <= nowMs) {
      this.counters.delete(key);
      return undefined;
    }
    if (counter.kind !== kind) throw new Error(`the limit key ${key} holds a ${counter.kind} counter, not a ${kind} one`);
    return counter as CounterOf<K>;
  }

  private storeTat(key: string, tat: Tat | undefined, nowMs: number): void {
    if (tat === undefined) this.counters.delete(key);
    else this.counters.set(key, { kind: 'rate', tat, expiresAt: nowMs + untilTat(tat, nowMs) });
  }

  private lease(key: string, counter: CounterOf<'concurrency'> | undefined, lease: string, expiresAt: number): void {
    if (counter === undefined) {
      this.counters.set(key, { kind: 'concurrency', leases: new Map([[lease, expiresAt]]), expiresAt });
      return;
    }
    counter.leases.set(lease, expiresAt);
    counter.expiresAt = Math.max(counter.expiresAt, expiresAt);
  }

  private tick(nowMs: number): void {
    if (this.clock === undefined || nowMs > this.clock) this.clock = nowMs;
  }

  /** Before the limiter has said what time it is (a seed or peek first), the real time. */
  private now(): number {
    return this.clock ?? Date.now();
  }

  private sweep(): void {
    const nowMs = this.now();
    for (const [key, counter] of this.counters) if (counter.expiresAt <= nowMs) this.counters.delete(key);
  }

  private open(): void {
    if (this.closed) throw new LimitBackendClosedError();
  }
}
