// The usage ledger loses nothing and counts nothing twice, against the real gateway process: through a database
// outage (a private PostgreSQL server stopped and started again: the machine's shared one serves other tests), a
// SIGKILL after the answers and one in the middle of traffic (the journal is read back at the next start), and a
// SIGTERM (close writes what is queued). The gateway's pid, which the SIGKILL needs, is the one its journal lock names.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { openDatabase } from '../../src/store/db.ts';
import { LOCK_FILE } from '../../src/usage/ledger/lock.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { privatePostgres } from '../helpers/private-postgres.ts';
import { eventually as poll } from '../helpers/eventually.ts';

/** The database outage makes some waits long. */
const eventually = (check: () => boolean | Promise<boolean>, what: string) => poll(check, what, { timeoutMs: 30_000, everyMs: 50 });

const N = 20;
const root = mkdtempSync(join(tmpdir(), 'switchboard-ledger-e2e-'));
let fake: FakeProviders;

before(async () => {
  fake = await startFakeProviders();
});
after(async () => {
  await fake?.close();
  rmSync(root, { recursive: true, force: true });
});

function config(database: string, usage: string): string {
  return `
logging: { level: warn }
storage: { database: "${database}" }
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }
usage: ${usage}
`;
}

/** A directory for one test's database and journal: `sqlite://<dir>/sb.db`, whose journal is `<dir>/usage-journal`. */
function place(name: string): { dir: string; database: string; journal: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  return { dir, database: `sqlite://${join(dir, 'sb.db')}`, journal: join(dir, 'usage-journal') };
}

/** Sends `n` chat requests, at most `concurrency` at once, and returns the request ids of those answered (the rest failed: the gateway was killed). */
async function send(gateway: RunningGateway, n: number, opts: { concurrency?: number } = {}): Promise<string[]> {
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'local', maxRetries: 0, timeout: 15_000 });
  const answered: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        const { response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'count me' }] }).withResponse();
        answered.push(response.headers.get('x-request-id')!);
      } catch {
        // Refused or cut off by the killed gateway.
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  return answered;
}

async function ledgerIds(database: string): Promise<string[]> {
  const db = openDatabase(database);
  try {
    return (await db.db.selectFrom('usage_records').select('request_id').execute()).map((r) => r.request_id).sort();
  } finally {
    await db.close();
  }
}

const segments = (journal: string) => (existsSync(journal) ? readdirSync(journal).filter((f) => f.endsWith('.jsonl')) : []);
const journalText = (journal: string) => segments(journal).map((f) => readFileSync(join(journal, f), 'utf8')).join('');
const chatCalls = () => fake.received.filter((r) => r.path.endsWith('/chat/completions')).length;
const journalOwner = (journal: string): number => JSON.parse(readFileSync(join(journal, LOCK_FILE), 'utf8')).pid;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the gateway and waits until it is gone. RunningGateway.stop() would wait for an exit that has already happened. */
async function sigkill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await eventually(() => !alive(pid), `process ${pid} gone`);
}

/** For a finally block: stops the gateway unless it was killed. */
async function stopIfAlive(gateway: RunningGateway, pid: number | undefined): Promise<void> {
  if (pid === undefined || alive(pid)) await gateway.stop();
}

const privatePg = await privatePostgres();
// At file level, so the server goes even when the suite is filtered out.
after(async () => {
  if (!('skip' in privatePg)) await privatePg.destroy();
});

describe('a database outage', { skip: 'skip' in privatePg ? privatePg.skip : undefined }, () => {
  const pg = privatePg as Exclude<typeof privatePg, { skip: string }>;

  test('N requests while PostgreSQL is down, then it comes back: the ledger ends with exactly those N records', async () => {
    const journal = join(root, 'outage-journal');
    // Instances on PostgreSQL share their master secret, so it is not generated: the test gives one.
    const gateway = await startGateway({ config: config(pg.url, `{ journal_dir: "${journal}", flush_ms: 20 }`), env: { SWITCHBOARD_SECRET: 'ledger-e2e-master-secret-0123456789abcdef' } });
    try {
      assert.match(gateway.output(), new RegExp(`usage journal: ${journal}`));
      await pg.stop();
      const answered = await send(gateway, N);
      assert.equal(answered.length, N, 'requests do not wait for the database');
      await eventually(() => gateway.output().includes('cannot write to the database'), 'the ledger noticed the outage');
      assert.ok(segments(journal).length > 0, 'meanwhile the records are in the journal');
      await pg.start();
      await eventually(async () => (await ledgerIds(pg.url)).length >= N, 'the records written once the database is back');
      assert.deepEqual(await ledgerIds(pg.url), answered.sort());
    } finally {
      await gateway.stop();
    }
    assert.deepEqual(readdirSync(journal), [], 'a clean shutdown leaves an empty journal and no lock');
  });
});

