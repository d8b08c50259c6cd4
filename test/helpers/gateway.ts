// Starts the real gateway as a child process (the `switchboard start` command, through tsx) on a free port, the way a
// user runs it, and stops it after the test. Each process runs in a fresh temporary directory, removed afterwards, so
// the embedded database (./.switchboard/) lands there and not in the repository.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'src/cli/main.ts');
// Resolved here: `--import tsx` would be looked up from the child's working directory, which has no node_modules.
const TSX = import.meta.resolve('tsx');

const tempCwd = () => mkdtempSync(join(tmpdir(), 'switchboard-cwd-'));
const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });

export interface RunningGateway {
  url: string;
  /** The process's working directory (removed by stop()). */
  cwd: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const file = join(dir, 'switchboard.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Runs the CLI to completion and returns its exit code and output. Without `cwd`, in a temporary directory removed after. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = cwd ?? tempCwd();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: dir, env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      if (!cwd) removeDir(dir);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function startGateway(opts: { config?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<RunningGateway> {
  const args = ['--import', TSX, CLI, 'start', '--port', '0', ...(opts.config ? ['--config', writeConfig(opts.config)] : []), ...(opts.args ?? [])];
  // A clean environment: only what the test passes, so a developer's real provider keys never leak into a test.
  const cwd = tempCwd();
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...opts.env } });
  child.once('exit', () => removeDir(cwd));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 20 s:\n${out}`)), 20_000);
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });

  return {
    url,
    cwd,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The access-log line (logging.requests, at info level) of one request, once the gateway has written it. */
export async function accessLogLine(gateway: RunningGateway, requestId: string): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 50; i++) {
    const line = gateway
      .output()
      .split('\n')
      .find((l) => l.includes(`"request_id":"${requestId}"`) && l.includes('"msg":"request"'));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}
