// One suite for both limit backends: in memory, and on Redis at 127.0.0.1:6379 (skipped, saying so, when no Redis
// answers there). Every test drives its own clock, starting at the real time and only moving forward: the memory
// backend keeps the latest time it was given, and Redis expires keys in real time, so periods and ttls here are long
// enough (a minute and more) that no key expires while a test runs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect as connectTcp, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { LimitBackend, LimitOp, OpResult, Settlement } from './backend.ts';
import { LEASE_RETRY_MS, LimitBackendClosedError } from './gcra.ts';
import { createLimitBackend } from './index.ts';
import { MemoryLimitBackend } from './memory.ts';
import { RedisLimitBackend, type RedisLimitBackendOptions } from './redis.ts';
import { REDIS_URL, redisSkipReason } from '../../test/helpers/redis.ts';

const namespace = `limittest-${randomUUID()}`;
const MINUTE = 60_000;
const HOUR = 3_600_000;

const unique = (name: string) => `${name}:${randomUUID()}`;

type RateOp = Extract<LimitOp, { kind: 'rate' }>;
type WindowOp = Extract<LimitOp, { kind: 'window' }>;
type ConcurrencyOp = Extract<LimitOp, { kind: 'concurrency' }>;

const rate = (key: string, o: Partial<RateOp> = {}): RateOp => ({ kind: 'rate', key, limit: 10, periodMs: MINUTE, burst: 10, cost: 1, ...o });
const windowOp = (key: string, start: number, o: Partial<WindowOp> = {}): WindowOp => ({
  kind: 'window',
  key,
  limit: 100,
  windowStartMs: start,
  bucketStartMs: start,
  cost: 1,
  ttlMs: HOUR,
  ...o,
});
const concurrency = (key: string, lease: string, o: Partial<ConcurrencyOp> = {}): ConcurrencyOp => ({ kind: 'concurrency', key, limit: 2, lease, ttlMs: MINUTE, ...o });

async function one(backend: LimitBackend, op: LimitOp, nowMs: number): Promise<OpResult> {
  const admission = await backend.admit([op], nowMs);
  assert.equal(admission.results.length, 1);
  assert.equal(admission.admitted, admission.results[0]!.allowed && !admission.results[0]!.missing);
  return admission.results[0]!;
}

const passed = (remaining: number, resetMs = 0): OpResult => ({ allowed: true, remaining, resetMs, retryAfterMs: 0, missing: false });
const refused = (remaining: number, resetMs: number, retryAfterMs: number): OpResult => ({ allowed: false, remaining, resetMs, retryAfterMs, missing: false });

