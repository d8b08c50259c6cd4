// The cluster's traffic per minute in the kv, which every instance adds its deltas to and the evaluator reads windows
// from. Per minute there are two hashes: counts (requests, failures, cost in integer nano-USD) and answered-request
// latency histograms, kept apart so a rule that needs no percentile never reads them. A field is
// "<model>␟<provider>␟<what>" (the unit separator, which no model or provider name contains in practice).

import type { Kv } from '../../store/kv/index.ts';
import type { MinuteDelta } from './accumulator.ts';
import { MINUTE_MS } from './accumulator.ts';
import { LATENCY_BUCKETS } from './histogram.ts';

const SEP = '\u001f';
const NANO = 1e9;

const countsKey = (minute: number) => `alerts:minute:${minute}:counts`;
const latencyKey = (minute: number) => `alerts:minute:${minute}:latency`;

/** One (model, provider) pair's totals over a window, the oldest minute weighed by how much of it the window covers. */
export interface WindowSeries {
  model: string;
  provider: string;
  requests: number;
  errors: number;
  costUsd: number;
  latency: Float64Array;
}

/** One minute of the whole cluster, by "<model>␟<provider>". */
export type MinuteTotals = Map<string, WindowSeries>;

function add(fields: Record<string, number>, field: string, by: number): void {
  if (by !== 0) fields[field] = (fields[field] ?? 0) + by;
}

/** Adds this instance's deltas to the shared minutes: two hash increments per minute they touch, whatever the traffic. */
export async function addDeltas(kv: Pick<Kv, 'hincrBy'>, deltas: readonly MinuteDelta[], ttlMs: number): Promise<void> {
  const minutes = new Map<number, { counts: Record<string, number>; latency: Record<string, number> }>();
  for (const d of deltas) {
    let fields = minutes.get(d.minute);
    if (!fields) minutes.set(d.minute, (fields = { counts: {}, latency: {} }));
    const series = d.model + SEP + d.provider + SEP;
    add(fields.counts, `${series}requests`, d.requests);
    add(fields.counts, `${series}errors`, d.errors);
    add(fields.counts, `${series}cost`, Math.round(d.costUsd * NANO));
    for (let i = 0; i < d.latency.length; i++) add(fields.latency, series + i, d.latency[i]!);
  }
  await Promise.all(
    [...minutes].flatMap(([minute, fields]) => [kv.hincrBy(countsKey(minute), fields.counts, ttlMs), kv.hincrBy(latencyKey(minute), fields.latency, ttlMs)]),
  );
}

function seriesOf(totals: MinuteTotals, model: string, provider: string): WindowSeries {
  const key = model + SEP + provider;
  let series = totals.get(key);
  if (!series) totals.set(key, (series = { model, provider, requests: 0, errors: 0, costUsd: 0, latency: new Float64Array(LATENCY_BUCKETS) }));
  return series;
}

/** Splits "<model>␟<provider>␟<what>" from the right, so only the model may hold the separator. */
function splitField(field: string): [string, string, string] | undefined {
  const last = field.lastIndexOf(SEP);
  const middle = last > 0 ? field.lastIndexOf(SEP, last - 1) : -1;
  if (middle <= 0) return undefined;
  return [field.slice(0, middle), field.slice(middle + 1, last), field.slice(last + 1)];
}

function parseMinute(counts: Record<string, string>, latency: Record<string, string>): MinuteTotals {
  const totals: MinuteTotals = new Map();
  for (const [field, text] of Object.entries(counts)) {
    const parts = splitField(field);
    const value = Number(text);
    if (!parts || !Number.isFinite(value)) continue;
    const series = seriesOf(totals, parts[0], parts[1]);
    if (parts[2] === 'requests') series.requests += value;
    else if (parts[2] === 'errors') series.errors += value;
    else if (parts[2] === 'cost') series.costUsd += value / NANO;
  }
  for (const [field, text] of Object.entries(latency)) {
    const parts = splitField(field);
    const index = parts ? Number(parts[2]) : NaN;
    const value = Number(text);
    if (!parts || !(Number.isInteger(index) && index >= 0 && index < LATENCY_BUCKETS) || !Number.isFinite(value)) continue;
    seriesOf(totals, parts[0], parts[1]).latency[index]! += value;
  }
  return totals;
}

/** The shared minutes from `fromMinute` to `toMinute` (inclusive), by minute; the histograms only when asked for. */
export async function readMinutes(kv: Pick<Kv, 'hgetAll'>, fromMinute: number, toMinute: number, withLatency: boolean): Promise<Map<number, MinuteTotals>> {
  const minutes: number[] = [];
  for (let m = fromMinute; m <= toMinute; m++) minutes.push(m);
  const read = await Promise.all(
    minutes.map(async (m) => {
      const [counts, latency] = await Promise.all([kv.hgetAll(countsKey(m)), withLatency ? kv.hgetAll(latencyKey(m)) : {}]);
      return [m, parseMinute(counts, latency)] as const;
    }),
  );
  return new Map(read);
}

/**
 * The totals over the `windowMinutes` before `nowMs`, per (model, provider): the minutes that began within it, and the
 * one before them weighed by the share of it still inside, so the window slides smoothly rather than by the minute.
 */
export function windowTotals(minutes: ReadonlyMap<number, MinuteTotals>, nowMs: number, windowMinutes: number): WindowSeries[] {
  const current = Math.floor(nowMs / MINUTE_MS);
  const oldest = current - windowMinutes;
  const oldestWeight = 1 - (nowMs - current * MINUTE_MS) / MINUTE_MS;
  const window: MinuteTotals = new Map();
  for (let m = oldest; m <= current; m++) {
    const weight = m === oldest ? oldestWeight : 1;
    if (weight <= 0) continue;
    for (const s of minutes.get(m)?.values() ?? []) {
      const into = seriesOf(window, s.model, s.provider);
      into.requests += s.requests * weight;
      into.errors += s.errors * weight;
      into.costUsd += s.costUsd * weight;
      for (let i = 0; i < LATENCY_BUCKETS; i++) into.latency[i]! += s.latency[i]! * weight;
    }
  }
  return [...window.values()];
}
