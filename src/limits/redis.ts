// The limit counters on Redis, shared by every gateway instance of a deployment. Each admission is one Lua script
// over all of its keys, which Redis runs atomically: every op is checked, then all are applied or none, so instances
// racing for the last unit of a limit can never both get it. Each settlement batch and each seed is one script too.
// The scripts mirror gcra.ts step for step (same integer arithmetic, same order); the one Redis-only part is expiry:
// every key carries a PEXPIRE so counters nobody uses vanish on their own.
//
// Keys: a rate counter is a hash {t: TAT ms, r: TAT remainder}; a window counter a hash of bucket start -> total plus
// the field "_", which marks it seeded even once every bucket has left its window; a concurrency counter a sorted set
// of leases scored by expiry. Script calls need every key on one node, so this is for a single Redis (or a primary
// with replicas), not Redis Cluster.

import type { Redis, RedisOptions } from 'ioredis';
import { prefixer, reportError } from '../store/kv/types.ts';
import { connectRedis } from '../store/redis-connection.ts';
import type { Admission, LimitBackend, LimitOp, OpResult, Settlement } from './backend.ts';
import { checkNow, checkOps, checkSeed, checkSettlements, LEASE_RETRY_MS, LimitBackendClosedError, windowValue } from './gcra.ts';

/**
 * Redis expires keys by its own clock while TATs follow the gateways' clocks, which differ a little: a rate key
 * outlives its TAT by this much, so an instance slightly behind still sees the bucket's fill. A key kept past its TAT
 * changes no answer (its fill is 0 either way).
 */
const RATE_KEY_GRACE_MS = 1000;

/** The window counters' seeded marker field; bucket fields are decimal start times. */
const SEEDED = '_';

// Shared by the admit and settle scripts: gcra.ts's rateLevel and tatOf, reading and writing the key directly.
const RATE = `
local function level_of(key, limit, now)
  local t = redis.call('HMGET', key, 't', 'r')
  if not t[1] then return 0 end
  local ms = tonumber(t[1])
  if ms < now then return 0 end
  return (ms - now) * limit + tonumber(t[2])
end

local function store_tat(key, level, limit, now)
  if level <= 0 then
    redis.call('DEL', key)
    return
  end
  local q = math.floor(level / limit)
  local rem = level - q * limit
  redis.call('HSET', key, 't', now + q, 'r', rem)
  local until_tat = q
  if rem > 0 then until_tat = q + 1 end
  redis.call('PEXPIRE', key, until_tat + ${RATE_KEY_GRACE_MS})
end
`;

/**
 * KEYS: one per op. ARGV[1]: now; then 6 per op: kind and its numbers, '' where a kind has fewer.
 *   r: limit, periodMs, burst, cost      w: limit, windowStartMs, bucketStartMs, cost, ttlMs      c: limit, lease, ttlMs
 * Returns admitted, then per op: allowed, remaining, resetMs, retryAfterMs, missing (1/0 for the flags).
 */
