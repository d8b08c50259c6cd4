// Instructions per request, counted by callgrind (valgrind). On a shared 2-core machine requests per second and CPU
// time move by ±10–15 % between runs, which hides a change worth a few percent; callgrind counts the instructions each
// thread executes, the same from run to run, so two builds or two targets can be compared on one figure. It counts no
// time spent in the kernel (the loopback writes) and is tens of times slower than a real run, so it complements
// `npm run bench`, it does not replace it.
//   npm run bench:instructions                       # gateway and bare, non-streaming
//   npm run bench:instructions -- --stream --only gateway --top 30
//   npm run bench:instructions -- --only gateway --keep /tmp/cg    # keeps the dumps and perf map for callgrind_annotate

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { chatBody } from './payload.ts';
import { stopAll, stopChildrenOnExit } from './processes.ts';
import { BENCH_DIR } from './paths.ts';
import { startTarget, startUpstream, type Target } from './targets.ts';
import { TARGET_NAMES, type TargetName } from './types.ts';

const USAGE = `npm run bench:instructions -- [--only gateway,bare] [--stream] [--requests 3000] [--warmup 5000] [--top 15] [--keep DIR]`;

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'gateway,bare' },
    stream: { type: 'boolean', default: false },
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '5000' },
    top: { type: 'string', default: '15' },
    keep: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const targets = values.only.split(',').map((t) => t.trim()) as TargetName[];
