// The ledger against a fake database that can fail or hang, on a real journal directory: every record written ends in
// the database exactly once, whatever the database did meanwhile, and what close() cannot write stays in the journal
// for the next start.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { usageRecordFixture } from '../../../test/helpers/usage-record.ts';
import type { UsageRecord } from '../record.ts';
import { UsageLedger, type LedgerOptions } from './ledger.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

const root = mkdtempSync(join(tmpdir(), 'switchboard-ledger-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `l${n++}`);
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

/** A database keyed by request id (like ON CONFLICT DO NOTHING) whose next calls can be made to fail or hang. */
class FakeDatabase {
  readonly rows = new Map<string, UsageRecord>();
  readonly batches: number[] = [];
  /** Batches that came with their JSON text too (the journal's lines), which it asks for unless told not to. */
  jsonBatches = 0;
  takesJson = true;
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Fails (or hangs) only this many more calls, then works again; Infinity: until mode changes. */
  remaining = Infinity;
  calls = 0;
  readonly hung: (() => void)[] = [];

  async insertMany(records: readonly UsageRecord[], json?: string): Promise<number> {
    this.calls++;
    if (json !== undefined) {
      assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(records)), 'the JSON text holds the same records, in order');
      this.jsonBatches++;
    }
    let mode = this.mode;
    if (mode !== 'ok' && this.remaining-- <= 0) mode = 'ok';
    if (mode === 'fail') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    if (mode === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
    this.batches.push(records.length);
    let inserted = 0;
    for (const r of records) {
      if (!this.rows.has(r.request_id)) inserted++;
      this.rows.set(r.request_id, r);
    }
    return inserted;
  }
}

const FAST = { flushMs: 5, retryMinMs: 5, retryMaxMs: 20, insertTimeoutMs: 100, closeTimeoutMs: 2000 } satisfies Partial<LedgerOptions>;

function writeMany(ledger: UsageLedger, count: number): UsageRecord[] {
  const records = Array.from({ length: count }, () => usageRecordFixture());
  for (const r of records) ledger.write(r);
  return records;
}

const ids = (records: readonly UsageRecord[]) => records.map((r) => r.request_id).sort();

describe('usage ledger', () => {
  test('records reach the database in batches of at most batch_size; the journal empties as they commit', async () => {
    const db = new FakeDatabase();
    const dir = freshDir();
    const ledger = UsageLedger.open({ database: db, journalDir: dir, ...FAST, batchSize: 40 });
    const records = writeMany(ledger, 100);
    await eventually(() => db.rows.size === 100, 'all 100 in the database');
    assert.ok(db.batches.every((b) => b <= 40), `batches ${db.batches}`);
    assert.equal(db.jsonBatches, db.batches.length, 'every batch also came as the JSON of its journal lines');
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    const status = ledger.status();
    assert.deepEqual([status.committed, status.queued, status.failures, status.lost, status.journal_dir], [100, 0, 0, 0, dir]);
    await ledger.close();
    assert.deepEqual(segments(dir), []);
    assert.deepEqual(readdirSync(dir), [], 'lock released');
  });

  test('a failing database: inserts back off and retry; nothing is lost or doubled; the status says what happened', async () => {
    const db = new FakeDatabase();
    db.mode = 'fail';
    db.remaining = 5;
    const ledger = UsageLedger.open({ database: db, journalDir: freshDir(), ...FAST, batchSize: 25 });
    const records = writeMany(ledger, 60);
    await eventually(() => db.rows.size === 60, 'all 60 in the database');
    const status = ledger.status();
    assert.equal(status.failures, 5);
    assert.match(status.last_error!.message, /ECONNREFUSED/);
    assert.equal(status.committed, 60);
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    await ledger.close();
  });

  test('a hanging database: the insert times out and is retried; a late success of the first attempt is harmless', async () => {
    const db = new FakeDatabase();
    db.mode = 'hang';
    db.remaining = 1;
    const ledger = UsageLedger.open({ database: db, journalDir: freshDir(), ...FAST });
    const records = writeMany(ledger, 10);
    await eventually(() => db.rows.size === 10, 'all 10 in the database');
    assert.match(ledger.status().last_error!.message, /did not answer within 100 ms/);
    for (const resolve of db.hung) resolve();
    await eventually(() => db.batches.length === 2, 'the hung attempt finished too');
    assert.equal(db.rows.size, 10);
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    await ledger.close();
  });

  test('the memory queue is bounded during an outage; the overflow waits in the journal and is read back afterwards', async () => {
    const db = new FakeDatabase();
    db.mode = 'fail';
    const dir = freshDir();
    const ledger = UsageLedger.open({ database: db, journalDir: dir, ...FAST, batchSize: 10, maxQueued: 20, journalOptions: { segmentBytes: 4000 } });
    const records = writeMany(ledger, 200);
    await eventually(() => db.calls >= 3, 'a few failed attempts');
    assert.ok(ledger.status().queued <= 20, `queued ${ledger.status().queued}`);
    assert.ok(ledger.status().journaled >= 200);
    db.mode = 'ok';
    await eventually(() => db.rows.size === 200, 'all 200 in the database');
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    await eventually(() => ledger.status().journaled === 0, 'nothing left in the journal');
    assert.equal(ledger.status().lost, 0);
    await ledger.close();
    assert.deepEqual(segments(dir), []);
  });

  test('close writes everything queued, however long the flush interval', async () => {
    const db = new FakeDatabase();
    const dir = freshDir();
    const ledger = UsageLedger.open({ database: db, journalDir: dir, ...FAST, flushMs: 3_600_000, batchSize: 1000 });
    const records = writeMany(ledger, 30);
    await ledger.close();
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    assert.deepEqual(readdirSync(dir), []);
  });

  test('close with the database down leaves the records in the journal; the next start writes them, once each', async () => {
    const down = new FakeDatabase();
    down.mode = 'fail';
    const dir = freshDir();
    const first = UsageLedger.open({ database: down, journalDir: dir, ...FAST, closeTimeoutMs: 100 });
    const records = writeMany(first, 25);
    await first.close();
    assert.equal(down.rows.size, 0);
    assert.ok(segments(dir).length > 0);
    assert.equal(first.status().lost, 0);

    // Part of them did reach the database before (an insert that timed out but landed): replaying is still exact.
    const db = new FakeDatabase();
    for (const r of records.slice(0, 10)) db.rows.set(r.request_id, r);
    const second = UsageLedger.open({ database: db, journalDir: dir, ...FAST });
    await eventually(() => db.rows.size === 25 && second.status().journaled === 0, 'the leftovers replayed');
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    assert.equal(db.jsonBatches, db.batches.length, 'read-back records come with their lines as they are in the file');
    await second.close();
    assert.deepEqual(readdirSync(dir), []);
  });

  test('write never throws: after close a record is counted as lost instead', async () => {
    const db = new FakeDatabase();
    const ledger = UsageLedger.open({ database: db, journalDir: freshDir(), ...FAST });
    await ledger.close();
    assert.doesNotThrow(() => ledger.write(usageRecordFixture()));
    assert.equal(ledger.status().lost, 1);
    await ledger.close();
  });

  test('without a journal (in-memory database): records still reach the database; past the bound they are lost and counted', async () => {
    const db = new FakeDatabase();
    db.mode = 'fail';
    const ledger = UsageLedger.open({ database: db, journalDir: undefined, ...FAST, maxQueued: 5 });
    writeMany(ledger, 8);
    assert.equal(ledger.status().lost, 3);
    assert.equal(ledger.status().journal_dir, null);
    db.mode = 'ok';
    await eventually(() => db.rows.size === 5, 'the queued 5 in the database');
    assert.equal(db.jsonBatches, 0, 'no journal, no lines');
    await ledger.close();
  });

  test("a database that does not take JSON gets the records alone", async () => {
    const db = new FakeDatabase();
    db.takesJson = false;
    db.mode = 'fail';
    const ledger = UsageLedger.open({ database: db, journalDir: freshDir(), ...FAST });
    const records = writeMany(ledger, 30);
    await eventually(() => db.calls > 0, 'a first (failing) attempt');
    db.mode = 'ok';
    await eventually(() => db.rows.size === 30, 'all 30 in the database');
    assert.equal(db.jsonBatches, 0);
    assert.deepEqual([...db.rows.keys()].sort(), ids(records));
    await ledger.close();
  });

  test('a second ledger on the same journal directory is refused', async () => {
    const dir = freshDir();
    const ledger = UsageLedger.open({ database: new FakeDatabase(), journalDir: dir, ...FAST });
    assert.throws(() => UsageLedger.open({ database: new FakeDatabase(), journalDir: dir, ...FAST }), /already open in this process/);
    await ledger.close();
  });
});