/** The contract both backends meet. `open` gives a new client of the same store, as another instance would have. */
function limitSuite(open: () => Promise<LimitBackend>) {
  const backends: LimitBackend[] = [];
  const fresh = async () => {
    const backend = await open();
    backends.push(backend);
    return { backend, t0: Date.now() };
  };
  after(() => Promise.all(backends.map((b) => b.close())));

  test('rate: a burst passes at once, then one unit per emission interval, with exact reset and retry-after', async () => {
    const { backend, t0 } = await fresh();
    // 10 a minute: one every 6 s, at most 5 at once.
    const op = rate(unique('r'), { limit: 10, burst: 5 });
    for (let i = 1; i <= 5; i++) assert.deepEqual(await one(backend, op, t0), passed(5 - i, 6000 * i));
    assert.deepEqual(await one(backend, op, t0), refused(0, 30_000, 6000));
    assert.deepEqual(await one(backend, op, t0 + 5999), refused(0, 24_001, 1));
    assert.deepEqual(await one(backend, op, t0 + 6000), passed(0, 30_000));
    assert.deepEqual(await one(backend, op, t0 + 6000), refused(0, 30_000, 6000));
    for (const at of [12_000, 18_000, 24_000]) {
      assert.equal((await one(backend, op, t0 + at)).allowed, true);
      assert.equal((await one(backend, op, t0 + at)).allowed, false);
    }
    // Idle for the bucket's whole span: full again.
    assert.deepEqual(await one(backend, op, t0 + 24_000 + 30_000), passed(4, 6000));
  });

  test('rate: an emission interval that is not a whole number of milliseconds is kept exactly', async () => {
    const { backend, t0 } = await fresh();
    // 7 a minute: one every 8571.43 ms.
    const op = rate(unique('r'), { limit: 7, burst: 7 });
    for (let i = 0; i < 7; i++) assert.equal((await one(backend, op, t0)).allowed, true);
    assert.deepEqual(await one(backend, op, t0), refused(0, MINUTE, 8572));
    assert.deepEqual(await one(backend, op, t0 + 8571), refused(0, 51_429, 1));
    assert.deepEqual(await one(backend, op, t0 + 8572), passed(0, 60_000));
    // The TAT is now t0 + 8572 + 59999.43: a millisecond before it, 3/7 ms of the bucket is still taken, so a
    // request there leaves 5 rather than 6.
    assert.deepEqual(await one(backend, op, t0 + 8572 + 59_999), passed(5, 8572));
    assert.deepEqual(await one(backend, rate(unique('r'), { limit: 3, periodMs: 1000, burst: 1 }), t0), passed(0, 334));
  });

  test('rate: a cost larger than the burst is refused for good (retry-after 0) and takes nothing', async () => {
    const { backend, t0 } = await fresh();
    const op = rate(unique('r'), { burst: 5 });
    assert.deepEqual(await one(backend, { ...op, cost: 6 }, t0), refused(5, 0, 0));
    assert.deepEqual(await one(backend, { ...op, cost: 5 }, t0), passed(0, 30_000));
  });

  test('rate: a refund gives capacity back, but never fills the bucket past its burst', async () => {
    const { backend, t0 } = await fresh();
    const op = rate(unique('r'));
    const settle = (delta: number, at: number) => backend.settle([{ kind: 'rate', key: op.key, limit: op.limit, periodMs: op.periodMs, burst: op.burst, delta }], at);
    assert.deepEqual(await one(backend, { ...op, cost: 8 }, t0), passed(2, 48_000));
    await settle(-6, t0);
    assert.deepEqual(await one(backend, op, t0), passed(7, 18_000));
    await settle(-100, t0);
    assert.deepEqual(await one(backend, op, t0), passed(9, 6000));
  });

  test('rate: settling more than was taken overdraws the bucket, refused until the debt is paid off', async () => {
    const { backend, t0 } = await fresh();
    const op = rate(unique('r'));
    assert.deepEqual(await one(backend, { ...op, cost: 10 }, t0), passed(0, MINUTE));
    await backend.settle([{ kind: 'rate', key: op.key, limit: 10, periodMs: MINUTE, burst: 10, delta: 5 }], t0);
    assert.deepEqual(await one(backend, op, t0), refused(0, 90_000, 36_000));
    assert.deepEqual(await one(backend, op, t0 + 35_999), refused(0, 54_001, 1));
    assert.deepEqual(await one(backend, op, t0 + 36_000), passed(0, MINUTE));
  });

  test('window: a counter never seeded is missing, and takes nothing from the ops admitted with it', async () => {
    const { backend, t0 } = await fresh();
    const r = rate(unique('r'), { burst: 3 });
    const w = windowOp(unique('w'), t0);
    assert.equal(await backend.peek(w.key, t0), undefined);
    const admission = await backend.admit([r, w], t0);
    assert.equal(admission.admitted, false);
    assert.deepEqual(admission.results, [passed(2, 6000), { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0, missing: true }]);
    assert.equal(await backend.peek(w.key, t0), undefined);
    assert.deepEqual(await one(backend, r, t0), passed(2, 6000));
  });

  test('window: totals count from windowStartMs on, admissions add to their bucket, and old buckets are pruned', async () => {
    const { backend, t0 } = await fresh();
    const s = t0 - (t0 % HOUR);
    const key = unique('w');
    await backend.seed(
      key,
      new Map([
        [s - 2 * HOUR, 30],
        [s - HOUR, 20],
        [s, 5],
      ]),
      HOUR,
    );
    assert.equal(await backend.peek(key, s - 2 * HOUR), 55);
    assert.equal(await backend.peek(key, s - HOUR), 25);
    const op = windowOp(key, s - HOUR, { bucketStartMs: s, limit: 100 });
    assert.deepEqual(await one(backend, { ...op, cost: 70 }, t0), passed(5));
    assert.deepEqual(await one(backend, { ...op, cost: 6 }, t0), { allowed: false, remaining: 5, resetMs: 0, retryAfterMs: 0, missing: false });
    assert.deepEqual(await one(backend, { ...op, cost: 5 }, t0), passed(0));
    // The bucket that left the window is gone, not merely left out.
    assert.equal(await backend.peek(key, s - 2 * HOUR), 100);
    assert.equal(await backend.peek(key, s), 80);
  });

  test('window: seeding never overwrites a counter that exists, even an empty one', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('w');
    await backend.seed(key, new Map([[t0, 10]]), HOUR);
    assert.equal((await one(backend, windowOp(key, t0, { cost: 5 }), t0)).allowed, true);
    await backend.seed(key, new Map([[t0, 1000]]), HOUR);
    assert.equal(await backend.peek(key, t0), 15);

    const empty = unique('w');
    await backend.seed(empty, new Map(), HOUR);
    assert.equal(await backend.peek(empty, t0), 0);
    await backend.seed(empty, new Map([[t0, 1000]]), HOUR);
    assert.equal(await backend.peek(empty, t0), 0);
  });

  test('window: a counter stays seeded after every bucket has left its window', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('w');
    await backend.seed(key, new Map([[t0, 10]]), HOUR);
    const later = t0 + 2 * HOUR;
    // Refused (it never fits), yet its old bucket is pruned, leaving the counter with none.
    assert.deepEqual(await one(backend, windowOp(key, later, { cost: 101 }), t0), { allowed: false, remaining: 100, resetMs: 0, retryAfterMs: 0, missing: false });
    assert.equal(await backend.peek(key, 0), 0);
    assert.deepEqual(await one(backend, windowOp(key, later, { cost: 40 }), t0), passed(60));
    assert.equal(await backend.peek(key, 0), 40);
  });

  test('window: settlements adjust a bucket either way, and never create a counter', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('w');
    await backend.seed(key, new Map(), HOUR);
    assert.equal((await one(backend, windowOp(key, t0, { cost: 50 }), t0)).allowed, true);
    const settle = (k: string, delta: number) => backend.settle([{ kind: 'window', key: k, bucketStartMs: t0, delta, ttlMs: HOUR }], t0);
    await settle(key, -30);
    assert.equal(await backend.peek(key, t0), 20);
    await settle(key, 10);
    assert.equal(await backend.peek(key, t0), 30);
    const gone = unique('w');
    await settle(gone, 10);
    assert.equal(await backend.peek(gone, t0), undefined);
    assert.equal((await one(backend, windowOp(gone, t0), t0)).missing, true);
  });

  test('concurrency: at most limit leases; a release frees one; a lease admitted again keeps its one slot', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('c');
    assert.deepEqual(await one(backend, concurrency(key, 'a'), t0), passed(1));
    assert.deepEqual(await one(backend, concurrency(key, 'a'), t0), passed(1));
    assert.deepEqual(await one(backend, concurrency(key, 'b'), t0), passed(0));
    assert.deepEqual(await one(backend, concurrency(key, 'c'), t0), refused(0, 0, LEASE_RETRY_MS));
    await backend.settle([{ kind: 'release', key, lease: 'a' }], t0);
    assert.deepEqual(await one(backend, concurrency(key, 'c'), t0), passed(0));
    await backend.settle(
      [
        { kind: 'release', key, lease: 'b' },
        { kind: 'release', key, lease: 'c' },
        { kind: 'release', key, lease: 'never held' },
      ],
      t0,
    );
    assert.deepEqual(await one(backend, concurrency(key, 'd', { limit: 1 }), t0), passed(0));
  });

  test('concurrency: a lease nobody releases expires after its ttl, and retry-after points at the soonest expiry', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('c');
    assert.equal((await one(backend, concurrency(key, 'a', { limit: 1 }), t0)).allowed, true);
    assert.deepEqual(await one(backend, concurrency(key, 'b', { limit: 1 }), t0 + MINUTE - 300), refused(0, 0, 300));
    assert.deepEqual(await one(backend, concurrency(key, 'b', { limit: 1 }), t0 + MINUTE), passed(0));
  });

  test('all or nothing: one refusing op leaves every other counter of the admission as it was', async () => {
    const { backend, t0 } = await fresh();
    const r = rate(unique('r'), { burst: 5 });
    const w = windowOp(unique('w'), t0, { cost: 10 });
    const c = unique('c');
    await backend.seed(w.key, new Map(), HOUR);
    assert.equal((await one(backend, concurrency(c, 'held', { limit: 1 }), t0)).allowed, true);
    const ops = [r, w, concurrency(c, 'mine', { limit: 1 })];
    const refusedAdmission = await backend.admit(ops, t0);
    assert.equal(refusedAdmission.admitted, false);
    assert.deepEqual(
      refusedAdmission.results.map((x) => x.allowed),
      [true, true, false],
    );
    assert.equal(await backend.peek(w.key, t0), 0);
    await backend.settle([{ kind: 'release', key: c, lease: 'held' }], t0);
    const admission = await backend.admit(ops, t0);
    assert.equal(admission.admitted, true);
    assert.deepEqual(admission.results, [passed(4, 6000), passed(90), passed(0)]);
    assert.equal(await backend.peek(w.key, t0), 10);
  });

  test('arguments are checked before anything is counted', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('r');
    await assert.rejects(backend.admit([rate(key), rate(key)], t0), /appears twice/);
    await assert.rejects(backend.admit([rate(key, { cost: 1.5 })], t0), RangeError);
    await assert.rejects(backend.admit([rate(key, { limit: 0 })], t0), RangeError);
    await assert.rejects(backend.admit([rate(key, { burst: 2 ** 40, periodMs: 2 ** 20 })], t0), /too large to count exactly/);
    await assert.rejects(backend.admit([windowOp(key, t0, { ttlMs: 0 })], t0), RangeError);
    await assert.rejects(backend.admit([concurrency(key, '')], t0), RangeError);
    await assert.rejects(backend.admit([rate(key)], -1), RangeError);
    await assert.rejects(backend.settle([{ kind: 'window', key, bucketStartMs: t0, delta: 0.5, ttlMs: HOUR }], t0), RangeError);
    await assert.rejects(backend.seed(key, new Map([[t0, 1.5]]), HOUR), RangeError);
    assert.deepEqual(await one(backend, rate(key), t0), passed(9, 6000));
  });

  test('a key holding another kind of counter is an error, not a silent miscount', async () => {
    const { backend, t0 } = await fresh();
    const key = unique('w');
    await backend.seed(key, new Map(), HOUR);
    await assert.rejects(backend.admit([concurrency(key, 'a')], t0));
  });

  test('an empty admission is admitted; a closed backend rejects every call', async () => {
    const backend = await open();
    assert.deepEqual(await backend.admit([], Date.now()), { admitted: true, results: [] });
    await backend.settle([], Date.now());
    await backend.close();
    await backend.close();
    await assert.rejects(backend.admit([rate('k')], Date.now()), LimitBackendClosedError);
    await assert.rejects(backend.settle([], Date.now()), LimitBackendClosedError);
    await assert.rejects(backend.seed('k', new Map(), HOUR), LimitBackendClosedError);
    await assert.rejects(backend.peek('k', 0), LimitBackendClosedError);
  });
}

