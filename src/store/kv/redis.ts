// The Redis key-value store, shared by every gateway instance of a deployment. Commands go over one connection;
// subscriptions need a connection of their own, since a subscribed Redis connection accepts nothing else.

import type { Redis, RedisOptions } from 'ioredis';
import { connectRedis } from '../redis-connection.ts';
import {
  checkIncrement,
  checkTtl,
  KvClosedError,
  prefixer,
  reportError,
  type Kv,
  type KvOptions,
  type MessageHandler,
  type SubscribeOptions,
  type Unsubscribe,
} from './types.ts';

// INCRBY and the expiry of a key it creates, in one step, so no client ever sees the counter without its expiry.
const INCR_BY = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`;

// HINCRBY of every field and the expiry of a hash it creates, in one step. ARGV: the TTL ('' for none), then field, by…
const HINCR_BY = `
local created = redis.call('EXISTS', KEYS[1]) == 0
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
if created and ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`;

export interface RedisKvOptions extends KvOptions {
  /** Overrides for the connection; the defaults reconnect forever with a capped backoff. */
  redis?: RedisOptions;
}

interface Channel {
  handlers: Set<MessageHandler>;
  reconnected: Set<() => void>;
  /** The SUBSCRIBE: every subscriber to the channel waits for it, not only the first. */
  live: Promise<unknown>;
}

export class RedisKv implements Kv {
  private subscriber: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly key: (name: string) => string;
  private readonly report: (error: unknown) => void;
  private closed = false;

  private constructor(
    private readonly client: Redis,
    options: RedisKvOptions,
  ) {
    this.key = prefixer(options.namespace);
    this.report = reportError(options.onError);
    client.on('error', this.report);
  }

  /** Resolves once Redis answers, so a wrong address stops the gateway at start rather than at its first request. */
  static async connect(url: string, options: RedisKvOptions = {}): Promise<RedisKv> {
    const client = await connectRedis(url, {
      // A command waits out a short outage in the queue, then fails rather than hang the request that sent it.
      maxRetriesPerRequest: 2,
      ...options.redis,
    });
    return new RedisKv(client, options);
  }

  async get(key: string): Promise<string | undefined> {
    this.open();
    return (await this.client.get(this.key(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.open();
    checkTtl(ttlMs);
    if (ttlMs === undefined) await this.client.set(this.key(key), value);
    else await this.client.set(this.key(key), value, 'PX', ttlMs);
  }

  async del(key: string): Promise<boolean> {
    this.open();
    return (await this.client.del(this.key(key))) > 0;
  }

  async incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    this.open();
    checkIncrement(by);
    checkTtl(ttlMs);
    return (await this.client.eval(INCR_BY, 1, this.key(key), by, ttlMs ?? '')) as number;
  }

  async hincrBy(key: string, increments: Readonly<Record<string, number>>, ttlMs?: number): Promise<void> {
    this.open();
    const args: (string | number)[] = [];
    for (const [field, by] of Object.entries(increments)) {
      checkIncrement(by);
      args.push(field, by);
    }
    checkTtl(ttlMs);
    if (args.length > 0) await this.client.eval(HINCR_BY, 1, this.key(key), ttlMs ?? '', ...args);
  }

  async hgetAll(key: string): Promise<Record<string, string>> {
    this.open();
    return this.client.hgetall(this.key(key));
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    this.open();
    await this.client.hset(this.key(key), field, value);
  }

  async hsetIfAbsent(key: string, field: string, value: string): Promise<boolean> {
    this.open();
    return (await this.client.hsetnx(this.key(key), field, value)) === 1;
  }

  async hdel(key: string, field: string): Promise<boolean> {
    this.open();
    return (await this.client.hdel(this.key(key), field)) > 0;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.open();
    await this.client.publish(this.key(channel), message);
  }

  async subscribe(channel: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<Unsubscribe> {
    this.open();
    const name = this.key(channel);
    const subscriber = this.subscriber ?? this.startSubscriber();
    let found = this.channels.get(name);
    if (!found) this.channels.set(name, (found = { handlers: new Set(), reconnected: new Set(), live: subscriber.subscribe(name) }));
    const entry = found;
    // Each call gets its own wrapper, so the same function subscribed twice is two subscriptions.
    const own: MessageHandler = (message) => handler(message);
    const onReconnect = options.onReconnect;
    entry.handlers.add(own);
    if (onReconnect) entry.reconnected.add(onReconnect);

    let done = false;
    const unsubscribe: Unsubscribe = async () => {
      if (done) return;
      done = true;
      entry.handlers.delete(own);
      if (onReconnect) entry.reconnected.delete(onReconnect);
      if (entry.handlers.size > 0 || this.channels.get(name) !== entry) return;
      this.channels.delete(name);
      // Commands on one connection run in order, so this cannot undo a later subscribe to the same channel.
      if (!this.closed) await subscriber.unsubscribe(name);
    };
    try {
      await entry.live;
    } catch (error) {
      await unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([this.client, this.subscriber].map((connection) => connection && quit(connection)));
  }

  private startSubscriber(): Redis {
    // Resubscribing is done here rather than by ioredis, so that onReconnect runs only once the channels are live.
    const subscriber = this.client.duplicate({ lazyConnect: false, autoResubscribe: false, maxRetriesPerRequest: null });
    subscriber.on('error', this.report);
    let connected = false;
    subscriber.on('ready', () => {
      if (!connected) {
        connected = true;
        return;
      }
      const names = [...this.channels.keys()];
      if (names.length === 0) return;
      subscriber.subscribe(...names).then(() => {
        for (const name of names) for (const callback of this.channels.get(name)?.reconnected ?? []) this.deliver(callback);
      }, this.report);
    });
    subscriber.on('message', (name: string, message: string) => {
      for (const handler of this.channels.get(name)?.handlers ?? []) this.deliver(() => handler(message));
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  // A throwing subscriber must not stop delivery to the others.
  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.report(error);
    }
  }

  private open(): void {
    if (this.closed) throw new KvClosedError();
  }
}

async function quit(connection: Redis): Promise<void> {
  try {
    await connection.quit();
  } catch {
    // Already gone: there is nothing left to release.
    connection.disconnect();
  }
}
