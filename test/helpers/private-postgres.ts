// A PostgreSQL server of the test's own, for tests that stop and restart the database: the machine's shared server on
// 5432 serves other tests in parallel and must never be stopped. initdb and pg_ctl run as the postgres user in a
// temporary directory, on a free port, with trust auth and fsync off. When that cannot be done here (no binaries, not
// root, no postgres user), the reason is returned for the caller to skip with.

import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  start(): Promise<void>;
  /** A fast shutdown: connections are cut, as in an outage. */
  stop(): Promise<void>;
  /** Stops it if running and removes its files. */
  destroy(): Promise<void>;
}

function binaries(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(ROOT, versions[0], 'bin');
}

export async function privatePostgres(): Promise<PrivatePostgres | { skip: string }> {
  const bin = binaries();
  if (!bin) return { skip: `no PostgreSQL server binaries under ${ROOT}/<version>/bin to run a private server with` };
  if (userInfo().uid !== 0) return { skip: 'a private PostgreSQL server is started as the postgres user, which needs root' };
  let uid: number;
  let gid: number;
  try {
    const id = await run('id', ['-u', 'postgres']);
    const group = await run('id', ['-g', 'postgres']);
    [uid, gid] = [Number(id.stdout.trim()), Number(group.stdout.trim())];
  } catch {
    return { skip: 'no postgres user to run a private PostgreSQL server as' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const asPostgres = (tool: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeout: 60_000 });
  try {
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `initdb failed: ${(err as Error).message}` };
  }
  const port = await freePort();
  let running = false;
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asPostgres('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start']);
      running = true;
    },
    async stop() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await pg.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await pg.start();
  } catch (err) {
    await pg.destroy();
    return { skip: `could not start a private PostgreSQL server: ${(err as Error).message}` };
  }
  return pg;
}