const ADMIT = `${RATE}
local now = tonumber(ARGV[1])
local reply = {1}
local rate_after = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local a = (i - 1) * 6 + 1
  local kind = ARGV[a + 1]
  local allowed, remaining, reset, retry, missing = 0, 0, 0, 0, 0
  if kind == 'r' then
    local limit, period, burst, cost = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
    local level = level_of(key, limit, now)
    local need = cost * period
    local cap = burst * period
    local after = level
    if cost <= burst and level + need <= cap then
      allowed = 1
      after = level + need
    elseif cost <= burst then
      retry = math.ceil((level + need - cap) / limit)
    end
    remaining = math.max(0, math.floor((cap - after) / period))
    reset = math.ceil(after / limit)
    rate_after[i] = after
  elseif kind == 'w' then
    local limit, wstart, cost = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
    local h = redis.call('HGETALL', key)
    if #h == 0 then
      missing = 1
    else
      local value = 0
      for j = 1, #h, 2 do
        if h[j] ~= '${SEEDED}' then
          if tonumber(h[j]) >= wstart then
            value = value + tonumber(h[j + 1])
          else
            redis.call('HDEL', key, h[j])
          end
        end
      end
      if value + cost <= limit then
        allowed = 1
        remaining = math.max(0, limit - value - cost)
      else
        remaining = math.max(0, limit - value)
      end
    end
  elseif kind == 'c' then
    local limit, lease = tonumber(ARGV[a + 2]), ARGV[a + 3]
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
    local live = redis.call('ZCARD', key)
    if redis.call('ZSCORE', key, lease) then live = live - 1 end
    if live < limit then
      allowed = 1
      remaining = math.max(0, limit - live - 1)
    else
      remaining = math.max(0, limit - live)
      local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      if first[2] then retry = math.min(tonumber(first[2]) - now, ${LEASE_RETRY_MS}) end
    end
  end
  if allowed == 0 then reply[1] = 0 end
  local at = (i - 1) * 5 + 2
  reply[at], reply[at + 1], reply[at + 2], reply[at + 3], reply[at + 4] = allowed, remaining, reset, retry, missing
end
if reply[1] == 1 then
  for i = 1, #KEYS do
    local key = KEYS[i]
    local a = (i - 1) * 6 + 1
    local kind = ARGV[a + 1]
    if kind == 'r' then
      store_tat(key, rate_after[i], tonumber(ARGV[a + 2]), now)
    elseif kind == 'w' then
      redis.call('HINCRBY', key, ARGV[a + 4], ARGV[a + 5])
      redis.call('PEXPIRE', key, ARGV[a + 6])
    elseif kind == 'c' then
      redis.call('ZADD', key, now + tonumber(ARGV[a + 4]), ARGV[a + 3])
      local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
      redis.call('PEXPIRE', key, tonumber(last[2]) - now)
    end
  end
end
return reply`;

/**
 * KEYS: one per settlement. ARGV[1]: now; then 5 per settlement: kind and its values, '' where a kind has fewer.
 *   r: limit, periodMs, burst, delta      w: bucketStartMs, delta, ttlMs      x (release): lease
 */
const SETTLE = `${RATE}
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local key = KEYS[i]
  local a = (i - 1) * 5 + 1
  local kind = ARGV[a + 1]
  if kind == 'r' then
    local limit, period, delta = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
    store_tat(key, level_of(key, limit, now) + delta * period, limit, now)
  elseif kind == 'w' then
    if redis.call('EXISTS', key) == 1 then
      redis.call('HINCRBY', key, ARGV[a + 2], ARGV[a + 3])
      redis.call('PEXPIRE', key, ARGV[a + 4])
    end
  elseif kind == 'x' then
    redis.call('ZREM', key, ARGV[a + 2])
  end
end
return 0`;

/** KEYS[1]: the window counter. ARGV[1]: ttlMs; then bucket start, total pairs. Nothing if the counter exists. */
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], '${SEEDED}', 1)
for j = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

type Arg = string | number;

/** The scripts as ioredis commands (defineCommand): EVALSHA, falling back to EVAL when Redis lacks the script. */
interface LimitScripts {
  limitAdmit(numKeys: number, ...args: Arg[]): Promise<number[]>;
  limitSettle(numKeys: number, ...args: Arg[]): Promise<number>;
  limitSeed(numKeys: number, ...args: Arg[]): Promise<number>;
}

export interface RedisLimitBackendOptions {
  /** Prefix of every key (storage.redis_namespace), so deployments sharing one Redis keep apart. */
  namespace?: string;
  /** Where connection problems go (a request's own call rejects instead). */
  onError?: (error: Error) => void;
  /** Overrides for the connection. */
  redis?: RedisOptions;
}

export class RedisLimitBackend implements LimitBackend {
  readonly name = 'redis';
  private readonly key: (name: string) => string;
  private closed = false;

