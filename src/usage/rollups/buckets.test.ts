import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTO_MAX_POINTS, planSeries, ROLLUP_WIDTHS_MS, SERIES_BUCKETS } from './buckets.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);

describe('series buckets', () => {
  test('automatic: the finest bucket with at most 200 points, read from the coarsest rollup width that divides it', () => {
    const end = at('2030-06-15T12:34:56.789Z');
    const auto = (ms: number) => {
      const p = planSeries(end - ms, end);
      return [p.bucket, p.rollupMs, p.points];
    };
    assert.deepEqual(auto(HOUR), ['5m', 5 * 60_000, 13]);
    assert.deepEqual(auto(DAY), ['10m', 5 * 60_000, 145]);
    assert.deepEqual(auto(7 * DAY), ['1h', HOUR, 169]);
    assert.deepEqual(auto(30 * DAY), ['6h', 6 * HOUR, 121]);
    assert.deepEqual(auto(90 * DAY), ['12h', 6 * HOUR, 181]);
    assert.deepEqual(auto(365 * DAY), ['7d', DAY, 53]);
    assert.equal(planSeries(end - 20 * 365 * DAY, end).bucket, '7d', 'the coarsest, however many points');
    for (const days of [0.01, 0.2, 1, 2, 5, 10, 30, 60, 100, 150, 200, 365, 1000]) {
      const p = planSeries(end - days * DAY, end);
      assert.ok(p.points <= AUTO_MAX_POINTS, `${days} days: ${p.points}`);
      // Past 200 days, days give too many points and weeks fewer than 50.
      if (days >= 0.2 && days <= 150) assert.ok(p.points >= 50, `${days} days: ${p.points} points of ${p.bucket}`);
    }
  });

  test('every bucket is a whole number of rows of its rollup width, and the range is widened to whole buckets', () => {
    for (const bucket of SERIES_BUCKETS) {
      const p = planSeries(at('2030-06-15T12:34:56.789Z'), at('2030-06-20T01:00:00.001Z'), bucket);
      assert.ok((ROLLUP_WIDTHS_MS as readonly number[]).includes(p.rollupMs));
      assert.equal(p.ms % p.rollupMs, 0, bucket);
      assert.equal((p.fromMs - p.offsetMs) % p.ms, 0, bucket);
      assert.ok(p.fromMs <= at('2030-06-15T12:34:56.789Z') && p.toMs >= at('2030-06-20T01:00:00.001Z'));
      assert.equal(p.points, (p.toMs - p.fromMs) / p.ms);
    }
    const hours = planSeries(at('2030-06-15T12:34:00Z'), at('2030-06-15T14:00:00Z'), '1h');
    assert.deepEqual([new Date(hours.fromMs).toISOString(), new Date(hours.toMs).toISOString(), hours.points], ['2030-06-15T12:00:00.000Z', '2030-06-15T14:00:00.000Z', 2]);
  });

  test('days are UTC days, weeks start on Monday', () => {
    const days = planSeries(at('2030-06-15T23:59:00Z'), at('2030-06-16T00:01:00Z'), '1d');
    assert.deepEqual([new Date(days.fromMs).toISOString(), days.points], ['2030-06-15T00:00:00.000Z', 2]);
    // 2030-06-15 is a Saturday.
    const weeks = planSeries(at('2030-06-15T10:00:00Z'), at('2030-06-18T00:00:00Z'), '7d');
    assert.deepEqual([new Date(weeks.fromMs).toISOString(), new Date(weeks.toMs).toISOString()], ['2030-06-10T00:00:00.000Z', '2030-06-24T00:00:00.000Z']);
    assert.equal(new Date(weeks.fromMs).getUTCDay(), 1);
  });
});