for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown target ${t}\n${USAGE}`);
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const top = Number(values.top);
/** Few connections: under valgrind a target serves a few hundred requests a second. */
const CONNECTIONS = 8;

interface Count {
  target: TargetName;
  /** Thread 1 is the event loop; the others are V8's helpers, libuv's pool and worker threads (usage inserts). */
  perThread: { thread: number; instructionsPerRequest: number }[];
  total: number;
  /**
   * Each busy thread's functions (the event loop's, and any other's doing a tenth of the work or more) by their own
   * instructions per request, JIT-compiled ones named from node's perf map.
   */
  topFunctions: { thread: number; functions: { name: string; instructionsPerRequest: number }[] }[];
}

async function drive(target: Target, count: number): Promise<void> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: CONNECTIONS });
  const body = chatBody(target.model, values.stream);
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (sent++ < count) {
          const response = await pool.request({ path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
          await response.body.text();
          if (response.statusCode !== 200) throw new Error(`${target.name} answered ${response.statusCode}`);
        }
      }),
    );
  } finally {
    await pool.close();
  }
}

/** Function-start addresses of JIT code, from node's --perf-basic-prof-only-functions map. */
async function perfMap(pid: number): Promise<(address: number) => string | undefined> {
  const entries: [number, number, string][] = [];
  try {
    for (const line of (await readFile(`/tmp/perf-${pid}.map`, 'utf8')).split('\n')) {
      const [start, size, ...name] = line.split(' ');
      if (start && size) entries.push([parseInt(start, 16), parseInt(size, 16), name.join(' ')]);
    }
  } catch {
    return () => undefined;
  }
  entries.sort((a, b) => a[0] - b[0]);
  return (address) => {
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, size, name] = entries[mid]!;
      if (address < start) hi = mid - 1;
      else if (address >= start + size) lo = mid + 1;
      else return name;
    }
    return undefined;
  };
}

/**
 * Self cost per function from a callgrind dump (name compression on: `fn=(id) name` the first time, `(id)` after; a
 * cost line after `calls=` is the call's inclusive cost, not the caller's own).
 */
function selfCosts(dump: string, jitName: (address: number) => string | undefined): Map<string, number> {
  const names = new Map<string, string>();
  const costs = new Map<string, number>();
  let current: string | undefined;
  let afterCall = false;
  for (const line of dump.split('\n')) {
    const named = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[2] !== undefined) names.set(named[1]!, named[2]);
      if (line.startsWith('fn=')) current = names.get(named[1]!);
      continue;
    }
    if (line.startsWith('calls=')) {
      afterCall = true;
      continue;
    }
    if (!/^[0-9+\-*]/.test(line)) continue;
    if (afterCall) {
      afterCall = false;
      continue;
    }
    const cost = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (current === undefined || !Number.isFinite(cost)) continue;
    // Code without a symbol is named by its address: JIT-compiled JavaScript, named from the perf map when it is there.
    const name = current.startsWith('0x') ? (jitName(parseInt(current, 16)) ?? 'JIT code (unnamed)') : current;
    costs.set(name, (costs.get(name) ?? 0) + cost);
  }
  return costs;
}

async function count(name: TargetName): Promise<Count> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-callgrind-'));
  const upstream = await startUpstream(0);
  let target: Target | undefined;
  try {
    // Instrumentation starts off (start-up and warm-up run at valgrind's lighter pace) and is switched on for the count.
    const wrap = [
      'env',
      'NODE_OPTIONS=--perf-basic-prof-only-functions',
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(dir, 'callgrind.%p')}`,
      `--log-file=${join(dir, 'valgrind.log')}`,
    ];
    console.log(`▶ ${name}: starting under callgrind`);
    target = await startTarget(name, upstream, wrap);
    await drive(target, warmup);
    execFileSync('callgrind_control', ['--instr=on', String(target.pid)], { stdio: 'ignore' });
    await drive(target, requests);
    execFileSync('callgrind_control', ['--dump', String(target.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--instr=off', String(target.pid)], { stdio: 'ignore' });
    const dumps = (await readdir(dir)).filter((f) => /^callgrind\.\d+\.1-\d+$/.test(f));
    const perThread: Count['perThread'] = [];
    const threadDumps = new Map<number, string>();
    for (const file of dumps.sort()) {
      const dump = await readFile(join(dir, file), 'utf8');
      const total = Number(/^(?:summary|totals): (\d+)/m.exec(dump)?.[1] ?? 0);
      const thread = Number(file.slice(file.lastIndexOf('-') + 1));
      threadDumps.set(thread, dump);
      if (total > 0) perThread.push({ thread, instructionsPerRequest: Math.round(total / requests) });
    }
    const total = perThread.reduce((sum, t) => sum + t.instructionsPerRequest, 0);
    const jitName = await perfMap(target.pid);
    const topFunctions = perThread
      .filter((t) => t.thread === 1 || t.instructionsPerRequest * 10 >= total)
      .map(({ thread }) => ({
        thread,
        functions: [...selfCosts(threadDumps.get(thread)!, jitName).entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([fn, cost]) => ({ name: fn, instructionsPerRequest: Math.round(cost / requests) })),
      }));
    return { target: name, perThread, total, topFunctions };
  } finally {
    const pid = target?.pid;
    await target?.stop();
    await upstream.stop();
    if (values.keep) {
      const kept = join(values.keep, name);
      await mkdir(values.keep, { recursive: true });
      await rm(kept, { recursive: true, force: true });
      await rename(dir, kept);
      if (pid) await rename(`/tmp/perf-${pid}.map`, join(kept, 'perf.map')).catch(() => {});
      console.log(`callgrind dumps of ${name} kept in ${kept}`);
    } else {
      if (pid) await rm(`/tmp/perf-${pid}.map`, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function format(counts: Count[]): string {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const lines = [`instructions per request (${values.stream ? 'streaming' : 'non-streaming'}, ${requests} requests after ${warmup} of warm-up)`, ''];
  for (const c of counts) {
    const eventLoop = c.perThread.find((t) => t.thread === 1)?.instructionsPerRequest ?? 0;
    const others = c.perThread.filter((t) => t.thread !== 1 && t.instructionsPerRequest > 0);
    lines.push(`${c.target}: ${k(c.total)} in all; event loop ${k(eventLoop)}; other threads ${others.map((t) => `#${t.thread} ${k(t.instructionsPerRequest)}`).join(', ') || 'none'}`);
  }
  const [first, second] = counts;
  if (first && second && second.total > 0) lines.push('', `${first.target} / ${second.target}: ${(first.total / second.total).toFixed(2)}× in all`);
  for (const c of counts) {
    for (const t of c.topFunctions) {
      lines.push('', `${c.target}, ${t.thread === 1 ? 'event loop' : `thread #${t.thread}`}, own instructions per request:`);
      for (const f of t.functions) lines.push(`  ${String(f.instructionsPerRequest).padStart(8)}  ${f.name.slice(0, 140)}`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  }
  stopChildrenOnExit();
  const counts: Count[] = [];
  for (const name of targets) counts.push(await count(name));
  console.log(`\n${format(counts)}`);
  const date = new Date().toISOString();
  const path = join(BENCH_DIR, 'results', `instructions-${date.slice(0, 10)}${values.stream ? '-stream' : ''}.json`);
  await writeFile(path, `${JSON.stringify({ date, node: process.version, stream: values.stream, requests, warmup, counts }, null, 2)}\n`);
  console.log(`\nresults written to ${path}`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  })
  .finally(() => stopAll());
