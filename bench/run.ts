// `npm run bench`: drives the gateway, a bare Fastify + undici passthrough and the Portkey gateway with the same load
// against the same fake upstream, then prints how the gateway compares with its goals. Every server and every load
// generator is a process of its own; only one target runs at a time, so targets never compete for the two cores.

import { join } from 'node:path';
import { parseOptions, USAGE, type BenchOptions } from './args.ts';
import { attribute, snapshot } from './cpu.ts';
import { chatBody } from './payload.ts';
import { BENCH_DIR, REPO_ROOT, TSX } from './paths.ts';
import { runToCompletion, stopAll, stopChildrenOnExit } from './processes.ts';
import { evaluate, formatReport, mostlyFailed } from './report.ts';
import { describeMachine, describeVersions, writeRecord } from './results.ts';
import { scenarios as buildScenarios } from './scenarios.ts';
import { startTarget, startUpstream, type Target, type Upstream } from './targets.ts';
import type { LoadResult, LoadSpec, Measurement, Scenario, TargetName } from './types.ts';
import { verifyTarget } from './verify.ts';
import { measurePairs, pairsAmong, type PairedRun } from './paired.ts';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function measure(target: Target, upstream: Upstream, scenario: Scenario): Promise<Measurement> {
  const spec: LoadSpec = {
    url: target.url,
    headers: target.headers,
    body: chatBody(target.model, scenario.stream),
    connections: scenario.connections,
    durationS: scenario.durationS,
    warmupS: scenario.warmupS,
    rate: scenario.rate,
  };
  const watched = [target.pid, upstream.pid, process.pid];
  const scriptsBefore = await target.redisScriptCalls?.();
  const before = await snapshot(watched);
  const stdout = await runToCompletion(`load generator (${target.name}, ${scenario.id})`, [...TSX, join(BENCH_DIR, 'load.ts'), JSON.stringify(spec)], REPO_ROOT);
  const after = await snapshot(watched);
  const scriptsAfter = await target.redisScriptCalls?.();
  const load = JSON.parse(stdout) as LoadResult;
  const cpu = before && after ? attribute(before, after, load.loadGeneratorCpuMs) : null;
  return {
    scenario: scenario.id,
    target: target.name,
    load,
    cpuUsPerRequest: cpu && load.responsesIncludingWarmup > 0 ? (cpu.firstMs * 1000) / load.responsesIncludingWarmup : null,
    otherCpuShare: cpu?.otherShare ?? null,
    ...(scriptsBefore !== undefined && scriptsAfter !== undefined && load.responsesIncludingWarmup > 0
      ? { redisScriptCallsPerRequest: (scriptsAfter - scriptsBefore) / load.responsesIncludingWarmup }
      : {}),
  };
}

async function startVerified(name: TargetName, upstream: Upstream): Promise<Target> {
  const target = await startTarget(name, upstream);
  try {
    await verifyTarget(target, upstream);
    return target;
  } catch (err) {
    await target.stop();
    throw err;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

async function main(): Promise<number> {
  let options: BenchOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${firstLine(err)}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  stopChildrenOnExit();
  const date = new Date().toISOString();
  const machine = describeMachine();
  const scenarios = buildScenarios(options);
  const measurements: Measurement[] = [];
  const failures: string[] = [];

  // Scenarios sharing an upstream latency share one fake upstream; each target is started fresh per upstream.
  const latencies = [...new Set(scenarios.map((s) => s.upstreamLatencyMs))];
  for (const latencyMs of latencies) {
    const group = scenarios.filter((s) => s.upstreamLatencyMs === latencyMs);
    const upstream = await startUpstream(latencyMs);
    log(`fake upstream at ${upstream.url}, ${latencyMs} ms latency`);
    for (const name of options.targets) {
      let target: Target;
      try {
        target = await startVerified(name, upstream);
      } catch (err) {
        log(`✗ ${name}: ${err instanceof Error ? err.message : String(err)}`);
        failures.push(`${name} (upstream ${latencyMs} ms): ${firstLine(err)}`);
        continue;
      }
      for (const scenario of group) {
        log(`▶ ${name} · ${scenario.title} · ${scenario.connections} connections · ${scenario.warmupS} s warm-up + ${scenario.durationS} s`);
        try {
          const m = await measure(target, upstream, scenario);
          measurements.push(m);
          log(`  ${m.load.rps.toFixed(0)} rps, p50 ${m.load.p50Ms.toFixed(2)} ms, p99 ${m.load.p99Ms.toFixed(2)} ms, ${m.load.non2xx + m.load.errors} errors`);
          if (mostlyFailed(m)) failures.push(`${name} · ${scenario.title}: most requests failed (status codes ${JSON.stringify(m.load.statusCodes)}, ${m.load.errors} connection errors)`);
        } catch (err) {
          log(`✗ ${name} · ${scenario.title}: ${err instanceof Error ? err.message : String(err)}`);
          failures.push(`${name} · ${scenario.title}: ${firstLine(err)}`);
        }
      }
      await target.stop();
    }
    await upstream.stop();
  }

  // The paired comparisons, one fake upstream per latency as above.
  const paired: PairedRun = { records: [], checks: [] };
  if (options.pairRounds > 0) {
    for (const latencyMs of latencies) {
      const group = scenarios.filter((s) => s.upstreamLatencyMs === latencyMs && pairsAmong(options.targets, s).length > 0);
      if (group.length === 0) continue;
      const upstream = await startUpstream(latencyMs);
      log(`paired comparisons: ${options.pairRounds} alternating rounds each, upstream ${latencyMs} ms`);
      try {
        const run = await measurePairs({
          targets: options.targets,
          scenarios: group,
          rounds: options.pairRounds,
          start: (name) => startVerified(name, upstream),
          measure: (target, scenario) => measure(target, upstream, scenario),
          log,
        });
        paired.records.push(...run.records);
        paired.checks.push(...run.checks);
      } catch (err) {
        log(`✗ paired comparisons: ${err instanceof Error ? err.message : String(err)}`);
        failures.push(`paired comparisons (upstream ${latencyMs} ms): ${firstLine(err)}`);
      } finally {
        await upstream.stop();
      }
    }
  }

  const checks = [...evaluate(scenarios, measurements), ...paired.checks];
  console.log(`\nSwitchboard load benchmark · node ${process.version} · ${String(machine.cpus)} × ${String(machine.cpuModel)}`);
  console.log(`${options.durationS} s measured after ${options.warmupS} s warm-up per scenario and target\n`);
  console.log(formatReport(scenarios, options.targets, measurements, checks, failures));
  const path = await writeRecord({ date, machine, versions: describeVersions(), options, scenarios, measurements, checks, paired: paired.records, failures });
  console.log(`\nresults written to ${path}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    await stopAll();
    process.exit(1);
  },
);
