// Opening a Redis connection, for every part of the gateway that keeps one (the kv, the limit counters): each says how
// its commands behave during an outage, and all of them reconnect the same way and refuse to start without an answer.

import { Redis, type RedisOptions } from 'ioredis';

/** The URL without its credentials, for messages. */
function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the configured Redis URL (not a valid URL)';
  }
}

/**
 * Resolves once Redis answers, so a wrong address stops the gateway at start rather than at its first request.
 * `options` go over the defaults, which reconnect forever with a capped backoff. The connection comes back with no
 * 'error' listener: its owner adds its own.
 */
export async function connectRedis(url: string, options: RedisOptions): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: (attempt) => Math.min(attempt * 100, 2_000), ...options });
  // The socket's error says why (refused, unknown host, wrong password); connect() only says the connection closed.
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis at ${redisAddress(url)} is not reachable: ${(cause ?? (error as Error)).message}`);
  }
  client.removeAllListeners('error');
  return client;
}
