// The journal on a real directory: lines written per turn and paced under load, rotation by size and age, deletion of finished segments,
// segments left by an earlier run read back (truncated lines skipped), generations, and the directory lock.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { usageRecordFixture } from '../../../test/helpers/usage-record.ts';
import { Journal, parseRecord } from './journal.ts';
import { JournalLock, JournalLockedError, LOCK_FILE } from './lock.ts';
import { eventually } from '../../../test/helpers/eventually.ts';

const root = mkdtempSync(join(tmpdir(), 'switchboard-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `j${n++}`);

const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
const linesOf = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);

describe('journal', () => {
  test('records appended in one turn land as lines of one segment, in order, and round-trip', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir);
    const records = Array.from({ length: 50 }, (_, i) => usageRecordFixture({ input_tokens: i, ttft_ms: i % 2 ? 3.5 : null }));
    const entries = records.map((r) => journal.append(r));
    assert.equal(new Set(entries.map((e) => e.segment)).size, 1);
    await journal.settled();
    const files = segmentFiles(dir);
    assert.equal(files.length, 1);
    assert.deepEqual(linesOf(dir, files[0]!).map((l) => parseRecord(l)), records);
    assert.equal(journal.stats().uncommitted, 50);
    assert.ok(entries.every((e) => e.line === undefined), 'lines are not kept unless asked');
    await journal.close();
  });

  test('keepLines: each entry keeps the line as written, also when read back', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir, { keepLines: true });
    const record = usageRecordFixture();
    const entry = journal.append(record);
    await journal.close();
    const [file] = segmentFiles(dir);
    assert.equal(entry.line, `${linesOf(dir, file!)[0]}\n`);
    const again = Journal.open(dir, { keepLines: true });
    const [read] = await again.reload(again.nextUnread()!);
    assert.equal(read!.line, entry.line);
    assert.deepEqual(read!.record, record);
    await again.close();
  });

  test('under load, writes are paced: a line appended soon after a write waits for the next one, writeIntervalMs on', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir, { writeIntervalMs: 2_000 });
    journal.append(usageRecordFixture());
    await journal.settled();
    const [file] = segmentFiles(dir);
    assert.equal(linesOf(dir, file!).length, 1, 'a quiet journal writes at once');
    journal.append(usageRecordFixture());
    journal.append(usageRecordFixture());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(linesOf(dir, file!).length, 1, 'the next write waits for the interval');
    await journal.settled();
    assert.equal(linesOf(dir, file!).length, 3, 'both lines in one write once it has passed');
    await journal.close();
  });

  test('rotates by size; a sealed segment whose records are all committed is deleted, the others stay', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir, { segmentBytes: 2000 });
    const entries = Array.from({ length: 30 }, () => journal.append(usageRecordFixture()));
    await journal.settled();
    const files = segmentFiles(dir);
    assert.ok(files.length >= 3, `${files.length} segments`);
    const first = entries.filter((e) => e.segment === entries[0]!.segment);
    journal.commit(first.slice(1));
    await journal.settled();
    assert.equal(segmentFiles(dir).length, files.length, 'one record of the first segment is not committed yet');
    journal.commit(first.slice(0, 1));
    await eventually(() => !existsSync(join(dir, files[0]!)), 'the first segment deleted');
    assert.deepEqual(segmentFiles(dir), files.slice(1));
    journal.commit(entries.filter((e) => e.segment !== entries[0]!.segment));
    await journal.close();
    assert.deepEqual(segmentFiles(dir), [], 'closing seals the active segment, which is then finished too');
    assert.ok(!existsSync(join(dir, LOCK_FILE)), 'the lock is released');
  });

  test('rotates by age, so a quiet journal still gets its finished files deleted', async () => {
    const dir = freshDir();
    let now = 1_000_000;
    const journal = Journal.open(dir, { segmentMs: 60_000, now: () => now });
    const a = journal.append(usageRecordFixture());
    now += 30_000;
    journal.rotateIfDue();
    const b = journal.append(usageRecordFixture());
    assert.equal(a.segment, b.segment, 'not old enough yet');
    now += 30_000;
    journal.rotateIfDue();
    const c = journal.append(usageRecordFixture());
    assert.notEqual(c.segment, a.segment);
    await journal.settled();
    journal.commit([a, b]);
    await eventually(() => segmentFiles(dir).length === 1, 'the old segment deleted');
    await journal.close();
  });

  test('segments left by an earlier run are read back (a truncated last line skipped), then deleted once committed', async () => {
    const dir = freshDir();
    const first = Journal.open(dir, { segmentBytes: 1500 });
    const records = Array.from({ length: 12 }, () => usageRecordFixture());
    for (const r of records) first.append(r);
    await first.close();
    const left = segmentFiles(dir);
    assert.ok(left.length >= 2);
    // A crash cut the last write short.
    appendFileSync(join(dir, left[left.length - 1]!), '{"request_id":"req_cut","time":"2026-');

    const errors: string[] = [];
    const second = Journal.open(dir, { onError: (err) => errors.push(err.message) });
    const replayed = [];
    for (let segment = second.nextUnread(); segment; segment = second.nextUnread()) {
      const entries = await second.reload(segment);
      replayed.push(...entries.map((e) => e.record));
      second.commit(entries);
    }
    assert.deepEqual(replayed, records);
    assert.equal(second.stats().corrupt, 1);
    assert.match(errors.join('\n'), /skipped 1 line/);
    // New appends go to a new segment, numbered after the old ones.
    const fresh = second.append(usageRecordFixture());
    await second.settled();
    await eventually(() => segmentFiles(dir).length === 1, 'replayed segments deleted');
    assert.ok(fresh.segment!.seq > Number(/\d+/.exec(left[left.length - 1]!)![0]));
    await second.close();
  });

  test('an evicted record makes its segment unread; after reading it back, only the new generation counts', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir);
    const kept = journal.append(usageRecordFixture());
    const evicted = journal.append(usageRecordFixture());
    journal.evict(evicted);
    assert.equal(journal.nextUnread(), undefined, 'not while it is still being written to');
    journal.rotateIfDue();
    await journal.close();

    const again = Journal.open(dir);
    const segment = again.nextUnread()!;
    const reloaded = await again.reload(segment);
    assert.deepEqual(
      reloaded.map((e) => e.record.request_id),
      [kept.record.request_id, evicted.record.request_id],
    );
    // A stale acknowledgement (an older generation) does not finish the segment.
    again.commit([{ ...reloaded[0]!, generation: reloaded[0]!.generation - 1 }]);
    assert.equal(again.stats().uncommitted, 2);
    again.commit(reloaded);
    await eventually(() => segmentFiles(dir).length === 0, 'segment deleted');
    await again.close();
  });

  test('within one run: evicted records are read back from the sealed segment and old-generation acks are ignored', async () => {
    const dir = freshDir();
    let now = 0;
    const journal = Journal.open(dir, { now: () => now });
    const queued = journal.append(usageRecordFixture());
    const evicted = journal.append(usageRecordFixture());
    journal.evict(evicted);
    now += 120_000;
    journal.rotateIfDue();
    await journal.settled();
    const segment = journal.nextUnread();
    assert.ok(segment);
    const reloaded = await journal.reload(segment);
    assert.equal(reloaded.length, 2);
    journal.commit([queued]);
    journal.commit(reloaded.slice(0, 1));
    await journal.settled();
    assert.equal(segmentFiles(dir).length, 1, 'the evicted record is not committed yet');
    journal.commit(reloaded.slice(1));
    await eventually(() => segmentFiles(dir).length === 0, 'segment deleted');
    await journal.close();
  });

  test('parseRecord refuses what the database would refuse forever', () => {
    const good = usageRecordFixture();
    assert.deepEqual(parseRecord(JSON.stringify(good)), good);
    for (const bad of ['', 'null', '[]', '{"request_id":"x"}', JSON.stringify({ ...good, time: 'yesterday' }), JSON.stringify({ ...good, cost_usd: null }), JSON.stringify({ ...good, surface: 'smtp' })]) {
      assert.equal(parseRecord(bad), undefined, bad);
    }
  });
});

