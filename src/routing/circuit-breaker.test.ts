import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, type CircuitOptions, type CircuitState } from './circuit-breaker.ts';

const T0 = Date.UTC(2025, 0, 1);

/** A clock the test moves by hand. */
function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), at: (ms: number) => void (t = start + ms) };
}

const DEFAULTS: CircuitOptions = {
  consecutive_failures: 3,
  error_rate: 0,
  min_requests: 0,
  window_ms: 10_000,
  cooldown_ms: 30_000,
  half_open_requests: 2,
};

function breaker(opts: Partial<CircuitOptions> = {}) {
  const c = clock();
  const b = new CircuitBreaker({ ...DEFAULTS, ...opts }, c.now);
  const changes: string[] = [];
  b.onChange = (from, to) => changes.push(`${from}>${to}`);
  return { b, c, changes };
}

/** One admitted request that ends with `outcome`. */
function call(b: CircuitBreaker, outcome: 'ok' | 'fail'): void {
  assert.equal(b.acquire(), true);
  if (outcome === 'ok') b.succeeded();
  else b.failed();
}

/** Trips a consecutive-failures breaker and lets the cooldown run out. */
function toHalfOpen(b: CircuitBreaker, c: ReturnType<typeof clock>): void {
  for (let i = 0; i < DEFAULTS.consecutive_failures; i++) call(b, 'fail');
  assert.equal(b.state, 'open');
  c.advance(DEFAULTS.cooldown_ms);
}

test('opens after consecutive_failures failures in a row; a success breaks the run', () => {
  const { b } = breaker();
  call(b, 'fail');
  call(b, 'fail');
  call(b, 'ok');
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed');
  assert.equal(b.snapshot().consecutive_failures, 2);
  call(b, 'fail');
  assert.equal(b.state, 'open');
  assert.equal(b.acquire(), false);
  const s = b.snapshot();
  assert.equal(s.consecutive_failures, 3);
  assert.equal(s.times_opened, 1);
  assert.equal(s.window_requests, 6);
  assert.equal(s.window_failures, 5);
});

test('opens on error rate only once the window holds min_requests', () => {
  const { b } = breaker({ consecutive_failures: 0, error_rate: 0.5, min_requests: 4 });
  call(b, 'fail');
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed', '3 of 3 failed, but below min_requests');
  assert.equal(b.snapshot().error_rate, 1);
  call(b, 'fail');
  assert.equal(b.state, 'open');
  assert.equal(b.snapshot().window_requests, 4);
});

test('opens when the error rate reaches the share exactly, not below it', () => {
  const { b } = breaker({ consecutive_failures: 0, error_rate: 0.3, min_requests: 10 });
  for (let i = 0; i < 7; i++) call(b, 'ok');
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed');
  call(b, 'fail'); // 3 / 10
  assert.equal(b.state, 'open');
  assert.equal(b.snapshot().error_rate, 0.3);
});

test('old outcomes age out of the window', () => {
  const { b, c } = breaker({ consecutive_failures: 0, error_rate: 0.5, min_requests: 4 });
  call(b, 'fail');
  call(b, 'fail');
  c.at(5_000);
  call(b, 'fail');
  c.at(9_999);
  assert.equal(b.snapshot().window_failures, 3);
  c.at(10_000);
  let s = b.snapshot();
  assert.equal(s.window_requests, 1, 'the two failures at 0 have left, the one at 5s has not');
  assert.equal(s.window_failures, 1);
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed', '3 failures in the window, below min_requests');
  c.at(15_000);
  assert.equal(b.snapshot().window_requests, 2);
  c.at(1_000_000);
  s = b.snapshot();
  assert.equal(s.window_requests, 0, 'a gap longer than the window empties it');
  assert.equal(s.window_failures, 0);
  assert.equal(s.error_rate, 0);
  for (let i = 0; i < 3; i++) call(b, 'fail');
  assert.equal(b.state, 'closed');
  call(b, 'fail');
  assert.equal(b.state, 'open');
});

test('a clock that steps back does not revive expired outcomes or lose current ones', () => {
  const { b, c } = breaker({ consecutive_failures: 0, error_rate: 0.5, min_requests: 100 });
  call(b, 'fail');
  c.at(20_000);
  call(b, 'ok');
  c.at(1_000);
  call(b, 'ok');
  const s = b.snapshot();
  assert.equal(s.window_requests, 2);
  assert.equal(s.window_failures, 0);
});

