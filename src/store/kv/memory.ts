// The in-process key-value store for a single gateway instance. A MemoryStore plays the part of a Redis server and
// each MemoryKv the part of a client, so tests can run two "instances" against one store.

import {
  checkIncrement,
  checkTtl,
  KvClosedError,
  prefixer,
  reportError,
  type Kv,
  type KvOptions,
  type MessageHandler,
  type Unsubscribe,
} from './types.ts';

interface Entry {
  /** A string, or a hash's fields. */
  value: string | Map<string, string>;
  /** Epoch ms; Infinity when the key does not expire. */
  expiresAt: number;
}

const INTEGER = /^-?\d+$/;

export class MemoryStore {
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<MessageHandler>>();
  private sweeper: NodeJS.Timeout | undefined;
  private clients = 0;

  /** Expired keys are dropped when read, and by a sweep every `sweepMs` so keys nobody reads again do not pile up. */
  constructor(private readonly sweepMs = 10_000) {}

  attach(): void {
    if (this.clients++ === 0) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
      this.sweeper.unref();
    }
  }

  detach(): void {
    if (--this.clients === 0) clearInterval(this.sweeper);
  }

  /** Keys held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): string | undefined {
    const value = this.live(key, now)?.value;
    if (value instanceof Map) throw wrongType(key);
    return value;
  }

  set(key: string, value: string, ttlMs: number | undefined): void {
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : Date.now() + ttlMs });
  }

  del(key: string): boolean {
    const live = this.live(key) !== undefined;
    this.entries.delete(key);
    return live;
  }

  incrBy(key: string, by: number, ttlMs: number | undefined): number {
    const now = Date.now();
    const current = this.get(key, now);
    if (current === undefined) {
      this.entries.set(key, { value: String(by), expiresAt: ttlMs === undefined ? Infinity : now + ttlMs });
      return by;
    }
    const next = Number(current) + by;
    if (!INTEGER.test(current) || !Number.isSafeInteger(next)) {
      throw new RangeError(`cannot increment ${key}: its value is not an integer or the result would overflow`);
    }
    this.entries.get(key)!.value = String(next);
    return next;
  }

  hincrBy(key: string, increments: Readonly<Record<string, number>>, ttlMs: number | undefined): void {
    const fields = Object.entries(increments);
    if (fields.length === 0) return;
    const now = Date.now();
    const entry = this.live(key, now);
    const hash = entry ? hashOf(key, entry) : new Map<string, string>();
    // Every sum first, so a refused increment leaves the hash as it was.
    const sums = fields.map(([field, by]): [string, string] => {
      const current = hash.get(field) ?? '0';
      const next = Number(current) + by;
      if (!INTEGER.test(current) || !Number.isSafeInteger(next)) {
        throw new RangeError(`cannot increment ${key} ${field}: its value is not an integer or the result would overflow`);
      }
      return [field, String(next)];
    });
    for (const [field, sum] of sums) hash.set(field, sum);
    if (!entry) this.entries.set(key, { value: hash, expiresAt: ttlMs === undefined ? Infinity : now + ttlMs });
  }

  hgetAll(key: string): Record<string, string> {
    const entry = this.live(key);
    return entry ? Object.fromEntries(hashOf(key, entry)) : {};
  }

  hset(key: string, field: string, value: string): void {
    const entry = this.live(key);
    if (entry) hashOf(key, entry).set(field, value);
    else this.entries.set(key, { value: new Map([[field, value]]), expiresAt: Infinity });
  }

  hsetIfAbsent(key: string, field: string, value: string): boolean {
    const entry = this.live(key);
    if (entry && hashOf(key, entry).has(field)) return false;
    this.hset(key, field, value);
    return true;
  }

  hdel(key: string, field: string): boolean {
    const entry = this.live(key);
    if (!entry) return false;
    const hash = hashOf(key, entry);
    const had = hash.delete(field);
    // As in Redis, a hash left without fields is no more.
    if (hash.size === 0) this.entries.delete(key);
    return had;
  }

  publish(channel: string, message: string): void {
    if (!this.channels.has(channel)) return;
    // Delivered later, as a network round trip would be, and to whoever is subscribed by then.
    queueMicrotask(() => {
      for (const handler of this.channels.get(channel) ?? []) handler(message);
    });
  }

  subscribe(channel: string, handler: MessageHandler): void {
    let handlers = this.channels.get(channel);
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
  }

  unsubscribe(channel: string, handler: MessageHandler): void {
    const handlers = this.channels.get(channel);
    if (handlers?.delete(handler) && handlers.size === 0) this.channels.delete(channel);
  }

  private live(key: string, now = Date.now()): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

function wrongType(key: string): Error {
  return new TypeError(`${key} holds a value of another kind than this operation takes`);
}

function hashOf(key: string, entry: Entry): Map<string, string> {
  if (!(entry.value instanceof Map)) throw wrongType(key);
  return entry.value;
}

export interface MemoryKvOptions extends KvOptions {
  /** Share one store between clients; by default each MemoryKv has its own. */
  store?: MemoryStore;
}

export class MemoryKv implements Kv {
  private readonly store: MemoryStore;
  private readonly key: (name: string) => string;
  private readonly report: (error: unknown) => void;
  private readonly subscriptions = new Set<Unsubscribe>();
  private closed = false;

  constructor(options: MemoryKvOptions = {}) {
    this.store = options.store ?? new MemoryStore();
    this.store.attach();
    this.key = prefixer(options.namespace);
    this.report = reportError(options.onError);
  }

  async get(key: string): Promise<string | undefined> {
    this.open();
    return this.store.get(this.key(key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.open();
    checkTtl(ttlMs);
    this.store.set(this.key(key), value, ttlMs);
  }

  async del(key: string): Promise<boolean> {
    this.open();
    return this.store.del(this.key(key));
  }

  async incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    this.open();
    checkIncrement(by);
    checkTtl(ttlMs);
    return this.store.incrBy(this.key(key), by, ttlMs);
  }

  async hincrBy(key: string, increments: Readonly<Record<string, number>>, ttlMs?: number): Promise<void> {
    this.open();
    for (const by of Object.values(increments)) checkIncrement(by);
    checkTtl(ttlMs);
    this.store.hincrBy(this.key(key), increments, ttlMs);
  }

  async hgetAll(key: string): Promise<Record<string, string>> {
    this.open();
    return this.store.hgetAll(this.key(key));
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    this.open();
    this.store.hset(this.key(key), field, value);
  }

  async hsetIfAbsent(key: string, field: string, value: string): Promise<boolean> {
    this.open();
    return this.store.hsetIfAbsent(this.key(key), field, value);
  }

  async hdel(key: string, field: string): Promise<boolean> {
    this.open();
    return this.store.hdel(this.key(key), field);
  }

  async publish(channel: string, message: string): Promise<void> {
    this.open();
    this.store.publish(this.key(channel), message);
  }

  /** Never disconnected, so SubscribeOptions.onReconnect is never called. */
  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.open();
    const name = this.key(channel);
    // A throwing subscriber must not stop delivery to the others.
    const guarded: MessageHandler = (message) => {
      try {
        handler(message);
      } catch (error) {
        this.report(error);
      }
    };
    this.store.subscribe(name, guarded);
    const unsubscribe: Unsubscribe = async () => {
      this.subscriptions.delete(unsubscribe);
      this.store.unsubscribe(name, guarded);
    };
    this.subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((unsubscribe) => unsubscribe()));
    this.store.detach();
  }

  private open(): void {
    if (this.closed) throw new KvClosedError();
  }
}
