// A per-target circuit breaker: stop sending to a target that keeps failing, and find out cheaply when it is back.
//
// Every request through a closed circuit records its outcome, so that path must cost a few integer operations and
// allocate nothing. The error-rate window is therefore a fixed ring of counting buckets, rotated lazily from the clock
// when an outcome is recorded, instead of a list of timestamps that would grow with traffic and need pruning. The
// price is granularity: a failure leaves the window between 0.9 and 1 window_ms after it happened, not exactly at it.
// Running totals are kept beside the buckets so a check never sums the ring.
//
// The window only describes the closed circuit. Outcomes seen while open or half-open say nothing about the steady
// state the rules judge, and a circuit that closes after probes succeeded must not trip again on the failures that
// opened it, so on closing the window starts empty. While open the window is frozen rather than aged, so a snapshot
// still shows the figures that tripped it.
//
// acquire() answers a boolean and the outcome calls carry no ticket, so a result cannot say which phase let its request
// through. A request admitted while closed can finish after the circuit opened (a long stream, a slow timeout). The
// rules for such late results follow from what a result can mean in each state:
// - open: nothing was admitted since opening, so every result is late. It is ignored; in particular a late failure does
//   not restart the cooldown, which would let a burst of slow timeouts keep a recovered target out for longer.
// - half-open with no probe outstanding: the result is late for the same reason, and ignored.
// - half-open with probes outstanding: the result is taken as a probe's. Both misreadings are acceptable: a late
//   failure reopens early (one extra cooldown, the safe direction for a breaker), and a late success did just come
//   back from the target. The cost is that the probe slot is freed while the real probe is still out, so up to that
//   many extra probes can be let through; the count never goes negative, and the next opening clears it.
// The window counts again only once closed, where every result is evidence about the closed circuit, however old its
// request.
//
// A listener runs after the state has settled, so one that throws or reads the breaker sees it consistent.

import { GatewayError } from '../core/errors.ts';

/** A failure that says the target is unwell (a 5xx, a timeout, a broken connection), for its circuit. */
export function failsHealth(err: unknown): boolean {
  return err instanceof GatewayError && err.provider !== undefined && (err.status >= 500 || err.status === 408);
}

export interface CircuitOptions {
  /** Opens after this many failures in a row (0 = rule off). */
  consecutive_failures: number;
  /** Opens when failures / requests in the window reach this share (0..1; 0 = rule off) ... */
  error_rate: number;
  /** ... once the window holds at least this many requests. */
  min_requests: number;
  /** Length of the sliding window the error rate is measured over, ms. */
  window_ms: number;
  /** How long an open circuit refuses requests before letting probes through (half-open), ms. */
  cooldown_ms: number;
  /** Probes let through at once in half-open; that many successes in a row close the circuit, one failure reopens it. */
  half_open_requests: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitSnapshot {
  state: CircuitState;
  consecutive_failures: number;
  window_requests: number;
  window_failures: number;
  error_rate: number;
  /** When the circuit last opened (or reopened from half-open); null while closed. ISO. */
  opened_at: string | null;
  /** When an open circuit starts letting probes through; null unless open. ISO. */
  retry_at: string | null;
  /** Openings since the breaker was made; reset() keeps it, so it can feed a monotonic counter. */
  times_opened: number;
}

/** Buckets in the error-rate ring: fine enough that the window slides smoothly, few enough that rotation is cheap. */
const BUCKETS = 10;

function checkOptions(o: CircuitOptions): void {
  const bad = (name: string, why: string) => new RangeError(`circuit breaker: ${name} ${why}`);
  if (!(o.consecutive_failures >= 0)) throw bad('consecutive_failures', 'must be 0 or more');
  if (!(o.error_rate >= 0 && o.error_rate <= 1)) throw bad('error_rate', 'must be between 0 and 1');
  if (!(o.min_requests >= 0)) throw bad('min_requests', 'must be 0 or more');
  if (!(o.window_ms > 0 && Number.isFinite(o.window_ms))) throw bad('window_ms', 'must be a positive number');
  if (!(o.cooldown_ms >= 0 && Number.isFinite(o.cooldown_ms))) throw bad('cooldown_ms', 'must be 0 or more');
  if (!(Number.isInteger(o.half_open_requests) && o.half_open_requests >= 1)) throw bad('half_open_requests', 'must be a whole number, 1 or more');
}

export class CircuitBreaker {
  /** Listener called on every state change (from, to). */
  onChange?: (from: CircuitState, to: CircuitState) => void;

  private readonly opts: Readonly<CircuitOptions>;
  private readonly now: () => number;
  private readonly bucketMs: number;
  private readonly requests = new Uint32Array(BUCKETS);
  private readonly failures = new Uint32Array(BUCKETS);
  /** Bucket number (time / bucketMs) of the newest bucket in the ring. */
  private epoch: number;
  private windowRequests = 0;
  private windowFailures = 0;

  /** 'open' stays stored after the cooldown elapses until acquire() turns it half-open. */
  private current: CircuitState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private timesOpened = 0;
  private probes = 0;
  private probeSuccesses = 0;

