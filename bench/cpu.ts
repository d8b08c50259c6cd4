// CPU accounting from /proc (Linux; elsewhere the numbers are simply absent). On a 2-core box the load generator, the
// fake upstream and the target share the cores, so requests per second alone blur the target's own cost; CPU time per
// request does not. And since nothing else should run during a benchmark, CPU used by anything else is reported too.

import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** USER_HZ, the unit of /proc times: 100 on every mainstream Linux build. */
const MS_PER_TICK = 10;

export interface CpuSnapshot {
  atMs: number;
  /** Busy CPU time of the whole machine, all cores, hypervisor steal included. */
  machineMs: number;
  /** CPU time of each watched process, in the order given. */
  processMs: number[];
}

async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces, so fields are counted from after its closing parenthesis, where
  // field 3 (state) comes first: utime (14) and stime (15) sit at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

async function machineBusyMs(): Promise<number> {
  const [user, nice, system, , , irq, softirq, steal] = (await readFile('/proc/stat', 'utf8'))
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return [user, nice, system, irq, softirq, steal].reduce((sum: number, v) => sum + (v ?? 0), 0) * MS_PER_TICK;
}

export async function snapshot(pids: number[]): Promise<CpuSnapshot | null> {
  try {
    return { atMs: performance.now(), machineMs: await machineBusyMs(), processMs: await Promise.all(pids.map(processCpuMs)) };
  } catch {
    return null;
  }
}

/**
 * Between two snapshots: CPU time of the first watched process, and the share of the machine's capacity that went to
 * anything other than the watched processes and `unwatchedOwnMs` (CPU of our own processes that exited meanwhile).
 */
export function attribute(before: CpuSnapshot, after: CpuSnapshot, unwatchedOwnMs: number): { firstMs: number; otherShare: number } {
  const used = after.processMs.map((ms, i) => ms - before.processMs[i]!);
  const ours = used.reduce((sum, ms) => sum + ms, unwatchedOwnMs);
  const capacity = (after.atMs - before.atMs) * cpus().length;
  return { firstMs: used[0]!, otherShare: Math.max(0, (after.machineMs - before.machineMs - ours) / capacity) };
}
