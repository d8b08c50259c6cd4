// Turns measurements into the goals check and the printed table.

import { MAX_ADDED_P50_MS, MIN_SHARE_OF_BARE, MIN_TIMES_PORTKEY } from './goals.ts';
import type { Check, Measurement, Scenario, ScenarioId, TargetName } from './types.ts';

/** Below this share of the requested rate a target was saturated, and its latency includes queueing. */
const RATE_MET_SHARE = 0.95;
/** Idle background (the VM agent, a database or two) stays well under this share of the machine. */
const NOISY_OTHER_CPU_SHARE = 0.1;

type Lookup = (scenario: ScenarioId, target: TargetName) => Measurement | undefined;

function lookup(measurements: Measurement[]): Lookup {
  return (scenario, target) => measurements.find((m) => m.scenario === scenario && m.target === target);
}

function ratioCheck(find: Lookup, scenario: Scenario, other: TargetName, goal: number): Check {
  const gateway = find(scenario.id, 'gateway');
  const base = find(scenario.id, other);
  const value = gateway && base && base.load.rps > 0 ? gateway.load.rps / base.load.rps : null;
  const byCpu = gateway?.cpuUsPerRequest && base?.cpuUsPerRequest ? base.cpuUsPerRequest / gateway.cpuUsPerRequest : null;
  return {
    name: `gateway / ${other} rps, ${scenario.title}`,
    value,
    unit: '×',
    goal: `>= ${goal}`,
    pass: value === null ? null : value >= goal,
    byCpu,
  };
}

/** `measured` ÷ `base` in rps (and, inverted, in CPU per request), reported without a goal. */
function informationalRatio(name: string, measured: Measurement | undefined, base: Measurement | undefined): Check {
  return {
    name,
    value: measured && base && base.load.rps > 0 ? measured.load.rps / base.load.rps : null,
    unit: '×',
    goal: 'reported',
    pass: null,
    informational: true,
    byCpu: measured?.cpuUsPerRequest && base?.cpuUsPerRequest ? base.cpuUsPerRequest / measured.cpuUsPerRequest : null,
  };
}

export function evaluate(scenarios: Scenario[], measurements: Measurement[]): Check[] {
  const find = lookup(measurements);
  const checks: Check[] = [];
  for (const scenario of scenarios.filter((s) => s.rate === null)) checks.push(ratioCheck(find, scenario, 'bare', MIN_SHARE_OF_BARE));
  for (const scenario of scenarios.filter((s) => s.rate === null)) checks.push(ratioCheck(find, scenario, 'portkey', MIN_TIMES_PORTKEY));
  for (const scenario of scenarios.filter((s) => s.rate === null)) {
    // Informational: what virtual-key auth costs per request, the rest of the gateway being the same process.
    checks.push(informationalRatio(`virtual-key auth / no auth rps, ${scenario.title}`, find(scenario.id, 'gateway'), find(scenario.id, 'gateway-open')));
    // Informational: a weighted three-target route with retries and circuits against the single-target route.
    checks.push(informationalRatio(`routed / single-target rps, ${scenario.title}`, find(scenario.id, 'gateway-routed'), find(scenario.id, 'gateway')));
    // Informational: what a log line per request and metrics cost, then tracing on top of them.
    checks.push(informationalRatio(`logs+metrics / core rps, ${scenario.title}`, find(scenario.id, 'gateway-observed'), find(scenario.id, 'gateway')));
    checks.push(informationalRatio(`logs+metrics+tracing / core rps, ${scenario.title}`, find(scenario.id, 'gateway-traced'), find(scenario.id, 'gateway')));
  }
  for (const scenario of scenarios.filter((s) => s.rate === null)) {
    // Informational: what counting every request against limits and a budget costs, memory and Redis.
    for (const target of ['gateway-limits', 'gateway-limits-redis'] as const) {
      checks.push(informationalRatio(`${target} / gateway rps, ${scenario.title}`, find(scenario.id, target), find(scenario.id, 'gateway')));
    }
    const redis = find(scenario.id, 'gateway-limits-redis');
    // A request's every limit and budget is one script call, and settlements are batched: at most one per request.
    checks.push({
      name: `Redis script calls per request (limits), ${scenario.title}`,
      value: redis?.redisScriptCallsPerRequest ?? null,
      unit: '',
      goal: '<= 2',
      pass: redis?.redisScriptCallsPerRequest === undefined ? null : redis.redisScriptCallsPerRequest <= 2,
    });
  }
  for (const scenario of scenarios.filter((s) => s.rate !== null)) {
    const gateway = find(scenario.id, 'gateway');
    const bare = find(scenario.id, 'bare');
    const value = gateway && bare ? gateway.load.p50Ms - bare.load.p50Ms : null;
    checks.push({
      name: `added p50 vs bare, ${scenario.title}`,
      value,
      unit: 'ms',
      goal: `<= ${MAX_ADDED_P50_MS}`,
      pass: value === null ? null : value <= MAX_ADDED_P50_MS,
    });
    // Informational: the latency logs, metrics and tracing add on top of the core gateway.
    for (const target of ['gateway-observed', 'gateway-traced'] as const) {
      const observed = find(scenario.id, target);
      checks.push({
        name: `${target} added p50 vs gateway, ${scenario.title}`,
        value: observed && gateway ? observed.load.p50Ms - gateway.load.p50Ms : null,
        unit: 'ms',
        goal: 'reported',
        pass: null,
        informational: true,
      });
    }
  }
  return checks;
}