  constructor(opts: CircuitOptions, now: () => number = Date.now) {
    checkOptions(opts);
    this.opts = { ...opts };
    this.now = now;
    this.bucketMs = opts.window_ms / BUCKETS;
    this.epoch = Math.floor(now() / this.bucketMs);
  }

  /** True if a request may go to the target now; every true must be followed by one succeeded(), failed() or released(). */
  acquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() < this.openedAt + this.opts.cooldown_ms) return false;
      this.transition('half-open');
    }
    if (this.probes >= this.opts.half_open_requests) return false;
    this.probes++;
    return true;
  }

  succeeded(): void {
    if (this.current === 'closed') {
      this.consecutive = 0;
      this.record(0);
    } else if (this.current === 'half-open' && this.probes > 0) {
      this.probes--;
      if (++this.probeSuccesses >= this.opts.half_open_requests) this.close();
    }
  }

  failed(): void {
    if (this.current === 'closed') {
      this.consecutive++;
      this.record(1);
      if (this.tripped()) this.open();
    } else if (this.current === 'half-open' && this.probes > 0) {
      this.open();
    }
  }

  /**
   * An active health probe's verdict (routing/health-probe.ts), apart from live traffic. A failure counts as a failed
   * request while closed; while open it starts the cooldown again, and while half-open it reopens: the target was just
   * seen down, so no client request should be the next to find out. A success lets an open circuit take live probes at
   * once instead of at the end of its cooldown; closed or half-open, it changes nothing, so idle probes neither dilute
   * the error rate nor close a circuit before live requests have succeeded.
   */
  probed(healthy: boolean): void {
    if (healthy) {
      if (this.current === 'open') this.transition('half-open');
    } else if (this.current === 'closed') {
      this.failed();
    } else if (this.current === 'open') {
      this.openedAt = this.now();
    } else {
      this.open();
    }
  }

  /** The attempt ended without saying anything about the target's health: frees a half-open probe slot, counts nothing. */
  released(): void {
    if (this.current === 'half-open' && this.probes > 0) this.probes--;
  }

  get state(): CircuitState {
    return this.current === 'open' && this.retryInMs() === 0 ? 'half-open' : this.current;
  }

  /** ms until an open circuit lets a probe through (0 if not open). */
  retryInMs(): number {
    if (this.current !== 'open') return 0;
    return Math.max(0, this.openedAt + this.opts.cooldown_ms - this.now());
  }

  snapshot(): CircuitSnapshot {
    if (this.current === 'closed') this.rotate(this.now());
    const state = this.state;
    return {
      state,
      consecutive_failures: this.consecutive,
      window_requests: this.windowRequests,
      window_failures: this.windowFailures,
      error_rate: this.windowRequests === 0 ? 0 : this.windowFailures / this.windowRequests,
      opened_at: this.current === 'closed' ? null : new Date(this.openedAt).toISOString(),
      retry_at: state === 'open' ? new Date(this.openedAt + this.opts.cooldown_ms).toISOString() : null,
      times_opened: this.timesOpened,
    };
  }

  /** Admin: back to closed with empty counters (times_opened, a lifetime total, is kept). */
  reset(): void {
    if (this.current !== 'closed') return this.close();
    this.consecutive = 0;
    this.clearWindow();
  }

  private tripped(): boolean {
    const o = this.opts;
    if (o.consecutive_failures > 0 && this.consecutive >= o.consecutive_failures) return true;
    return o.error_rate > 0 && this.windowRequests >= o.min_requests && this.windowFailures / this.windowRequests >= o.error_rate;
  }

  private open(): void {
    this.openedAt = this.now();
    this.timesOpened++;
    this.probes = 0;
    this.probeSuccesses = 0;
    this.transition('open');
  }

  private close(): void {
    this.consecutive = 0;
    this.probes = 0;
    this.probeSuccesses = 0;
    this.clearWindow();
    this.transition('closed');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.onChange?.(from, to);
  }

  private record(failure: 0 | 1): void {
    const i = this.rotate(this.now());
    this.requests[i]!++;
    this.failures[i]! += failure;
    this.windowRequests++;
    this.windowFailures += failure;
  }

  /** Empties the buckets that fell out of the window since the last call; returns the current bucket's index. */
  private rotate(now: number): number {
    const epoch = Math.floor(now / this.bucketMs);
    // A clock that stepped back keeps writing into the newest bucket rather than reviving expired ones.
    if (epoch > this.epoch) {
      const stale = Math.min(epoch - this.epoch, BUCKETS);
      for (let k = 1; k <= stale; k++) {
        const i = (this.epoch + k) % BUCKETS;
        this.windowRequests -= this.requests[i]!;
        this.windowFailures -= this.failures[i]!;
        this.requests[i] = 0;
        this.failures[i] = 0;
      }
      this.epoch = epoch;
    }
    return this.epoch % BUCKETS;
  }

  private clearWindow(): void {
    this.requests.fill(0);
    this.failures.fill(0);
    this.windowRequests = 0;
    this.windowFailures = 0;
    this.epoch = Math.floor(this.now() / this.bucketMs);
  }
}
