import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addEncoded, binBounds, binOf, BINS, encodeHistogram, percentile } from './histogram.ts';

describe('latency histogram', () => {
  test('bins: under 1 ms, four per doubling, open-ended from about 14.7 minutes', () => {
    assert.deepEqual([0, 0.999, NaN, -5].map(binOf), [0, 0, 0, 0]);
    assert.deepEqual([1, 1.18, 1.19, 2, 4, 1000].map(binOf), [1, 1, 2, 5, 9, 40]);
    assert.equal(binOf(2 ** (79 / 4) + 1), BINS - 1);
    assert.equal(binOf(1e12), BINS - 1);
    for (let bin = 1; bin < BINS; bin++) {
      const [lower, upper] = binBounds(bin);
      assert.equal(binOf(lower * 1.0001), bin);
      if (upper !== Infinity) {
        assert.equal(binOf(upper * 0.9999), bin);
        assert.ok(Math.abs(upper / lower - 2 ** 0.25) < 1e-12);
      }
    }
  });

  test('encoded sparse, read back from either database spelling and from several joined by commas', () => {
    const counts: number[] = [];
    [counts[24], counts[3], counts[7]] = [3, 1, 0];
    const text = encodeHistogram(counts);
    assert.equal(text, '{"3":1,"24":3}');
    const bins = new Float64Array(BINS);
    addEncoded(`${text},{"24": 2, "80": 10},{}`, bins);
    assert.deepEqual([bins[3], bins[24], bins[80], bins.reduce((a, b) => a + b)], [1, 5, 10, 16]);
    addEncoded('', bins);
    assert.equal(bins.reduce((a, b) => a + b), 16);
  });

  test('a percentile lies in the bin of the exact value (nearest rank)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const scale of [0.5, 40, 900, 20_000]) {
      const values = Array.from({ length: 2000 }, () => scale * Math.exp(2 * (random() - 0.5) * 2));
      const bins = new Float64Array(BINS);
      for (const v of values) bins[binOf(v)]! += 1;
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [0.5, 0.95, 0.99, 1]) {
        const exact = sorted[Math.ceil(p * sorted.length) - 1]!;
        const estimate = percentile(bins, p)!;
        assert.equal(binOf(estimate), binOf(exact), `p${p * 100} of scale ${scale}: ${estimate} vs ${exact}`);
      }
    }
  });

  test('no values: no percentile; one value: its bin', () => {
    assert.equal(percentile(new Float64Array(BINS), 0.5), null);
    const bins = new Float64Array(BINS);
    bins[binOf(250)] = 1;
    const [lower, upper] = binBounds(binOf(250));
    const p50 = percentile(bins, 0.5)!;
    assert.ok(p50 >= lower && p50 < upper);
    const last = new Float64Array(BINS);
    last[BINS - 1] = 1;
    assert.equal(percentile(last, 0.99), binBounds(BINS - 1)[0]);
  });
});