test('open refuses until the cooldown ends, then half-open admits exactly half_open_requests probes', () => {
  const { b, c } = breaker({ half_open_requests: 2 });
  for (let i = 0; i < 3; i++) call(b, 'fail');
  c.advance(29_999);
  assert.equal(b.acquire(), false);
  assert.equal(b.state, 'open');
  assert.equal(b.retryInMs(), 1);
  assert.equal(b.snapshot().retry_at, new Date(T0 + 30_000).toISOString());
  c.advance(1);
  assert.equal(b.retryInMs(), 0);
  assert.equal(b.state, 'half-open', 'reported before any acquire');
  assert.equal(b.snapshot().retry_at, null);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), false);
  assert.equal(b.acquire(), false);
  assert.equal(b.state, 'half-open');
});

test('half_open_requests successes in a row close the circuit with an empty window', () => {
  const { b, c } = breaker({ half_open_requests: 2 });
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  b.succeeded();
  assert.equal(b.state, 'half-open', 'one success of two');
  assert.equal(b.acquire(), true, 'the finished probe freed its slot');
  b.succeeded();
  assert.equal(b.state, 'closed');
  const s = b.snapshot();
  assert.equal(s.window_requests, 0);
  assert.equal(s.window_failures, 0);
  assert.equal(s.consecutive_failures, 0);
  assert.equal(s.opened_at, null);
  assert.equal(s.retry_at, null);
  assert.equal(s.times_opened, 1);
  // The third probe ends after closing and counts like any closed-state request.
  b.succeeded();
  assert.equal(b.snapshot().window_requests, 1);
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed', 'the failures that opened it are forgotten');
});

test('closing forgets the window that opened it, even when it has not aged out', () => {
  const { b, c } = breaker({ consecutive_failures: 0, error_rate: 0.5, min_requests: 4, window_ms: 60_000, cooldown_ms: 1_000, half_open_requests: 1 });
  for (let i = 0; i < 4; i++) call(b, 'fail');
  assert.equal(b.state, 'open');
  c.advance(1_000);
  call(b, 'ok');
  assert.equal(b.state, 'closed');
  assert.equal(b.snapshot().window_requests, 0);
  call(b, 'fail');
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'closed', '3 of 3 failed, below min_requests in the fresh window');
});

test('while open the window is frozen, showing what tripped it', () => {
  const { b, c } = breaker({ consecutive_failures: 0, error_rate: 0.6, min_requests: 5, window_ms: 10_000, cooldown_ms: 60_000 });
  call(b, 'ok');
  call(b, 'ok');
  for (let i = 0; i < 3; i++) call(b, 'fail');
  c.advance(20_000);
  const s = b.snapshot();
  assert.equal(s.state, 'open');
  assert.equal(s.window_requests, 5);
  assert.equal(s.window_failures, 3);
  assert.equal(s.error_rate, 0.6);
});

test('a probe failing reopens the circuit with a fresh cooldown', () => {
  const { b, c } = breaker({ half_open_requests: 2 });
  toHalfOpen(b, c);
  c.advance(5_000); // half-open for a while before a probe fails
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  b.succeeded();
  b.failed();
  assert.equal(b.state, 'open');
  assert.equal(b.retryInMs(), 30_000);
  const s = b.snapshot();
  assert.equal(s.times_opened, 2);
  assert.equal(s.opened_at, new Date(T0 + 35_000).toISOString());
  assert.equal(s.retry_at, new Date(T0 + 65_000).toISOString());
  c.advance(29_999);
  assert.equal(b.acquire(), false);
  c.advance(1);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true, 'probe slots start over after reopening');
  assert.equal(b.acquire(), false);
});

test('released() frees a probe slot and counts as neither success nor failure', () => {
  const { b, c } = breaker({ half_open_requests: 1 });
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), false);
  b.released();
  assert.equal(b.state, 'half-open');
  assert.equal(b.acquire(), true);
  b.succeeded();
  assert.equal(b.state, 'closed');
});

test('released() does not let probe accounting go negative', () => {
  const { b, c } = breaker({ half_open_requests: 2 });
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true);
  b.released();
  b.released();
  b.released();
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), false, 'still only half_open_requests probes');
});

test('released() while closed or open counts nothing', () => {
  const { b } = breaker();
  assert.equal(b.acquire(), true);
  b.released();
  assert.equal(b.snapshot().window_requests, 0);
  for (let i = 0; i < 3; i++) call(b, 'fail');
  b.released();
  assert.equal(b.state, 'open');
  assert.equal(b.retryInMs(), 30_000);
});

