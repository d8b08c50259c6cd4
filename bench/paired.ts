// Comparisons measured by alternating short runs on the two targets while both are up: the headline goals (the
// gateway's throughput against the bare passthrough's and Portkey's, and the p50 it adds to the bare passthrough's at a
// fixed rate) and the cost claims (what routing, logs + metrics, and tracing add to the core gateway). Measured one
// after the other, minutes apart, the same target drifts by ±15 % on this 2-core machine, which hides (or invents) a
// cost of a few percent and moved the headline ratio by a tenth between two runs of the same code; alternating the
// order round by round makes the drift hit both sides alike, and the median of the rounds drops the odd one out.

import { MAX_ADDED_P50_MS, MIN_SHARE_OF_BARE, MIN_TIMES_PORTKEY } from './goals.ts';
import type { Target } from './targets.ts';
import type { Check, Measurement, Scenario, ScenarioId, TargetName } from './types.ts';

export interface Pair {
  measured: TargetName;
  base: TargetName;
  label: string;
  /** The ratio to reach (at least), or the added p50 not to exceed, for the headline goals; claims have none. */
  goal?: number;
}

/** Throughput scenarios: measured rps ÷ base rps. */
export const PAIRS: readonly Pair[] = [
  { measured: 'gateway', base: 'bare', label: 'gateway / bare', goal: MIN_SHARE_OF_BARE },
  { measured: 'gateway', base: 'portkey', label: 'gateway / portkey', goal: MIN_TIMES_PORTKEY },
  { measured: 'gateway-routed', base: 'gateway', label: 'routed / single-target' },
  { measured: 'gateway-observed', base: 'gateway', label: 'logs+metrics / core' },
  { measured: 'gateway-traced', base: 'gateway', label: 'logs+metrics+tracing / core' },
];

/** Fixed-rate scenarios: measured p50 − base p50, in ms. */
export const LATENCY_PAIRS: readonly Pair[] = [{ measured: 'gateway', base: 'bare', label: 'added p50 vs bare', goal: MAX_ADDED_P50_MS }];

export interface PairRound {
  /** Throughput scenarios: measured rps ÷ base rps. Fixed-rate ones: measured p50 − base p50, in ms. */
  value: number;
  /** base CPU per request ÷ measured CPU per request (the same direction as rps: below 1 costs more). */
  byCpu: number | null;
}

export interface PairRecord {
  measured: TargetName;
  base: TargetName;
  scenario: ScenarioId;
  rounds: PairRound[];
}

export interface PairedRun {
  records: PairRecord[];
  checks: Check[];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The pairs of the scenario's kind whose both sides are among `targets`. */
export function pairsAmong(targets: readonly TargetName[], scenario: Pick<Scenario, 'rate'>): Pair[] {
  return (scenario.rate === null ? PAIRS : LATENCY_PAIRS).filter((p) => targets.includes(p.measured) && targets.includes(p.base));
}

function check(pair: Pair, scenario: Scenario, rounds: number, value: number | null, byCpu: number | null): Check {
  const latency = scenario.rate !== null;
  const goal = pair.goal;
  return {
    name: `${pair.label}${latency ? '' : ' rps'}, ${scenario.title}, paired (median of ${rounds})`,
    value,
    unit: latency ? 'ms' : '×',
    ...(goal === undefined
      ? { goal: 'reported', pass: null, informational: true }
      : { goal: `${latency ? '<=' : '>='} ${goal}`, pass: value === null ? null : latency ? value <= goal : value >= goal }),
    ...(latency ? {} : { byCpu }),
  };
}

/** Every pair of the scenarios' kinds; the scenarios share the one upstream `start` points targets at. */
export async function measurePairs(opts: {
  targets: readonly TargetName[];
  /** Each run shortened to half its duration with a 1 s warm-up per round. */
  scenarios: readonly Scenario[];
  rounds: number;
  start(name: TargetName): Promise<Target>;
  measure(target: Target, scenario: Scenario): Promise<Measurement>;
  log(line: string): void;
}): Promise<PairedRun> {
  const run: PairedRun = { records: [], checks: [] };
  const short = opts.scenarios.map((s) => ({ ...s, durationS: Math.max(2, Math.round(s.durationS / 2)), warmupS: 1 }));
  const work = short.flatMap((scenario) => pairsAmong(opts.targets, scenario).map((pair) => ({ pair, scenario })));
  if (work.length === 0 || opts.rounds === 0) return run;
  // Pairs sharing a base run while that base stays up, and each measured target while its pairs run.
  for (const baseName of [...new Set(work.map((w) => w.pair.base))]) {
    const base = await opts.start(baseName);
    try {
      const ofBase = work.filter((w) => w.pair.base === baseName);
      for (const measuredName of [...new Set(ofBase.map((w) => w.pair.measured))]) {
        const measured = await opts.start(measuredName);
        try {
          for (const { pair, scenario } of ofBase.filter((w) => w.pair.measured === measuredName)) {
            const latency = scenario.rate !== null;
            const record: PairRecord = { measured: pair.measured, base: pair.base, scenario: scenario.id, rounds: [] };
            for (let round = 0; round < opts.rounds; round++) {
              // Alternating which side goes first, so neither always runs on the warmer (or noisier) half of the round.
              const order = round % 2 === 0 ? [measured, base] : [base, measured];
              const [first, second] = [await opts.measure(order[0]!, scenario), await opts.measure(order[1]!, scenario)];
              const [m, b] = order[0] === measured ? [first, second] : [second, first];
              record.rounds.push({
                value: latency ? m.load.p50Ms - b.load.p50Ms : m.load.rps / b.load.rps,
                byCpu: m.cpuUsPerRequest && b.cpuUsPerRequest ? b.cpuUsPerRequest / m.cpuUsPerRequest : null,
              });
            }
            const value = median(record.rounds.map((r) => r.value));
            const byCpu = median(record.rounds.flatMap((r) => (r.byCpu === null ? [] : [r.byCpu])));
            const unit = latency ? ' ms' : '×';
            opts.log(`  paired ${pair.label}, ${scenario.title}: ${record.rounds.map((r) => r.value.toFixed(2)).join(' ')} (median ${value?.toFixed(2)}${unit})`);
            run.records.push(record);
            run.checks.push(check(pair, scenario, opts.rounds, value, byCpu));
          }
        } finally {
          await measured.stop();
        }
      }
    } finally {
      await base.stop();
    }
  }
  return run;
}
