import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetWindow, calendarWindow, rollingWindow } from './windows.ts';

const at = Date.UTC(2026, 10, 22, 15, 30); // a Sunday

test('calendar periods in UTC: the day, the ISO week from Monday, the month, all time', () => {
  const day = calendarWindow('daily', at);
  assert.equal(day.startMs, Date.UTC(2026, 10, 22));
  assert.equal(day.resetAtMs, Date.UTC(2026, 10, 23));
  assert.equal(calendarWindow('weekly', at).startMs, Date.UTC(2026, 10, 16));
  assert.equal(calendarWindow('weekly', Date.UTC(2026, 10, 16)).startMs, Date.UTC(2026, 10, 16));
  const month = calendarWindow('monthly', at);
  assert.equal(month.startMs, Date.UTC(2026, 10, 1));
  assert.equal(month.resetAtMs, Date.UTC(2026, 11, 1));
  assert.equal(calendarWindow('monthly', Date.UTC(2026, 11, 31, 23)).resetAtMs, Date.UTC(2027, 0, 1));
  const total = calendarWindow('total', at);
  assert.equal(total.startMs, 0);
  assert.equal(total.resetAtMs, Number.POSITIVE_INFINITY);
  // One bucket per period, counted from its start; alerts once per period.
  assert.equal(day.bucketStartMs, day.startMs);
  assert.equal(day.alertPeriodMs, day.startMs);
});

test('rolling windows: 24 buckets, the oldest counted whole, never less than the window', () => {
  const w = rollingWindow('daily', at);
  assert.equal(w.bucketMs, 3_600_000);
  assert.equal(w.bucketStartMs, Date.UTC(2026, 10, 22, 15));
  // The bucket holding the moment 24 hours ago is still counted.
  assert.equal(w.startMs, Date.UTC(2026, 10, 21, 15));
  assert.ok(w.startMs <= at - 24 * 3_600_000);
  // Room again once that oldest bucket has left: at 16:00 today.
  assert.equal(w.resetAtMs, Date.UTC(2026, 10, 22, 16));
  assert.equal(rollingWindow('weekly', at).bucketMs, 7 * 3_600_000);
  // Alerts repeat once per window length at most, not with every bucket.
  assert.equal(rollingWindow('daily', at + 3_600_000).alertPeriodMs, w.alertPeriodMs);
  assert.equal(budgetWindow('total', 'rolling', at).startMs, 0);
});
