// Every process the bench starts goes through here, so that an error, Ctrl-C or a normal exit leaves none behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
/** Set once the run is being torn down, so the run loop cannot start a child the teardown would miss. */
let stopping = false;
/** Enough of a child's output to explain why it died, without holding a whole run's logs. */
const TAIL_CHARS = 8_000;
const STOP_GRACE_MS = 3_000;

export interface Service {
  name: string;
  pid: number;
  /** The match of the readiness pattern against the child's stdout. */
  ready: RegExpExecArray;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** Arguments to `node`. */
  args: string[];
  /** A stdout line matching this means the child is serving. */
  ready: RegExp;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** A command node runs under, which must exec it in its own process (valgrind: bench/instructions.ts). */
  wrap?: readonly string[];
}

function spawnNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, wrap: readonly string[] = []): ChildProcess {
  if (stopping) throw new Error('the benchmark is stopping');
  const [command, ...prefix] = [...wrap, process.execPath];
  const child = spawn(command!, [...prefix, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function tailOf(child: ChildProcess): () => string {
  let tail = '';
  // Both pipes are always drained: a child blocked on a full stdout pipe would look like a slow target.
  const keep = (chunk: string): void => {
    tail = (tail + chunk).slice(-TAIL_CHARS);
  };
  child.stderr!.setEncoding('utf8').on('data', keep);
  child.stdout!.setEncoding('utf8').on('data', keep);
  return () => tail;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts a long-running node process and resolves once it prints its readiness line. */
export function launch(name: string, options: LaunchOptions): Promise<Service> {
  const child = spawnNode(options.args, options.cwd, options.env, options.wrap);
  const tail = tailOf(child);
  const timeoutMs = options.timeoutMs ?? 30_000;

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stopChild(child);
      reject(new Error(`${name} ${why}\n--- last output of ${name} ---\n${tail()}`));
    };
    const timer = setTimeout(() => fail(`printed no readiness line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));

    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = options.ready.exec(line);
      if (!match || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ name, pid: child.pid!, ready: match, stop: () => stopChild(child) });
    });
  });
}

/** Runs a node script to completion and returns its stdout. */
export async function runToCompletion(name: string, args: string[], cwd: string): Promise<string> {
  const child = spawnNode(args, cwd);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-TAIL_CHARS);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${name} exited (${code ?? signal})\n${stderr}`);
  return stdout;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stopChild));
}

/** Ctrl-C or a kill of the runner still takes the children down; a crash gets a last-ditch SIGKILL. */
export function stopChildrenOnExit(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
