// The comparison GET /admin/v1/shadow/{model} answers: the primary and its shadow over the same sampled requests.

import type { ShadowRecord, ShadowSide } from './record.ts';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export interface SideReport {
  requests: number;
  errors: number;
  error_rate: number;
  /** Over the side's successful answers: a fast failure is not a fast answer. Null without any. */
  latency_ms: Percentiles | null;
  cost_usd: number;
  cost_per_request_usd: number;
  /** Means over successful answers. */
  input_tokens_mean: number;
  output_tokens_mean: number;
  output_chars_mean: number;
  /** Requests per target that answered or was last tried. */
  targets: Record<string, number>;
}

export interface ShadowComparison {
  samples: number;
  /** Samples where both sides answered. */
  both_answered: number;
  /** Of those, the share with identical generated text; null without any. */
  exact_match_rate: number | null;
  primary: SideReport;
  shadow: SideReport;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** Nearest-rank percentiles: each is a latency that was measured, not an interpolation between two. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), p99: rank(99), mean: mean(sorted) };
}

const answered = (s: ShadowSide): boolean => s.status < 400 && s.error === null;

function side(sides: readonly ShadowSide[]): SideReport {
  const ok = sides.filter(answered);
  const cost = sides.reduce((sum, s) => sum + s.cost_usd, 0);
  const targets: Record<string, number> = {};
  for (const s of sides) if (s.target !== null) targets[s.target] = (targets[s.target] ?? 0) + 1;
  const errors = sides.length - ok.length;
  return {
    requests: sides.length,
    errors,
    error_rate: sides.length === 0 ? 0 : errors / sides.length,
    latency_ms: percentiles(ok.map((s) => s.latency_ms)),
    cost_usd: cost,
    cost_per_request_usd: sides.length === 0 ? 0 : cost / sides.length,
    input_tokens_mean: mean(ok.map((s) => s.input_tokens)),
    output_tokens_mean: mean(ok.map((s) => s.output_tokens)),
    output_chars_mean: mean(ok.map((s) => s.output_chars)),
    targets,
  };
}

export function compare(records: readonly ShadowRecord[]): ShadowComparison {
  const both = records.filter((r) => answered(r.primary) && answered(r.shadow));
  return {
    samples: records.length,
    both_answered: both.length,
    exact_match_rate: both.length === 0 ? null : both.filter((r) => r.exact_match).length / both.length,
    primary: side(records.map((r) => r.primary)),
    shadow: side(records.map((r) => r.shadow)),
  };
}