  private constructor(
    private readonly client: Redis & LimitScripts,
    options: RedisLimitBackendOptions,
  ) {
    // Inside the namespace, the limits' keys keep apart from the kv's (src/store/kv) that share it.
    const prefix = prefixer(options.namespace);
    this.key = (name) => prefix(`limits:${name}`);
    client.on('error', reportError(options.onError));
  }

  /** Resolves once Redis answers, so a wrong address stops the gateway at start rather than at its first request. */
  static async connect(url: string, options: RedisLimitBackendOptions = {}): Promise<RedisLimitBackend> {
    const client = await connectRedis(url, {
      // A request waits on its admission, so an unreachable Redis must fail it at once (the limiter then fails open
      // or closed): no queue while disconnected, no retry of a command cut off mid-flight (which could also count it
      // twice), and a bound on a Redis that accepts commands but does not answer.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1_000,
      ...options.redis,
    });
    client.defineCommand('limitAdmit', { lua: ADMIT });
    client.defineCommand('limitSettle', { lua: SETTLE });
    client.defineCommand('limitSeed', { lua: SEED });
    return new RedisLimitBackend(client as Redis & LimitScripts, options);
  }

  async admit(ops: readonly LimitOp[], nowMs: number): Promise<Admission> {
    this.open();
    checkNow(nowMs);
    checkOps(ops);
    if (ops.length === 0) return { admitted: true, results: [] };
    const keys: string[] = [];
    const args: Arg[] = [nowMs];
    for (const op of ops) {
      keys.push(this.key(op.key));
      switch (op.kind) {
        case 'rate':
          args.push('r', op.limit, op.periodMs, op.burst, op.cost, '');
          break;
        case 'window':
          args.push('w', op.limit, op.windowStartMs, op.bucketStartMs, op.cost, op.ttlMs);
          break;
        case 'concurrency':
          args.push('c', op.limit, op.lease, op.ttlMs, '', '');
          break;
      }
    }
    const reply = await this.client.limitAdmit(keys.length, ...keys, ...args);
    const results: OpResult[] = ops.map((_, i) => {
      const at = 1 + i * 5;
      return {
        allowed: reply[at] === 1,
        remaining: reply[at + 1]!,
        resetMs: reply[at + 2]!,
        retryAfterMs: reply[at + 3]!,
        missing: reply[at + 4] === 1,
      };
    });
    return { admitted: reply[0] === 1, results };
  }

  async settle(items: readonly Settlement[], nowMs: number): Promise<void> {
    this.open();
    checkNow(nowMs);
    checkSettlements(items);
    if (items.length === 0) return;
    const keys: string[] = [];
    const args: Arg[] = [nowMs];
    for (const item of items) {
      keys.push(this.key(item.key));
      switch (item.kind) {
        case 'rate':
          args.push('r', item.limit, item.periodMs, item.burst, item.delta);
          break;
        case 'window':
          args.push('w', item.bucketStartMs, item.delta, item.ttlMs, '');
          break;
        case 'release':
          args.push('x', item.lease, '', '', '');
          break;
      }
    }
    await this.client.limitSettle(keys.length, ...keys, ...args);
  }

  async seed(key: string, buckets: ReadonlyMap<number, number>, ttlMs: number): Promise<void> {
    this.open();
    checkSeed(key, buckets, ttlMs);
    const args: Arg[] = [ttlMs];
    for (const [start, total] of buckets) args.push(start, total);
    await this.client.limitSeed(1, this.key(key), ...args);
  }

  async peek(key: string, windowStartMs: number): Promise<number | undefined> {
    this.open();
    const fields = await this.client.hgetall(this.key(key));
    if (Object.keys(fields).length === 0) return undefined;
    const buckets: [number, number][] = [];
    for (const [field, total] of Object.entries(fields)) if (field !== SEEDED) buckets.push([Number(field), Number(total)]);
    return windowValue(buckets, windowStartMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      // Already gone: there is nothing left to release.
      this.client.disconnect();
    }
  }

  private open(): void {
    if (this.closed) throw new LimitBackendClosedError();
  }
}
