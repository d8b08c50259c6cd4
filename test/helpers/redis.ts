// The local Redis the tests that need one use, and the reason to skip them when it does not answer.

import { RedisKv } from '../../src/store/kv/redis.ts';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** undefined when Redis answers on 127.0.0.1:6379, else the message to skip with. */
export async function redisSkipReason(): Promise<string | undefined> {
  try {
    await (await RedisKv.connect(REDIS_URL, { redis: { retryStrategy: () => null } })).close();
    return undefined;
  } catch (error) {
    return `Redis not reachable on 127.0.0.1:6379: ${(error as Error).message}`;
  }
}
