// The time windows that quotas and budgets count over, in UTC: calendar periods (a day, an ISO week from Monday, a
// month, all time) and rolling ones (the last 24 hours, 7 days, 30 days). A window is a sum of buckets (backend.ts):
// a calendar period is one bucket, reset by moving to the next; a rolling window is 24 buckets, the oldest of which
// is counted whole until it leaves, so a rolling window may count slightly more than its length and never less (a
// budget is never overspent by rounding).

import type { BudgetPeriod } from './rules.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Window {
  /** Buckets starting at or after this are counted. */
  startMs: number;
  /** The bucket a request made now is added to. */
  bucketStartMs: number;
  /** Bucket length, for seeding from the ledger; undefined for a calendar period (one bucket from startMs). */
  bucketMs: number | undefined;
  /** When what is counted now stops counting: the period's end, or when the oldest rolling bucket leaves. */
  resetAtMs: number;
  /** How long a counter must outlive its last write to still hold everything its window counts. */
  ttlMs: number;
  /**
   * The period a budget alert is sent once in: the calendar period, or for a rolling window fixed periods of its
   * length (a rolling window's start moves every bucket, and alerts must not repeat with it).
   */
  alertPeriodMs: number;
}

const ROLLING_LENGTH: Record<Exclude<BudgetPeriod, 'total'>, number> = { daily: DAY, weekly: 7 * DAY, monthly: 30 * DAY };
const ROLLING_BUCKETS = 24;
/** "total" has no end; a counter idle this long is dropped and seeded again from the ledger when next used. */
const TOTAL_TTL = 400 * DAY;

export function calendarWindow(period: BudgetPeriod, nowMs: number): Window {
  const now = new Date(nowMs);
  let start: number;
  let end: number;
  switch (period) {
    case 'daily':
      start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      end = start + DAY;
      break;
    case 'weekly': {
      const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      // getUTCDay: Sunday is 0; ISO weeks start on Monday.
      start = today - ((now.getUTCDay() + 6) % 7) * DAY;
      end = start + 7 * DAY;
      break;
    }
    case 'monthly':
      start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      break;
    case 'total':
      return { startMs: 0, bucketStartMs: 0, bucketMs: undefined, resetAtMs: Number.POSITIVE_INFINITY, ttlMs: TOTAL_TTL, alertPeriodMs: 0 };
  }
  return { startMs: start, bucketStartMs: start, bucketMs: undefined, resetAtMs: end, ttlMs: end - nowMs + HOUR, alertPeriodMs: start };
}

export function rollingWindow(period: BudgetPeriod, nowMs: number): Window {
  if (period === 'total') return calendarWindow('total', nowMs);
  const length = ROLLING_LENGTH[period];
  const bucketMs = length / ROLLING_BUCKETS;
  const startMs = Math.floor((nowMs - length) / bucketMs) * bucketMs;
  return {
    startMs,
    bucketStartMs: Math.floor(nowMs / bucketMs) * bucketMs,
    bucketMs,
    resetAtMs: startMs + bucketMs + length,
    ttlMs: length + bucketMs,
    alertPeriodMs: Math.floor(nowMs / length) * length,
  };
}

export function budgetWindow(period: BudgetPeriod, kind: 'calendar' | 'rolling', nowMs: number): Window {
  return kind === 'calendar' ? calendarWindow(period, nowMs) : rollingWindow(period, nowMs);
}
