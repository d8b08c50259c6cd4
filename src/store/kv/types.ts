// The key-value seam: short-lived shared state (auth cache invalidation now, rate limits and response caching later).
// One instance per process, in memory or on Redis; several gateway instances share state only through Redis.

export type MessageHandler = (message: string) => void;

export interface SubscribeOptions {
  /**
   * Called once the subscription is live again after a lost connection. Messages published while it was down are
   * gone, so a subscriber that caches on the strength of them (the auth cache) must drop what it holds.
   */
  onReconnect?: () => void;
}

export type Unsubscribe = () => Promise<void>;

export interface Kv {
  get(key: string): Promise<string | undefined>;
  /** Without `ttlMs` the key lives until deleted, and any earlier expiry is cleared (as Redis SET does). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Whether the key existed. */
  del(key: string): Promise<boolean>;
  /**
   * Adds `by` (an integer) to the number stored at `key`, starting from 0, atomically across every client of the same
   * store, and returns the new value. `ttlMs` applies only when this call creates the key, so a window counter expires
   * on schedule however often it is incremented.
   */
  incrBy(key: string, by: number, ttlMs?: number): Promise<number>;
  /**
   * Adds each whole number of `increments` to its field of the hash at `key` (a missing field counts from 0), all in
   * one atomic step across clients. `ttlMs` applies only when this call creates the hash. No increments: nothing.
   */
  hincrBy(key: string, increments: Readonly<Record<string, number>>, ttlMs?: number): Promise<void>;
  /** Every field of the hash at `key`; {} when there is none. */
  hgetAll(key: string): Promise<Record<string, string>>;
  /** Sets one field of the hash at `key`, keeping the hash's expiry if it has one. */
  hset(key: string, field: string, value: string): Promise<void>;
  /** Sets the field only if the hash lacks it, and says whether it did: of clients racing for it, exactly one wins. */
  hsetIfAbsent(key: string, field: string, value: string): Promise<boolean>;
  /** Whether the field existed: of clients racing to delete it, exactly one hears true. */
  hdel(key: string, field: string): Promise<boolean>;
  /** Delivered to every subscriber of the channel in this store, this client's own included. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: MessageHandler, options?: SubscribeOptions): Promise<Unsubscribe>;
  /** Stops delivery and releases connections and timers; later calls reject. Safe to call twice. */
  close(): Promise<void>;
}

export interface KvOptions {
  /** Prefix for every key and channel, so deployments and test runs sharing one Redis never meet. */
  namespace?: string;
  /** Where errors that have no caller to reject go: a throwing subscriber, a dropped Redis connection. */
  onError?: (error: Error) => void;
}

export const DEFAULT_NAMESPACE = 'switchboard';

export function prefixer(namespace: string | undefined): (name: string) => string {
  const prefix = `${namespace ?? DEFAULT_NAMESPACE}:`;
  return (name) => prefix + name;
}

export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive whole number of milliseconds, got ${ttlMs}`);
  }
}

export function checkIncrement(by: number): void {
  if (!Number.isSafeInteger(by)) throw new RangeError(`incrBy takes a whole number, got ${by}`);
}

export function reportError(onError: KvOptions['onError']): (error: unknown) => void {
  return (error) => {
    const err = error instanceof Error ? error : new Error(String(error));
    if (onError) onError(err);
    else process.emitWarning(err.message, { type: 'KvWarning' });
  };
}

export class KvClosedError extends Error {
  constructor() {
    super('the key-value store client is closed');
    this.name = 'KvClosedError';
  }
}
