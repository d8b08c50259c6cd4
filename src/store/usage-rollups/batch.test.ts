import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { usageRecordFixture } from '../../../test/helpers/usage-record.ts';
import { DIALECTS } from '../dialect.ts';
import { toRow } from '../repositories/usage-rows.ts';
import { UsageRollupBatch } from './batch.ts';

const row = (over: Parameters<typeof usageRecordFixture>[0]) => toRow(usageRecordFixture(over), DIALECTS.sqlite.bool);

describe('rollup batch', () => {
  test('one row per rollup width, bucket and who / what, however many records share it', () => {
    const batch = new UsageRollupBatch();
    const base = { org_id: 'org_a', key_id: 'key_a', model: 'smart', provider: 'openai' };
    batch.add(row({ ...base, time: '2030-01-01T10:01:00Z', latency_ms: 100, ttft_ms: 20, status: 500, input_tokens: 7, cost_usd: 0.5 }));
    batch.add(row({ ...base, time: '2030-01-01T10:04:59.999Z', latency_ms: 101, ttft_ms: null, cache_hit: true, input_tokens: 3, cost_usd: 0.25 }));
    batch.add(row({ ...base, time: '2030-01-01T10:05:00Z', latency_ms: 0.5 }));
    batch.add(row({ ...base, time: '2030-01-01T10:06:00Z', model: 'fast' }));
    const rows = batch.rows();
    const widths = (model: string) => rows.filter((r) => r.model === model).map((r) => [r.width_ms / 60_000, new Date(r.start_ms).toISOString().slice(11, 16), r.requests]);
    assert.deepEqual(widths('smart'), [[5, '10:00', 2], [5, '10:05', 1], [60, '10:00', 3], [360, '06:00', 3], [1440, '00:00', 3]]);
    assert.deepEqual(widths('fast'), [[5, '10:05', 1], [60, '10:00', 1], [360, '06:00', 1], [1440, '00:00', 1]]);

    const first = rows.find((r) => r.model === 'smart' && r.width_ms === 300_000 && r.start_ms === Date.parse('2030-01-01T10:00:00Z'))!;
    assert.deepEqual(
      [first.requests, first.errors, first.cache_hits, first.input_tokens, first.cost_nano_usd, first.latency_sum_us, first.ttft_count, first.ttft_sum_us],
      [2, 1, 1, 10, 750_000_000, 201_000, 1, 20_000],
    );
    assert.equal(first.latency_hist, '{"27":2}');
    assert.equal(first.ttft_hist, '{"18":1}');
    assert.deepEqual([first.org_id, first.team_id, first.user_id, first.key_id], ['org_a', '', '', 'key_a'], "'' where the record had none");
  });

  test('rows come out in the same order whatever order the records came in', () => {
    const records = ['m3', 'm1', 'm2'].flatMap((model, i) => [
      row({ model, org_id: `org_${i % 2}`, time: `2030-01-0${i + 1}T00:00:00Z` }),
      row({ model, org_id: `org_${i % 2}`, time: `2030-01-0${i + 1}T23:00:00Z` }),
    ]);
    const order = (list: typeof records) => {
      const batch = new UsageRollupBatch();
      for (const r of list) batch.add(r);
      return batch.rows().map((r) => [r.org_id, r.model, r.width_ms, r.start_ms]);
    };
    assert.deepEqual(order(records), order([...records].reverse()));
  });
});