describe('MemoryLimitBackend', () => {
  limitSuite(async () => new MemoryLimitBackend());

  test('counters that count nothing any more are swept, so distinct keys cannot pile up', async () => {
    const backend = new MemoryLimitBackend({ sweepMs: 10 });
    try {
      const t0 = Date.now();
      for (let i = 0; i < 500; i++) await backend.admit([rate(`r${i}`, { periodMs: 1000 })], t0);
      for (let i = 0; i < 500; i++) await backend.admit([concurrency(`c${i}`, 'lease', { ttlMs: 1000 })], t0);
      for (let i = 0; i < 500; i++) await backend.seed(`w${i}`, new Map([[t0, 1]]), 1000);
      assert.equal(backend.size, 1500);
      // Time moves on for the limiter, and no request touches those keys again.
      await backend.admit([rate('now', { periodMs: 1000 })], t0 + 1000);
      const deadline = Date.now() + 5_000;
      while (backend.size > 1 && Date.now() < deadline) await sleep(10);
      assert.equal(backend.size, 1);
    } finally {
      await backend.close();
    }
  });

  test('expiry follows the limiter’s clock, even one far from the real time', async () => {
    const backend = new MemoryLimitBackend({ sweepMs: 5 });
    try {
      const t0 = Date.UTC(2020, 0, 1);
      assert.equal(await backend.peek('w', t0), undefined);
      await backend.seed('w', new Map([[t0, 5]]), HOUR);
      assert.deepEqual(await one(backend, windowOp('w', t0), t0), passed(94));
      assert.deepEqual(await one(backend, rate('r'), t0), passed(9, 6000));
      // Sweeps run meanwhile; by the limiter's clock nothing has expired.
      await sleep(50);
      assert.equal(await backend.peek('w', t0), 6);
      assert.deepEqual(await one(backend, rate('r'), t0), passed(8, 12_000));
      assert.equal((await one(backend, windowOp('w', t0), t0 + HOUR)).missing, true);
    } finally {
      await backend.close();
    }
  });

  test('a rate bucket refunded to empty and a concurrency counter with no lease left are dropped at once', async () => {
    const backend = new MemoryLimitBackend();
    try {
      const t0 = Date.now();
      await backend.admit([rate('r'), concurrency('c', 'a')], t0);
      assert.equal(backend.size, 2);
      await backend.settle(
        [
          { kind: 'rate', key: 'r', limit: 10, periodMs: MINUTE, burst: 10, delta: -1 },
          { kind: 'release', key: 'c', lease: 'a' },
        ],
        t0,
      );
      assert.equal(backend.size, 0);
    } finally {
      await backend.close();
    }
  });

  test('createLimitBackend: memory when no Redis is configured or when limits.backend says so; redis needs storage.redis', async () => {
    const plain = await createLimitBackend({});
    assert.ok(plain instanceof MemoryLimitBackend);
    await plain.close();
    const chosen = await createLimitBackend({ storage: { redis: 'redis://127.0.0.1:1' }, limits: { backend: 'memory' } });
    assert.ok(chosen instanceof MemoryLimitBackend);
    await chosen.close();
    await assert.rejects(createLimitBackend({ limits: { backend: 'redis' } }), /storage\.redis is not set/);
  });
});


