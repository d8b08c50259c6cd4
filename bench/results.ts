// The machine-readable record of a run, written to bench/results/<YYYY-MM-DD>.json so runs can be compared over time.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import type { PairRecord } from './paired.ts';
import type { BenchOptions } from './args.ts';
import { BENCH_DIR, REPO_ROOT } from './paths.ts';
import type { Check, Measurement, Scenario } from './types.ts';

export interface RunRecord {
  date: string;
  machine: Record<string, unknown>;
  versions: Record<string, string | null>;
  options: BenchOptions;
  scenarios: Scenario[];
  measurements: Measurement[];
  checks: Check[];
  /** Every round of the paired comparisons (bench/paired.ts). */
  paired: PairRecord[];
  failures: string[];
}

function packageVersion(name: string): string | null {
  try {
    const path = createRequire(join(REPO_ROOT, 'package.json')).resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function describeMachine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverageAtStart: os.loadavg(),
  };
}

export function describeVersions(): Record<string, string | null> {
  return {
    switchboard: (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    commit: gitCommit(),
    portkey: packageVersion('@portkey-ai/gateway'),
    autocannon: packageVersion('autocannon'),
  };
}

export async function writeRecord(record: RunRecord): Promise<string> {
  const dir = join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${record.date.slice(0, 10)}.json`);
  await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