describe('crashes and shutdowns', () => {
  test('SIGKILL once N answers arrived, restart on the same journal and database, N more: exactly 2N records', async () => {
    const { database, journal } = place('kill-after');
    // A flush interval no test waits for: when the process dies, its records are in the journal only.
    const first = await startGateway({ config: config(database, '{ flush_ms: 600000, batch_size: 10000 }') });
    const ids: string[] = [];
    let pid: number | undefined;
    try {
      assert.match(first.output(), new RegExp(`usage journal: ${journal}`), 'the journal lives beside the SQLite file by default');
      ids.push(...(await send(first, N)));
      assert.equal(ids.length, N);
      assert.deepEqual(await ledgerIds(database), []);
      await eventually(() => ids.every((id) => journalText(journal).includes(id)), 'the answered requests journaled');
      pid = journalOwner(journal);
      await sigkill(pid);
    } finally {
      await stopIfAlive(first, pid);
    }
    assert.ok(segments(journal).length > 0);
    assert.ok(existsSync(join(journal, LOCK_FILE)), 'the dead process left its lock, which the next start takes over');

    const second = await startGateway({ config: config(database, '{ flush_ms: 20 }') });
    try {
      ids.push(...(await send(second, N)));
      assert.equal(ids.length, 2 * N);
      await eventually(async () => (await ledgerIds(database)).length >= 2 * N, '2N records in the database');
      assert.deepEqual(await ledgerIds(database), ids.sort());
    } finally {
      await second.stop();
    }
    assert.deepEqual(readdirSync(journal), []);
  });

  test('SIGKILL during traffic: every answered request is in the ledger once, and no more records than the provider saw requests', async () => {
    const { database, journal } = place('kill-during');
    fake.reset();
    // Batches of 7 with no flush interval to speak of: at the kill, most records are in the database and in the journal
    // (read back, they must not count twice), the last few in the journal only.
    const gateway = await startGateway({ config: config(database, '{ flush_ms: 600000, batch_size: 7 }') });
    let left: string[];
    let answered: string[];
    let pid: number | undefined;
    try {
      pid = journalOwner(journal);
      // Requests in flight at the kill: the provider has them and never answers.
      fake.fault({ kind: 'hang' }, { provider: 'openai', times: 8 });
      const inFlight = send(gateway, 8, { concurrency: 8 });
      await eventually(() => chatCalls() === 8, 'the provider holding 8 requests');
      answered = await send(gateway, 40, { concurrency: 8 });
      assert.equal(answered.length, 40);
      // A record is journaled in the turn after its answer is written: the kill waits until the answered ones are.
      await eventually(() => answered.every((id) => journalText(journal).includes(id)), 'the answered requests journaled');
      await sigkill(pid);
      assert.deepEqual(await inFlight, [], 'the requests in flight died with the gateway');
      left = segments(journal);
    } finally {
      await stopIfAlive(gateway, pid);
    }
    const reached = chatCalls();

    const restarted = await startGateway({ config: config(database, '{ flush_ms: 10 }') });
    try {
      await eventually(() => !segments(journal).some((s) => left.includes(s)), "the dead process's segments read back and deleted");
      const recorded = await ledgerIds(database);
      assert.deepEqual(recorded, answered.sort(), 'each answered request once; none for those that never finished');
      assert.ok(recorded.length <= reached, `${recorded.length} records for ${reached} requests the provider saw`);
    } finally {
      await restarted.stop();
    }
  });

  test('SIGTERM writes what is queued before the process exits', async () => {
    const { database, journal } = place('sigterm');
    const gateway = await startGateway({ config: config(database, '{ flush_ms: 600000, batch_size: 10000 }') });
    let answered: string[];
    try {
      answered = await send(gateway, N);
      assert.deepEqual(await ledgerIds(database), [], 'still queued');
    } finally {
      await gateway.stop();
    }
    assert.deepEqual(await ledgerIds(database), answered.sort());
    assert.deepEqual(readdirSync(journal), [], 'nothing left in the journal, lock released');
  });
});
