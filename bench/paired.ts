// Cost ratios that are claims (what routing, logs + metrics, and tracing add to the core gateway), measured by
// alternating short runs on the two targets while both are up. Measured one after the other, minutes apart, the same
// target drifts by ±15 % on this 2-core machine, which hides (or invents) a cost of a few percent; alternating the
// order round by round makes the drift hit both sides alike, and the median of the rounds drops the odd one out.

import type { Target } from './targets.ts';
import type { Check, Measurement, Scenario, ScenarioId, TargetName } from './types.ts';

export const PAIRS: readonly { measured: TargetName; base: TargetName; label: string }[] = [
  { measured: 'gateway-routed', base: 'gateway', label: 'routed / single-target' },
  { measured: 'gateway-observed', base: 'gateway', label: 'logs+metrics / core' },
  { measured: 'gateway-traced', base: 'gateway', label: 'logs+metrics+tracing / core' },
];

export interface PairRound {
  /** measured rps ÷ base rps. */
  rps: number;
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

/** The pairs whose both sides are among `targets`. */
export function pairsAmong(targets: readonly TargetName[]): typeof PAIRS {
  return PAIRS.filter((p) => targets.includes(p.measured) && targets.includes(p.base));
}

export async function measurePairs(opts: {
  targets: readonly TargetName[];
  /** The throughput scenarios, each run shortened to half its duration with a 1 s warm-up per round. */
  scenarios: readonly Scenario[];
  rounds: number;
  start(name: TargetName): Promise<Target>;
  measure(target: Target, scenario: Scenario): Promise<Measurement>;
  log(line: string): void;
}): Promise<PairedRun> {
  const pairs = pairsAmong(opts.targets);
  const run: PairedRun = { records: [], checks: [] };
  if (pairs.length === 0 || opts.rounds === 0) return run;
  const short = opts.scenarios.map((s) => ({ ...s, durationS: Math.max(2, Math.round(s.durationS / 2)), warmupS: 1 }));
  const base = await opts.start(pairs[0]!.base);
  try {
    for (const pair of pairs) {
      const measured = await opts.start(pair.measured);
      try {
        for (const scenario of short) {
          const record: PairRecord = { measured: pair.measured, base: pair.base, scenario: scenario.id, rounds: [] };
          for (let round = 0; round < opts.rounds; round++) {
            // Alternating which side goes first, so neither always runs on the warmer (or noisier) half of the round.
            const order = round % 2 === 0 ? [measured, base] : [base, measured];
            const [first, second] = [await opts.measure(order[0]!, scenario), await opts.measure(order[1]!, scenario)];
            const [m, b] = order[0] === measured ? [first, second] : [second, first];
            record.rounds.push({ rps: m.load.rps / b.load.rps, byCpu: m.cpuUsPerRequest && b.cpuUsPerRequest ? b.cpuUsPerRequest / m.cpuUsPerRequest : null });
          }
          const rps = median(record.rounds.map((r) => r.rps));
          const byCpu = median(record.rounds.flatMap((r) => (r.byCpu === null ? [] : [r.byCpu])));
          opts.log(`  paired ${pair.label}, ${scenario.title}: ${record.rounds.map((r) => r.rps.toFixed(2)).join(' ')} (median ${rps?.toFixed(2)}×)`);
          run.records.push(record);
          run.checks.push({
            name: `${pair.label} rps, ${scenario.title}, paired (median of ${opts.rounds})`,
            value: rps,
            unit: '×',
            goal: 'reported',
            pass: null,
            informational: true,
            byCpu,
          });
        }
      } finally {
        await measured.stop();
      }
    }
  } finally {
    await base.stop();
  }
  return run;
}
