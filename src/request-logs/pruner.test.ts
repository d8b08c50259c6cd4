import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { RequestLogPruner, type PrunerOptions } from './pruner.ts';

function fakes(opts: { fail?: boolean; slowMs?: number } = {}) {
  const calls: string[] = [];
  const logged: string[] = [];
  const retention: PrunerOptions['retention'] = {
    async pruneOlderThan(before) {
      calls.push(`older than ${before}`);
      if (opts.slowMs) await sleep(opts.slowMs);
      if (opts.fail) throw new Error('database away');
      return 2;
    },
    async pruneBeyond(keep) {
      calls.push(`beyond ${keep}`);
      return 1;
    },
    async pruneFineRollupsOlderThan(before) {
      calls.push(`5-minute rollups older than ${before}`);
      return 0;
    },
  };
  const note = (_: object, message: string) => void logged.push(message);
  const logger = { info: note, warn: note };
  return { calls, logged, retention, logger };
}

const now = () => new Date('2030-01-31T00:00:00.000Z');

test('a pass deletes past both bounds: older than retention_days, beyond max_rows', async () => {
  const { calls, logged, retention, logger } = fakes();
  await new RequestLogPruner({ retention, retentionDays: 30, maxRows: 1000, everyMs: 1000, logger, now }).prune();
  assert.deepEqual(calls, ['older than 2030-01-01T00:00:00.000Z', 'beyond 1000', '5-minute rollups older than 2030-01-01T00:00:00.000Z']);
  assert.deepEqual(logged, ['request logs pruned']);
});

test('0 turns a bound off; with both off the timer never starts', async () => {
  const { calls, retention, logger } = fakes();
  await new RequestLogPruner({ retention, retentionDays: 0, maxRows: 5, everyMs: 1000, logger, now }).prune();
  await new RequestLogPruner({ retention, retentionDays: 7, maxRows: 0, everyMs: 1000, logger, now }).prune();
  assert.deepEqual(calls, ['beyond 5', 'older than 2030-01-24T00:00:00.000Z', '5-minute rollups older than 2030-01-24T00:00:00.000Z']);
  const off = new RequestLogPruner({ retention, retentionDays: 0, maxRows: 0, everyMs: 5, logger, now });
  assert.equal(off.enabled, false);
  off.start();
  await sleep(30);
  assert.equal(calls.length, 3);
});

test('the timer runs passes until stopped; stop waits for the pass under way', async () => {
  const { calls, retention, logger } = fakes({ slowMs: 20 });
  const pruner = new RequestLogPruner({ retention, retentionDays: 1, maxRows: 0, everyMs: 5, logger, now });
  pruner.start();
  while (calls.length < 2) await sleep(5);
  await pruner.stop();
  const after = calls.length;
  await sleep(40);
  assert.equal(calls.length, after, 'no pass after stop');
});

test('a failed pass is logged and the next one tries again; overlapping calls share one pass', async () => {
  const { calls, logged, retention, logger } = fakes({ fail: true, slowMs: 10 });
  const pruner = new RequestLogPruner({ retention, retentionDays: 1, maxRows: 0, everyMs: 1000, logger, now });
  await Promise.all([pruner.prune(), pruner.prune()]);
  assert.equal(calls.length, 1);
  await pruner.prune();
  assert.equal(calls.length, 2);
  assert.deepEqual(logged, ['request logs: pruning failed', 'request logs: pruning failed']);
});
