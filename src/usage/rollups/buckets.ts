// Time in the usage rollups. Records are rolled up at four widths (5 minutes, 1 hour, 6 hours, 1 day, all aligned to
// the UTC epoch), so that a series of about 50–200 points over any range up to months reads rows of the coarsest
// width that still resolves its points: a day's series reads 5-minute rows, a month's 6-hour rows. Each series bucket
// is a whole number of rows of one width, so a range cut to whole buckets is answered exactly.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const ROLLUP_WIDTHS_MS = [5 * MINUTE, HOUR, 6 * HOUR, DAY] as const;

export const SERIES_BUCKETS = ['5m', '10m', '15m', '30m', '1h', '2h', '3h', '6h', '12h', '1d', '7d'] as const;
export type SeriesBucket = (typeof SERIES_BUCKETS)[number];

interface BucketSpec {
  ms: number;
  /** The rollup width it is read from. */
  rollupMs: number;
  /** Where its buckets start relative to the epoch: weeks start on Monday (1970-01-05), the rest at 00:00 UTC. */
  offsetMs: number;
}

const SPECS: Record<SeriesBucket, BucketSpec> = {
  '5m': { ms: 5 * MINUTE, rollupMs: 5 * MINUTE, offsetMs: 0 },
  '10m': { ms: 10 * MINUTE, rollupMs: 5 * MINUTE, offsetMs: 0 },
  '15m': { ms: 15 * MINUTE, rollupMs: 5 * MINUTE, offsetMs: 0 },
  '30m': { ms: 30 * MINUTE, rollupMs: 5 * MINUTE, offsetMs: 0 },
  '1h': { ms: HOUR, rollupMs: HOUR, offsetMs: 0 },
  '2h': { ms: 2 * HOUR, rollupMs: HOUR, offsetMs: 0 },
  '3h': { ms: 3 * HOUR, rollupMs: HOUR, offsetMs: 0 },
  '6h': { ms: 6 * HOUR, rollupMs: 6 * HOUR, offsetMs: 0 },
  '12h': { ms: 12 * HOUR, rollupMs: 6 * HOUR, offsetMs: 0 },
  '1d': { ms: DAY, rollupMs: DAY, offsetMs: 0 },
  '7d': { ms: 7 * DAY, rollupMs: DAY, offsetMs: 4 * DAY },
};

/** The automatic bucket is the finest that gives at most this many points. */
export const AUTO_MAX_POINTS = 200;

/** A series over a range: its bucket, the range widened to whole buckets, [fromMs, toMs), and the rows it reads. */
export interface SeriesPlan extends BucketSpec {
  bucket: SeriesBucket;
  fromMs: number;
  toMs: number;
  points: number;
}

function plan(bucket: SeriesBucket, fromMs: number, toMs: number): SeriesPlan {
  const spec = SPECS[bucket];
  const start = Math.floor((fromMs - spec.offsetMs) / spec.ms) * spec.ms + spec.offsetMs;
  const end = Math.ceil((toMs - spec.offsetMs) / spec.ms) * spec.ms + spec.offsetMs;
  return { bucket, ...spec, fromMs: start, toMs: end, points: (end - start) / spec.ms };
}

/** The series over [fromMs, toMs) in `bucket`, or in the finest bucket with at most AUTO_MAX_POINTS points (else weeks). */
export function planSeries(fromMs: number, toMs: number, bucket?: SeriesBucket): SeriesPlan {
  if (bucket) return plan(bucket, fromMs, toMs);
  for (const candidate of SERIES_BUCKETS) {
    const p = plan(candidate, fromMs, toMs);
    if (p.points <= AUTO_MAX_POINTS) return p;
  }
  return plan('7d', fromMs, toMs);
}

/** The start of the rollup row of `width` that holds a record of time `ms`. */
export function rollupStart(ms: number, width: number): number {
  return Math.floor(ms / width) * width;
}