test('late results while open neither close it nor extend the cooldown', () => {
  const { b, c, changes } = breaker({ half_open_requests: 1 });
  // Five requests go out while closed; three fail and open it, two are still out.
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), true);
  b.failed();
  b.failed();
  b.failed();
  assert.equal(b.state, 'open');
  const before = b.snapshot();
  c.advance(10_000);
  b.succeeded(); // late success: the target answered one old request
  b.failed(); // late failure: an old request timed out
  assert.equal(b.state, 'open');
  assert.equal(b.retryInMs(), 20_000, 'cooldown still counts from the first opening');
  const after = b.snapshot();
  assert.equal(after.times_opened, 1);
  assert.equal(after.consecutive_failures, before.consecutive_failures);
  assert.equal(after.window_requests, before.window_requests);
  assert.equal(after.window_failures, before.window_failures);
  assert.deepEqual(changes, ['closed>open']);
});

test('late results in half-open with no probe outstanding are ignored', () => {
  const { b, c } = breaker({ half_open_requests: 1 });
  assert.equal(b.acquire(), true); // a slow request from the closed days
  assert.equal(b.acquire(), true);
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true, 'turns half-open');
  b.released(); // the probe was refused before sending
  b.failed(); // the slow request times out, but no probe is out
  assert.equal(b.state, 'half-open');
  b.succeeded(); // nor can a late success close it
  assert.equal(b.state, 'half-open');
  assert.equal(b.snapshot().times_opened, 1);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), false, 'late results freed no slot');
});

test('a result in half-open while a probe is out is taken as the probe\'s', () => {
  const { b, c } = breaker({ half_open_requests: 1 });
  assert.equal(b.acquire(), true); // slow request from the closed days
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true); // the probe
  b.failed(); // cannot be told from the probe's failure, so it reopens: the safe direction
  assert.equal(b.state, 'open');
  assert.equal(b.snapshot().times_opened, 2);
  b.succeeded(); // the probe itself, now late
  assert.equal(b.state, 'open');
  assert.equal(b.retryInMs(), 30_000);
});

test('reset() closes the circuit with empty counters', () => {
  const { b, c } = breaker({ consecutive_failures: 3, error_rate: 0.5, min_requests: 4 });
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true);
  b.reset();
  const s = b.snapshot();
  assert.deepEqual(s, {
    state: 'closed',
    consecutive_failures: 0,
    window_requests: 0,
    window_failures: 0,
    error_rate: 0,
    opened_at: null,
    retry_at: null,
    times_opened: 1,
  });
  b.failed(); // the probe let through before the reset counts as a closed-state failure
  call(b, 'fail');
  call(b, 'ok');
  assert.equal(b.state, 'closed');
  // reset() while closed empties the counters too
  b.reset();
  call(b, 'fail');
  call(b, 'fail');
  call(b, 'fail');
  assert.equal(b.state, 'open', 'opens on its own count after the reset');
  assert.equal(b.snapshot().window_requests, 3);
});

test('onChange sees every transition, in order, and a settled breaker', () => {
  const { b, c, changes } = breaker({ half_open_requests: 1 });
  const seen: CircuitState[] = [];
  b.onChange = (from, to) => {
    changes.push(`${from}>${to}`);
    seen.push(b.state);
  };
  toHalfOpen(b, c);
  assert.equal(b.acquire(), true);
  b.failed();
  c.advance(30_000);
  assert.equal(b.acquire(), true);
  b.succeeded();
  b.reset(); // already closed: no change to report
  for (let i = 0; i < 3; i++) call(b, 'fail');
  b.reset();
  assert.deepEqual(changes, [
    'closed>open',
    'open>half-open',
    'half-open>open',
    'open>half-open',
    'half-open>closed',
    'closed>open',
    'open>closed',
  ]);
  assert.deepEqual(seen, ['open', 'half-open', 'open', 'half-open', 'closed', 'open', 'closed']);
});

