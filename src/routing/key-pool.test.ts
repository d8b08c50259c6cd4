import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderConfig } from '../providers/types.ts';
import { KeyPool } from './key-pool.ts';

const provider = (keys: { key: string; weight: number }[], key_cooldown_ms = 1000): ProviderConfig => ({
  name: 'p',
  type: 'openai',
  base_url: 'http://127.0.0.1:1/v1',
  headers: {},
  timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
  models: [],
  options: {},
  api_keys: keys,
  key_cooldown_ms,
});

function seeded(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('keys are drawn in proportion to their weights', () => {
  const pool = new KeyPool(provider([{ key: 'a', weight: 3 }, { key: 'b', weight: 1 }]), seeded(7));
  const counts = [0, 0];
  for (let i = 0; i < 4000; i++) counts[pool.draw()]!++;
  assert.ok(Math.abs(counts[0]! / 4000 - 0.75) < 0.03, String(counts));
});

test('a resting key is not drawn until its rest ends; with all resting, none is', () => {
  let now = 0;
  const pool = new KeyPool(provider([{ key: 'a', weight: 1 }, { key: 'b', weight: 1 }]), seeded(1), () => now);
  pool.rest(0);
  for (let i = 0; i < 50; i++) assert.equal(pool.draw(), 1);
  pool.rest(1, 5000);
  assert.equal(pool.draw(), -1);
  assert.equal(pool.nextAvailableInMs(), 1000, 'key a rests the configured cooldown');
  assert.deepEqual(pool.snapshot().map((k) => k.resting_until), [new Date(1000).toISOString(), new Date(5000).toISOString()]);
  now = 1000;
  assert.equal(pool.draw(), 0);
  assert.equal(pool.snapshot()[0]!.resting_until, null);
});

test('a shorter rest never cuts a longer one short', () => {
  const pool = new KeyPool(provider([{ key: 'a', weight: 1 }]), Math.random, () => 0);
  pool.rest(0, 10_000);
  pool.rest(0, 10);
  assert.equal(pool.nextAvailableInMs(), 10_000);
});
