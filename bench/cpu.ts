// CPU time a target spends, read from /proc. On a 2-core box the load generator, the fake upstream and the target
// share the cores, so requests per second alone blur the target's own cost; CPU per request does not.

import { readFile } from 'node:fs/promises';

/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU milliseconds consumed so far by `pid`, or null off Linux. */
export async function cpuTimeMs(pid: number): Promise<number | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces; fields are counted from after its closing parenthesis,
  // where field 3 (state) comes first, so utime (14) and stime (15) sit at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}
