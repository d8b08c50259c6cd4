// A fixed log-scale latency histogram: four buckets per doubling from 1 ms to about 17 minutes, so any latency is one
// array increment and instances can add their counts together field by field. A percentile is read by linear
// interpolation inside the bucket it falls in, so its error is within the bucket's width (19 % of its value).

/** Buckets per doubling of the latency. */
const PER_OCTAVE = 4;
/** Bucket 0 holds [0, 1] ms; bucket i > 0 holds (2^((i-1)/4), 2^(i/4)] ms; the last one everything above too. */
export const LATENCY_BUCKETS = 20 * PER_OCTAVE + 1;

export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  const index = Math.ceil(Math.log2(ms) * PER_OCTAVE);
  return index < LATENCY_BUCKETS ? index : LATENCY_BUCKETS - 1;
}

/** The bucket's upper bound in ms. */
export function bucketUpperMs(index: number): number {
  return 2 ** (index / PER_OCTAVE);
}

function bucketLowerMs(index: number): number {
  return index === 0 ? 0 : 2 ** ((index - 1) / PER_OCTAVE);
}

/** The sum of the counts: how many latencies the histogram holds (fractional once a window weighs its oldest minute). */
export function histogramCount(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return total;
}

/** The q-quantile (0 < q ≤ 1) of the latencies counted, in ms; 0 for an empty histogram. */
export function quantileMs(counts: ArrayLike<number>, q: number): number {
  const total = histogramCount(counts);
  if (total <= 0) return 0;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (count > 0 && below + count >= rank) {
      const lower = bucketLowerMs(i);
      return lower + (bucketUpperMs(i) - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bucketUpperMs(counts.length - 1);
}
