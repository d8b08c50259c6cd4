// Picks where the limit counters live: limits.backend when the config names one, else Redis when storage.redis is set
// (so every instance counts against the same limits), else this process's memory.

import type { LimitBackend } from './backend.ts';
import { MemoryLimitBackend } from './memory.ts';
import { RedisLimitBackend } from './redis.ts';

export type { Admission, LimitBackend, LimitOp, OpResult, Settlement } from './backend.ts';
export { LimitBackendClosedError } from './gcra.ts';
export { MemoryLimitBackend } from './memory.ts';
export { RedisLimitBackend } from './redis.ts';

export interface LimitBackendOptions {
  /** storage.redis_namespace: prefix of every Redis key. */
  namespace?: string | undefined;
  /** Where Redis connection problems go. */
  onError?: (error: Error) => void;
}

export interface LimitBackendConfig {
  storage?: { redis?: string | undefined } | undefined;
  limits?: { backend?: 'memory' | 'redis' | undefined } | undefined;
}

export async function createLimitBackend(config: LimitBackendConfig, options: LimitBackendOptions = {}): Promise<LimitBackend> {
  const url = config.storage?.redis;
  const backend = config.limits?.backend ?? (url ? 'redis' : 'memory');
  if (backend === 'memory') return new MemoryLimitBackend();
  if (!url) throw new Error('limits.backend is redis, but storage.redis is not set: set storage.redis to the Redis URL, or use limits.backend: memory');
  return RedisLimitBackend.connect(url, { namespace: options.namespace, onError: options.onError });
}
