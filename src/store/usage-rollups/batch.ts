// The rollup rows of a batch of usage records: the records an insert added, summed in memory per rollup width, bucket
// and who / what, so the batch costs one upsert per distinct rollup key rather than one per record.

import type { Insertable } from 'kysely';
import { ROLLUP_WIDTHS_MS, rollupStart } from '../../usage/rollups/buckets.ts';
import { binOf, encodeHistogram } from '../../usage/rollups/histogram.ts';
import type { UsageRecordsTable, UsageRollupsTable } from '../tables.ts';

/** A usage record as inserted (repositories/usage-rows.ts toRow): its numbers already made storable. */
export type RollupSource = Pick<
  Insertable<UsageRecordsTable>,
  | 'time'
  | 'org_id'
  | 'team_id'
  | 'user_id'
  | 'key_id'
  | 'model'
  | 'provider'
  | 'status'
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_tokens'
  | 'cost_nano_usd'
  | 'latency_ms'
  | 'ttft_ms'
  | 'cache_hit'
>;

export type RollupRow = Insertable<UsageRollupsTable>;

type Who = Pick<RollupRow, 'org_id' | 'team_id' | 'user_id' | 'key_id' | 'model' | 'provider'>;

interface Sums {
  requests: number;
  errors: number;
  cache_hits: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_nano_usd: number;
  latency_sum_us: number;
  ttft_count: number;
  ttft_sum_us: number;
  /** Counts by bin (holes for empty bins). */
  latency: number[];
  ttft: number[];
}

/** One who / what: its sums per rollup width (in ROLLUP_WIDTHS_MS order), by bucket start. */
interface Entry {
  who: Who;
  widths: Map<number, Sums>[];
}

const micros = (ms: number): number => Math.round(ms * 1000);

export class UsageRollupBatch {
  // By who first, then by bucket start: numeric keys per width cost less to look up than one string key per width.
  readonly #entries = new Map<string, Entry>();

  add(record: RollupSource): void {
    const time = Date.parse(record.time);
    const who = { org_id: record.org_id ?? '', team_id: record.team_id ?? '', user_id: record.user_id ?? '', key_id: record.key_id ?? '', model: record.model, provider: record.provider };
    // Each part after its length: a model name may hold any character, so no separator could be trusted (JSON text,
    // the first way, cost more than the rest of add()).
    const id = `${who.org_id.length}:${who.org_id}${who.team_id.length}:${who.team_id}${who.user_id.length}:${who.user_id}${who.key_id.length}:${who.key_id}${who.model.length}:${who.model}${who.provider.length}:${who.provider}`;
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { who, widths: ROLLUP_WIDTHS_MS.map(() => new Map()) };
      this.#entries.set(id, entry);
    }
    const ttft = record.ttft_ms ?? null;
    const latencyBin = binOf(record.latency_ms);
    const ttftBin = ttft === null ? -1 : binOf(ttft);
    const latencyUs = micros(record.latency_ms);
    const ttftUs = ttft === null ? 0 : micros(ttft);
    for (let i = 0; i < ROLLUP_WIDTHS_MS.length; i++) {
      const byStart = entry.widths[i]!;
      const start = rollupStart(time, ROLLUP_WIDTHS_MS[i]!);
      let sums = byStart.get(start);
      if (!sums) {
        sums = empty();
        byStart.set(start, sums);
      }
      sums.requests += 1;
      if (record.status >= 400) sums.errors += 1;
      if (record.cache_hit) sums.cache_hits += 1;
      sums.input_tokens += record.input_tokens;
      sums.output_tokens += record.output_tokens;
      sums.cached_tokens += record.cached_tokens;
      sums.cost_nano_usd += record.cost_nano_usd;
      sums.latency_sum_us += latencyUs;
      sums.latency[latencyBin] = (sums.latency[latencyBin] ?? 0) + 1;
      if (ttftBin >= 0) {
        sums.ttft_count += 1;
        sums.ttft_sum_us += ttftUs;
        sums.ttft[ttftBin] = (sums.ttft[ttftBin] ?? 0) + 1;
      }
    }
  }

  /**
   * The rows, in one fixed order (by who / what, width, start): every writer upserts in the same order, so concurrent
   * batches of several gateways on one PostgreSQL wait for each other's rows instead of deadlocking.
   */
  rows(): RollupRow[] {
    const rows: RollupRow[] = [];
    const ids = [...this.#entries.keys()].sort();
    for (const id of ids) {
      const { who, widths } = this.#entries.get(id)!;
      widths.forEach((byStart, i) => {
        for (const start_ms of [...byStart.keys()].sort((a, b) => a - b)) {
          const s = byStart.get(start_ms)!;
          rows.push({
            org_id: who.org_id,
            width_ms: ROLLUP_WIDTHS_MS[i]!,
            start_ms,
            team_id: who.team_id,
            user_id: who.user_id,
            key_id: who.key_id,
            model: who.model,
            provider: who.provider,
            requests: s.requests,
            errors: s.errors,
            cache_hits: s.cache_hits,
            input_tokens: s.input_tokens,
            output_tokens: s.output_tokens,
            cached_tokens: s.cached_tokens,
            cost_nano_usd: s.cost_nano_usd,
            latency_sum_us: s.latency_sum_us,
            latency_hist: encodeHistogram(s.latency),
            ttft_count: s.ttft_count,
            ttft_sum_us: s.ttft_sum_us,
            ttft_hist: encodeHistogram(s.ttft),
          });
        }
      });
    }
    return rows;
  }
}

const empty = (): Sums => ({
  requests: 0,
  errors: 0,
  cache_hits: 0,
  input_tokens: 0,
  output_tokens: 0,
  cached_tokens: 0,
  cost_nano_usd: 0,
  latency_sum_us: 0,
  ttft_count: 0,
  ttft_sum_us: 0,
  latency: [],
  ttft: [],
});