const unreachable = await redisSkipReason();

describe('RedisLimitBackend', { skip: unreachable }, () => {
  const connectRedis = (options: RedisLimitBackendOptions = {}) => RedisLimitBackend.connect(REDIS_URL, { namespace, ...options });

  after(async () => {
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${namespace}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  limitSuite(() => connectRedis());

  test('two instances racing for one counter never admit past its limit', async () => {
    const [a, b] = [await connectRedis(), await connectRedis()];
    try {
      const t0 = Date.now();
      const race = async (op: (i: number) => LimitOp) => {
        const admissions = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).admit([op(i)], t0)));
        return admissions.filter((x) => x.admitted).length;
      };
      const w = unique('w');
      await a.seed(w, new Map(), HOUR);
      assert.equal(await race(() => windowOp(w, t0, { limit: 50 })), 50);
      assert.equal(await b.peek(w, t0), 50);
      const r = unique('r');
      assert.equal(await race(() => rate(r, { limit: 50, burst: 50 })), 50);
      const c = unique('c');
      assert.equal(await race((i) => concurrency(c, `lease-${i}`, { limit: 50 })), 50);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('the Lua scripts answer exactly as gcra.ts does in memory, over a long random run', async () => {
    const redis = await connectRedis();
    const memory = new MemoryLimitBackend();
    try {
      // mulberry32: the same run every time, so a mismatch can be replayed.
      let seed = 0x5eed;
      const random = () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = (n: number) => Math.floor(random() * n);
      const tag = randomUUID();
      const [r1, r2, w1, w2, c1] = ['r1', 'r2', 'w1', 'w2', 'c1'].map((name) => `${tag}:${name}`) as [string, string, string, string, string];
      const BUCKET = 10 * MINUTE;
      let now = Date.now();
      const window = () => ({ start: Math.floor(now / BUCKET) * BUCKET - 5 * BUCKET, bucket: Math.floor(now / BUCKET) * BUCKET });
      const ops = (): LimitOp[] => {
        const { start, bucket } = window();
        const all: LimitOp[] = [
          rate(r1, { limit: 7, burst: 5, cost: pick(3) }),
          rate(r2, { limit: 1000, burst: 1500, cost: pick(600) }),
          windowOp(w1, start, { bucketStartMs: bucket, limit: 5000, cost: pick(400) }),
          windowOp(w2, start, { bucketStartMs: bucket, limit: 800, cost: pick(100) }),
          concurrency(c1, `lease-${pick(6)}`, { limit: 3, ttlMs: 5 * MINUTE }),
        ];
        return all.filter(() => random() < 0.5);
      };
      const settlements = () => {
        const { bucket } = window();
        return [
          { kind: 'rate', key: r1, limit: 7, periodMs: MINUTE, burst: 5, delta: pick(5) - 2 },
          { kind: 'rate', key: r2, limit: 1000, periodMs: MINUTE, burst: 1500, delta: pick(800) - 500 },
          { kind: 'window', key: w1, bucketStartMs: bucket, delta: pick(200) - 150, ttlMs: HOUR },
          { kind: 'window', key: w2, bucketStartMs: bucket, delta: pick(50) - 25, ttlMs: HOUR },
          { kind: 'release', key: c1, lease: `lease-${pick(6)}` },
        ].filter(() => random() < 0.5) as Settlement[];
      };
      await Promise.all([redis, memory].map((b) => b.seed(w1, new Map([[window().start - BUCKET, 100], [window().start, 300]]), HOUR)));
      let admitted = 0;
      for (let step = 0; step < 300; step++) {
        now += pick(4) === 0 ? pick(3 * MINUTE) : pick(3000);
        const roll = random();
        if (roll < 0.7) {
          const batch = ops();
          const [fromRedis, fromMemory] = await Promise.all([redis.admit(batch, now), memory.admit(batch, now)]);
          assert.deepEqual(fromRedis, fromMemory, `step ${step}: ${JSON.stringify(batch)}`);
          if (fromRedis.admitted) admitted++;
        } else if (roll < 0.9) {
          const batch = settlements();
          await Promise.all([redis.settle(batch, now), memory.settle(batch, now)]);
        } else if (step > 50) {
          // Until then w2 is missing, and every admission that includes it is refused without counting.
          const buckets = new Map([[window().start, pick(700)]]);
          await Promise.all([redis.seed(w2, buckets, HOUR), memory.seed(w2, buckets, HOUR)]);
        }
        for (const key of [w1, w2]) assert.equal(await redis.peek(key, window().start), await memory.peek(key, window().start), `step ${step}: ${key}`);
      }
      assert.ok(admitted > 20, `the run admitted ${admitted} times`);
    } finally {
      await Promise.all([redis.close(), memory.close()]);
    }
  });

  test('an admission of many ops is one round trip, and so is a settlement of many items', async () => {
    const backend = await connectRedis();
    const admin = new Redis(REDIS_URL);
    const monitor = await admin.monitor();
    const tag = randomUUID();
    const seen: string[][] = [];
    let marks = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === tag) marks++;
      // Commands a script runs are listed too, with "lua" as their source: only the client's own count.
      else if (source !== 'lua' && args.some((arg) => arg.includes(tag))) seen.push(args);
    });
    const probe = new Redis(REDIS_URL);
    /** The round trips since the last call: MONITOR lists commands in the order Redis ran them, so once it shows this
     * probe's ECHO it has shown everything before it. */
    const roundTrips = async () => {
      const target = marks + 1;
      await probe.echo(tag);
      const deadline = Date.now() + 5_000;
      while (marks < target && Date.now() < deadline) await sleep(5);
      assert.equal(marks, target, 'MONITOR showed the probe');
      return seen.splice(0).map((args) => args[0]!.toLowerCase());
    };
    try {
      const t0 = Date.now();
      const [r, w, c] = [`${tag}:r`, `${tag}:w`, `${tag}:c`];
      await roundTrips();
      await backend.seed(w, new Map([[t0, 1]]), HOUR);
      assert.deepEqual(await roundTrips(), ['eval']);
      const ops = [rate(r), windowOp(w, t0), concurrency(c, 'a'), rate(`${r}2`), windowOp(w, t0 - HOUR, { key: `${w}2` })];
      const admission = await backend.admit(ops, t0);
      assert.deepEqual(
        admission.results.map((x) => x.missing),
        [false, false, false, false, true],
      );
      assert.deepEqual(await roundTrips(), ['eval']);
      assert.equal((await backend.admit(ops.slice(0, 4), t0)).admitted, true);
      assert.deepEqual(await roundTrips(), ['evalsha']);
      await backend.settle(
        [
          { kind: 'rate', key: r, limit: 10, periodMs: MINUTE, burst: 10, delta: -1 },
          { kind: 'rate', key: `${r}2`, limit: 10, periodMs: MINUTE, burst: 10, delta: 3 },
          { kind: 'window', key: w, bucketStartMs: t0, delta: 7, ttlMs: HOUR },
          { kind: 'release', key: c, lease: 'a' },
        ],
        t0,
      );
      assert.deepEqual(await roundTrips(), ['eval']);
      assert.equal(await backend.peek(w, t0), 9);
      assert.deepEqual(await roundTrips(), ['hgetall']);
    } finally {
      await Promise.all([backend.close(), probe.quit()]);
      monitor.disconnect();
      await admin.quit();
    }
  });

  test('keys carry the namespace, and each counter expires once it counts nothing', async () => {
    const backend = await connectRedis();
    const admin = new Redis(REDIS_URL);
    try {
      const t0 = Date.now();
      const [r, w, c] = [unique('r'), unique('w'), unique('c')];
      await backend.seed(w, new Map(), HOUR);
      await backend.admit([rate(r, { cost: 2 }), windowOp(w, t0), concurrency(c, 'a', { ttlMs: 2 * MINUTE })], t0);
      const ttl = (key: string) => admin.pttl(`${namespace}:limits:${key}`);
      // The rate bucket is empty again 12 s on (plus a second's grace); the window counter lasts its ttl from its
      // last write; the lease set as long as its last lease.
      const [rateTtl, windowTtl, leaseTtl] = await Promise.all([ttl(r), ttl(w), ttl(c)]);
      assert.ok(rateTtl > 10_000 && rateTtl <= 13_000, `rate key ttl ${rateTtl}`);
      assert.ok(windowTtl > HOUR - MINUTE && windowTtl <= HOUR, `window key ttl ${windowTtl}`);
      assert.ok(leaseTtl > MINUTE && leaseTtl <= 2 * MINUTE, `lease key ttl ${leaseTtl}`);
      await backend.settle(
        [
          { kind: 'rate', key: r, limit: 10, periodMs: MINUTE, burst: 10, delta: -2 },
          { kind: 'release', key: c, lease: 'a' },
        ],
        t0,
      );
      assert.deepEqual(await Promise.all([ttl(r), ttl(c)]), [-2, -2]);
    } finally {
      await Promise.all([backend.close(), admin.quit()]);
    }
  });

  test('a Redis that stops answering, or goes away, fails the call instead of holding the request', async () => {
    // A TCP relay to the real Redis that can stop relaying (a hung server) or drop everything (a dead one).
    const sockets = new Set<Socket>();
    let frozen = false;
    const relay = createServer((client) => {
      const upstream = connectTcp(6379, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.on('data', (data) => frozen || upstream.write(data));
      upstream.on('data', (data) => client.write(data));
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        from.on('error', () => to.destroy());
        from.on('close', () => to.destroy());
      }
    });
    await new Promise<void>((listening) => relay.listen(0, '127.0.0.1', listening));
    const port = (relay.address() as { port: number }).port;
    const errors: Error[] = [];
    const backend = await RedisLimitBackend.connect(`redis://127.0.0.1:${port}`, {
      namespace,
      onError: (error) => errors.push(error),
      redis: { commandTimeout: 200 },
    });
    try {
      const t0 = Date.now();
      assert.equal((await backend.admit([rate(unique('r'))], t0)).admitted, true);
      frozen = true;
      await assert.rejects(backend.admit([rate(unique('r'))], t0), /timed out/i);
      relay.close();
      for (const socket of sockets) socket.destroy();
      await assert.rejects(backend.admit([rate(unique('r'))], t0));
      await assert.rejects(backend.settle([{ kind: 'release', key: 'c', lease: 'a' }], t0));
    } finally {
      await backend.close();
    }
  });

  test('createLimitBackend uses Redis when storage.redis is set; an unreachable Redis fails at connect without its password', async () => {
    const backend = await createLimitBackend({ storage: { redis: REDIS_URL } }, { namespace });
    assert.ok(backend instanceof RedisLimitBackend);
    await backend.close();
    await assert.rejects(RedisLimitBackend.connect('redis://:hunter2secret@127.0.0.1:1/0', { redis: { retryStrategy: () => null } }), (error: Error) => {
      assert.match(error.message, /^Redis at redis:\/\/127\.0\.0\.1:1\/0 is not reachable: .*ECONNREFUSED/);
      assert.doesNotMatch(error.message, /hunter2secret/);
      return true;
    });
  });
});