/** A target that failed most of its requests measured nothing worth comparing. */
export function mostlyFailed(m: Measurement): boolean {
  return m.load.non2xx + m.load.errors > m.load.ok;
}

export function rateNotMet(scenario: Scenario, m: Measurement): boolean {
  return scenario.rate !== null && m.load.rps < scenario.rate * RATE_MET_SHARE;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
}

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) => row.map((cell, col) => (rightAligned[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ').trimEnd())
    .join('\n');
}

export function formatReport(
  scenarios: Scenario[],
  targets: TargetName[],
  measurements: Measurement[],
  checks: Check[],
  failures: string[],
): string {
  const find = lookup(measurements);
  const rows = [['scenario', 'target', 'rps', 'p50 ms', 'p99 ms', 'errors', 'cpu µs/req', 'other cpu']];
  const notes = new Set<string>();
  for (const scenario of scenarios) {
    const label = `${scenario.title} (${scenario.connections} conn, upstream ${scenario.upstreamLatencyMs} ms)`;
    for (const [i, target] of targets.entries()) {
      const m = find(scenario.id, target);
      const first = i === 0 ? label : '';
      if (!m) {
        rows.push([first, target, 'not measured', '', '', '', '', '']);
        continue;
      }
      let rps = fixed(m.load.rps, 0);
      if (rateNotMet(scenario, m)) {
        rps += ' *';
        notes.add('* below the requested rate: the target was saturated, so its latencies include queueing');
      }
      let other = m.otherCpuShare === null ? '-' : `${fixed(m.otherCpuShare * 100, 0)} %`;
      if (m.otherCpuShare !== null && m.otherCpuShare > NOISY_OTHER_CPU_SHARE) {
        other += ' !';
        notes.add(`! other processes used over ${NOISY_OTHER_CPU_SHARE * 100} % of the machine during the run: rerun on a quiet machine`);
      }
      rows.push([
        first,
        target,
        rps,
        fixed(m.load.p50Ms, 2),
        fixed(m.load.p99Ms, 2),
        String(m.load.non2xx + m.load.errors),
        m.cpuUsPerRequest === null ? '-' : fixed(m.cpuUsPerRequest, 0),
        other,
      ]);
    }
  }

  const checkRows = [['goal', 'measured', 'target', 'result', 'by cpu/req']];
  for (const check of checks) {
    checkRows.push([
      check.name,
      check.value === null ? 'n/a' : `${fixed(check.value, 2)} ${check.unit}`,
      `${check.goal} ${check.unit}`,
      check.informational ? 'info' : check.pass === null ? 'n/a' : check.pass ? 'PASS' : 'MISS',
      check.byCpu === undefined ? '' : check.byCpu === null ? 'n/a' : `${fixed(check.byCpu, 2)} ${check.unit}`,
    ]);
  }

  return [
    table(rows, [false, false, true, true, true, true, true, true]),
    ...notes,
    '',
    table(checkRows, [false, true, false, false, true]),
    'by cpu/req: the same ratio from each process\'s CPU time per request (informational), free of the two cores being shared',
    'with the load generator and the fake upstream, which pulls measured rps ratios towards 1.',
    ...(failures.length > 0 ? ['', 'Failures:', ...failures.map((f) => `  - ${f}`)] : []),
  ].join('\n');
}