test('rules set to 0 are off', () => {
  const off = breaker({ consecutive_failures: 0, error_rate: 0 });
  for (let i = 0; i < 1000; i++) call(off.b, 'fail');
  assert.equal(off.b.state, 'closed');
  assert.equal(off.b.snapshot().window_failures, 1000);

  const rateOnly = breaker({ consecutive_failures: 0, error_rate: 0.9, min_requests: 20 });
  for (let i = 0; i < 19; i++) call(rateOnly.b, 'fail');
  assert.equal(rateOnly.b.state, 'closed', '19 in a row do not open it with the consecutive rule off');
  call(rateOnly.b, 'fail');
  assert.equal(rateOnly.b.state, 'open');

  const runOnly = breaker({ consecutive_failures: 3, error_rate: 0, min_requests: 0 });
  for (let i = 0; i < 50; i++) {
    call(runOnly.b, 'fail');
    call(runOnly.b, 'fail');
    call(runOnly.b, 'ok');
  }
  assert.equal(runOnly.b.state, 'closed', 'a 67% error rate does not open it with the rate rule off');
  call(runOnly.b, 'fail');
  call(runOnly.b, 'fail');
  call(runOnly.b, 'fail');
  assert.equal(runOnly.b.state, 'open');
});

test('a zero cooldown goes half-open at once', () => {
  const { b } = breaker({ cooldown_ms: 0, half_open_requests: 1 });
  for (let i = 0; i < 3; i++) call(b, 'fail');
  assert.equal(b.state, 'half-open');
  assert.equal(b.retryInMs(), 0);
  assert.equal(b.acquire(), true);
  assert.equal(b.acquire(), false);
});

test('the constructor rejects options it cannot honour', () => {
  const make = (o: Partial<CircuitOptions>) => () => new CircuitBreaker({ ...DEFAULTS, ...o });
  assert.throws(make({ error_rate: 1.5 }), /error_rate/);
  assert.throws(make({ error_rate: -0.1 }), /error_rate/);
  assert.throws(make({ window_ms: 0 }), /window_ms/);
  assert.throws(make({ half_open_requests: 0 }), /half_open_requests/);
  assert.throws(make({ half_open_requests: 1.5 }), /half_open_requests/);
  assert.throws(make({ cooldown_ms: -1 }), /cooldown_ms/);
  assert.throws(make({ consecutive_failures: -1 }), /consecutive_failures/);
  assert.throws(make({ min_requests: Number.NaN }), /min_requests/);
  assert.doesNotThrow(make({}));
});

test('the closed-state path keeps counting correctly over many window rotations', () => {
  const { b, c } = breaker({ consecutive_failures: 0, error_rate: 0.5, min_requests: 1 });
  // One success per 100 ms for a minute, so every 1 s bucket of the 10 s window fills with 10.
  for (let i = 0; i < 600; i++) {
    c.at(i * 100);
    call(b, 'ok');
  }
  assert.equal(b.snapshot().window_requests, 100, 'at 59.9 s: the buckets from 50 s to 59 s');
  c.advance(100);
  assert.equal(b.snapshot().window_requests, 90, 'at 60 s the 50 s bucket has left and the new one is empty');
  call(b, 'fail');
  const s = b.snapshot();
  assert.equal(s.window_requests, 91);
  assert.equal(s.window_failures, 1);
});

test('active probes: failures count while closed, a success lets an open circuit take live probes at once', () => {
  const { b, c, changes } = breaker();
  b.probed(true);
  assert.equal(b.snapshot().window_requests, 0, 'an idle probe does not dilute the error rate');
  for (let i = 0; i < DEFAULTS.consecutive_failures; i++) b.probed(false);
  assert.equal(b.state, 'open', 'a dead target is found before any client request');
  c.advance(1_000);
  assert.equal(b.acquire(), false);
  b.probed(true);
  assert.equal(b.state, 'half-open', 'recovered: live probes go through without waiting out the cooldown');
  call(b, 'ok');
  call(b, 'ok');
  assert.equal(b.state, 'closed', 'closed by live requests, never by probes alone');
  assert.deepEqual(changes, ['closed>open', 'open>half-open', 'half-open>closed']);
});

test('active probes: a failed probe keeps an open circuit open for another cooldown, and reopens a half-open one', () => {
  const { b, c } = breaker();
  for (let i = 0; i < DEFAULTS.consecutive_failures; i++) call(b, 'fail');
  c.advance(DEFAULTS.cooldown_ms - 1);
  b.probed(false);
  c.advance(2);
  assert.equal(b.acquire(), false, 'the cooldown started again at the failed probe');
  assert.equal(b.snapshot().times_opened, 1, 'still the same opening');
  c.advance(DEFAULTS.cooldown_ms);
  assert.equal(b.acquire(), true);
  assert.equal(b.state, 'half-open');
  b.probed(false);
  assert.equal(b.state, 'open');
  assert.equal(b.snapshot().times_opened, 2);
});
