import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines } from './deadlines.ts';

test('a deadline expires once its time has passed, unless released first', async () => {
  const deadlines = new Deadlines();
  const expired: string[] = [];
  deadlines.add(50, () => expired.push('short'));
  const release = deadlines.add(50, () => expired.push('released'));
  deadlines.add(60_000, () => expired.push('long'));
  release();
  await sleep(600);
  assert.deepEqual(expired, ['short']);
});
