// Picks the key-value store for the configuration: Redis when storage.redis is set, else this process's memory.

import { MemoryKv } from './memory.ts';
import { RedisKv } from './redis.ts';
import type { Kv, KvOptions } from './types.ts';

export type { Kv, KvOptions, MessageHandler, SubscribeOptions, Unsubscribe } from './types.ts';

export function createKv(config: { storage?: { redis?: string | undefined } | undefined }, options: KvOptions = {}): Promise<Kv> {
  const url = config.storage?.redis;
  return url ? RedisKv.connect(url, options) : Promise.resolve(new MemoryKv(options));
}
