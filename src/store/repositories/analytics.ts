// One organization's analytics from the usage rollups (store/usage-rollups/): a time series over a range and a
// breakdown of the same range by model, provider, team, key or user. Each reads the rollup rows of one width in the
// range, summed per series bucket or per group in SQL, with their histograms concatenated there and added up here.

import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { SeriesPlan } from '../../usage/rollups/buckets.ts';
import { addEncoded, BINS, percentile } from '../../usage/rollups/histogram.ts';
import type { Tables } from '../tables.ts';
import type { OrgScope } from './scope.ts';
import { NANO } from './usage-rows.ts';
import type { UsageSummaryQuery } from './usage.ts';
import { visibleRows } from './visible-rows.ts';

export const ANALYTICS_GROUPS = ['model', 'provider', 'team', 'key', 'user'] as const;
export type AnalyticsGroup = (typeof ANALYTICS_GROUPS)[number];

export interface AnalyticsQuery {
  plan: SeriesPlan;
  group_by?: AnalyticsGroup | undefined;
  key_id?: string | undefined;
  team_id?: string | undefined;
  user_id?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
  /** For callers who see only part of the organization, as in usage reports. */
  visible?: UsageSummaryQuery['visible'];
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

export interface AnalyticsMetrics {
  requests: number;
  /** Requests answered with a status of 400 or more. */
  errors: number;
  /** errors / requests; null without requests. */
  error_rate: number | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  /** Requests answered from the gateway's cache or by sharing an identical request's call. */
  cache_hits: number;
  cache_hit_rate: number | null;
  latency_ms: Percentiles;
  /** Over the requests that streamed (the others have no first token). */
  ttft_ms: Percentiles;
}

export interface AnalyticsReport {
  /** Every bucket of the plan's range, in order; empty buckets have zero requests. */
  series: (AnalyticsMetrics & { time: string })[];
  total: AnalyticsMetrics;
  /** One entry per value of group_by (null: records without one), most requests first; empty without group_by. */
  breakdown: (AnalyticsMetrics & { group: string | null })[];
}

const GROUP_COLUMNS = { model: 'model', provider: 'provider', team: 'team_id', key: 'key_id', user: 'user_id' } as const;
const FILTERS = ['key_id', 'team_id', 'user_id', 'model', 'provider'] as const;
const SUMS = ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_nano_usd', 'latency_sum_us', 'ttft_count', 'ttft_sum_us'] as const;

type Sums = Record<(typeof SUMS)[number], number>;

/** Sums of rollup rows, their histograms added up bin by bin. */
class Accumulator {
  readonly sums: Sums = Object.fromEntries(SUMS.map((c) => [c, 0])) as Sums;
  readonly latency = new Float64Array(BINS);
  readonly ttft = new Float64Array(BINS);

  addRow(row: Record<string, unknown>): void {
    for (const column of SUMS) this.sums[column] += Number(row[column] ?? 0);
    if (typeof row.latency_hist === 'string') addEncoded(row.latency_hist, this.latency);
    if (typeof row.ttft_hist === 'string') addEncoded(row.ttft_hist, this.ttft);
  }

  add(other: Accumulator): void {
    for (const column of SUMS) this.sums[column] += other.sums[column];
    for (let bin = 0; bin < BINS; bin++) {
      this.latency[bin]! += other.latency[bin]!;
      this.ttft[bin]! += other.ttft[bin]!;
    }
  }

  metrics(): AnalyticsMetrics {
    const s = this.sums;
    const rate = (n: number) => (s.requests > 0 ? n / s.requests : null);
    return {
      requests: s.requests,
      errors: s.errors,
      error_rate: rate(s.errors),
      input_tokens: s.input_tokens,
      output_tokens: s.output_tokens,
      cached_tokens: s.cached_tokens,
      // Summed in integer nano-USD, so many small costs add up without floating-point drift.
      cost_usd: s.cost_nano_usd / NANO,
      cache_hits: s.cache_hits,
      cache_hit_rate: rate(s.cache_hits),
      latency_ms: percentiles(this.latency, s.latency_sum_us, s.requests),
      ttft_ms: percentiles(this.ttft, s.ttft_sum_us, s.ttft_count),
    };
  }
}

const round = (ms: number | null, digits: number) => (ms === null ? null : Math.round(ms * 10 ** digits) / 10 ** digits);

function percentiles(bins: Float64Array, sumUs: number, count: number): Percentiles {
  return {
    p50: round(percentile(bins, 0.5), 2),
    p95: round(percentile(bins, 0.95), 2),
    p99: round(percentile(bins, 0.99), 2),
    mean: count > 0 ? round(sumUs / count / 1000, 3) : null,
  };
}

type RollupBuilder = ExpressionBuilder<Tables, 'usage_rollups'>;

export class AnalyticsRepository {
  constructor(private readonly scope: OrgScope) {}

  async report(query: AnalyticsQuery): Promise<AnalyticsReport> {
    const { plan } = query;
    const where = (eb: RollupBuilder): Expression<SqlBool> => {
      const and: Expression<SqlBool>[] = [eb('width_ms', '=', plan.rollupMs), eb('start_ms', '>=', plan.fromMs), eb('start_ms', '<', plan.toMs)];
      for (const column of FILTERS) {
        const value = query[column];
        if (value !== undefined) and.push(eb(column, '=', value));
      }
      if (query.visible) and.push(visibleRows(query.visible));
      return eb.and(and);
    };
    const concat = this.scope.dialect.name === 'postgres' ? (c: string) => sql<string>`string_agg(${sql.ref(c)}, ',')` : (c: string) => sql<string>`group_concat(${sql.ref(c)}, ',')`;
    const sums = (eb: RollupBuilder) => [...SUMS.map((c) => eb.fn.sum(c).as(c)), concat('latency_hist').as('latency_hist'), concat('ttft_hist').as('ttft_hist')];
    const base = this.scope.selectFrom('usage_rollups').where(where).select(sums);

    // Literals, not parameters: PostgreSQL matches the grouped expression by its text, and the plan's numbers are ours.
    const width = sql.lit(plan.ms);
    const offset = sql.lit(plan.offsetMs);
    const bucket = plan.offsetMs === 0 ? sql<number | string>`(start_ms / ${width}) * ${width}` : sql<number | string>`((start_ms - ${offset}) / ${width}) * ${width} + ${offset}`;
    const groupBy = query.group_by && sql.ref<string>(GROUP_COLUMNS[query.group_by]);
    const [points, groups] = await Promise.all([
      base.select(bucket.as('grp')).groupBy(bucket).execute(),
      groupBy ? base.select(groupBy.as('grp')).groupBy(groupBy).execute() : [],
    ]);

    const byTime = new Map<number, Accumulator>();
    for (const row of points) {
      const sums = new Accumulator();
      sums.addRow(row);
      byTime.set(Number(row.grp), sums);
    }
    const total = new Accumulator();
    const series: AnalyticsReport['series'] = [];
    for (let time = plan.fromMs; time < plan.toMs; time += plan.ms) {
      const sums = byTime.get(time) ?? new Accumulator();
      total.add(sums);
      series.push({ time: new Date(time).toISOString(), ...sums.metrics() });
    }

    const breakdown = groups.map((row) => {
      const sums = new Accumulator();
      sums.addRow(row);
      // The rollups keep '' for "none", a primary key column cannot be null.
      return { group: row.grp === '' || row.grp === null ? null : String(row.grp), ...sums.metrics() };
    });
    breakdown.sort((a, b) => b.requests - a.requests || (a.group === b.group ? 0 : a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : 1));
    return { series, total: total.metrics(), breakdown };
  }
}
