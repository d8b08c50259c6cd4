// Latency histograms for the usage rollups: fixed log-scale bins, so histograms of any rows add up bin by bin and
// percentiles come from the sum. Four bins per doubling: bin 0 holds [0, 1) ms, bin i (1–79) holds
// [2^((i-1)/4), 2^(i/4)) ms, and bin 80 everything from 2^(79/4) ms (about 14.7 minutes) on. A bin is 19 % wide, so
// an estimate lies in the bin of the exact value: within 19 % of it (the middle of a bin is within 9 %).
//
// Stored sparse, as JSON text of the bins that are not empty ({"23":4,"24":1}): a rollup row holds a few requests of
// one key and model, so most of its 81 bins are empty. JSON keeps the merge on upsert inside SQL on both databases
// (json_each / jsonb_each_text), and reading needs no JSON parser: see addEncoded.

export const BINS_PER_DOUBLING = 4;
export const BINS = 81;
const LAST = BINS - 1;

/** The bin of a duration in milliseconds; anything below 1 ms (0, and NaN from a bad figure) is bin 0. */
export function binOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LAST, 1 + Math.floor(BINS_PER_DOUBLING * Math.log2(ms)));
}

/** [lower, upper) of a bin, in milliseconds; the last bin is open-ended. */
export function binBounds(bin: number): [number, number] {
  if (bin === 0) return [0, 1];
  const lower = 2 ** ((bin - 1) / BINS_PER_DOUBLING);
  return [lower, bin === LAST ? Infinity : 2 ** (bin / BINS_PER_DOUBLING)];
}

/** The stored form of a histogram (counts by bin, holes or 0 for empty bins): its non-empty bins in increasing order. */
export function encodeHistogram(counts: readonly (number | undefined)[]): string {
  let text = '';
  for (let bin = 0; bin < counts.length; bin++) {
    const n = counts[bin];
    if (n) text += `${text ? ',' : ''}"${bin}":${n}`;
  }
  return `{${text}}`;
}

/**
 * Adds stored histograms to `into` (indexed by bin). `text` is one or several of them joined by commas, as
 * group_concat / string_agg return them, in either database's JSON spelling: the numbers alone are read, in pairs of
 * bin and count. Parsing the JSON and walking its objects cost several times more on a month of rollup rows.
 */
export function addEncoded(text: string, into: Float64Array): void {
  let value = 0;
  let inNumber = false;
  let bin = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
      continue;
    }
    if (!inNumber) continue;
    if (bin < 0) bin = value;
    else {
      if (bin < into.length) into[bin]! += value;
      bin = -1;
    }
    value = 0;
    inNumber = false;
  }
}

/**
 * The p-quantile (0 < p ≤ 1) by nearest rank, estimated inside the bin that holds it: interpolated on the log scale
 * by the rank's place among the bin's counts. Null for an empty histogram.
 */
export function percentile(bins: Float64Array, p: number): number | null {
  let total = 0;
  for (const n of bins) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let bin = 0; bin < bins.length; bin++) {
    const n = bins[bin]!;
    if (seen + n < rank) {
      seen += n;
      continue;
    }
    const [lower, upper] = binBounds(bin);
    const place = (rank - seen - 0.5) / n;
    if (bin === 0) return place;
    if (upper === Infinity) return lower;
    return lower * (upper / lower) ** place;
  }
  return null;
}