describe('journal lock', () => {
  const lockWith = (dir: string, holder: object) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
  const fresh = () => {
    const dir = freshDir();
    mkdirSync(dir);
    return dir;
  };

  test('one journal per directory in a process; released on close, so it can be opened again', async () => {
    const dir = freshDir();
    const journal = Journal.open(dir);
    assert.throws(() => Journal.open(dir), JournalLockedError);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    await journal.close();
    await Journal.open(dir).close();
  });

  test('a lock held by a live process is refused, with the pid and what to do', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      lockWith(dir, { pid: child.pid, host: hostname() });
      assert.throws(() => JournalLock.acquire(dir), (err: Error) => err instanceof JournalLockedError && err.message.includes(`pid ${child.pid}`) && /usage\.journal_dir/.test(err.message));
    } finally {
      child.kill();
    }
  });

  test('a stale lock (its process is gone, or it is unreadable) is taken over', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    lockWith(dir, { pid: child.pid, host: hostname() });
    const lock = JournalLock.acquire(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    lock.release();
    assert.ok(!existsSync(join(dir, LOCK_FILE)));

    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    JournalLock.acquire(dir).release();
    // This process's own pid in a lock it does not hold: an earlier run with the same pid (pid 1 in a container).
    lockWith(dir, { pid: process.pid, host: hostname() });
    JournalLock.acquire(dir).release();
    assert.deepEqual(readdirSync(dir), [], 'no drafts or stale copies left behind');
  });

  test("another host's lock is refused: its processes cannot be checked from here", () => {
    const dir = fresh();
    lockWith(dir, { pid: 1, host: `not-${hostname()}` });
    assert.throws(() => JournalLock.acquire(dir), /in use by another gateway/);
  });

  test('release leaves a lock that is no longer ours alone', () => {
    const dir = fresh();
    const lock = JournalLock.acquire(dir);
    lockWith(dir, { pid: 1, host: 'elsewhere' });
    lock.release();
    assert.ok(existsSync(join(dir, LOCK_FILE)));
  });
});
