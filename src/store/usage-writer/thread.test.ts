import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { usageRecordFixture } from '../../../test/helpers/usage-record.ts';
import { openDatabase } from '../db.ts';
import { migrate } from '../migrate.ts';
import { UsageInsertThread } from './thread.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-usage-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function migratedFile(name: string) {
  const database = openDatabase(`sqlite://${join(dir, name)}`);
  await migrate(database);
  return database;
}

test('the thread inserts into the file the gateway reads, idempotently by request id, and ends when closed', async () => {
  const database = await migratedFile('a.db');
  const thread = new UsageInsertThread(join(dir, 'a.db'));
  const [a, b, c] = [usageRecordFixture({ model: 'm-a' }), usageRecordFixture(), usageRecordFixture()];
  assert.equal(await thread.insert([a!, b!]), 2);
  assert.equal(await thread.insert([a!, b!, c!, c!]), 1);
  assert.equal(await thread.insert([]), 0);
  const d = usageRecordFixture({ model: 'm-d' });
  assert.equal(await thread.insert([d], `[${JSON.stringify(d)}\n]`), 1, "a caller's own JSON text of the records (the ledger's journal lines)");
  const rows = await database.db.selectFrom('usage_records').select(['request_id', 'model']).execute();
  assert.deepEqual(rows.map((r) => r.request_id).sort(), [a!.request_id, b!.request_id, c!.request_id, d.request_id].sort());
  assert.equal(rows.find((r) => r.request_id === d.request_id)?.model, 'm-d');
  assert.equal(rows.find((r) => r.request_id === a!.request_id)?.model, 'm-a');

  // Inserts already sent finish before the thread ends.
  const many = Array.from({ length: 2000 }, () => usageRecordFixture());
  const pending = thread.insert(many);
  await thread.close();
  assert.equal(await pending, 2000);
  await assert.rejects(thread.insert([usageRecordFixture()]), /closed/);
  const { n } = (await database.db.selectFrom('usage_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow());
  assert.equal(Number(n), 2004);
  await database.close();
});

test("the database's refusal rejects that insert only; the thread goes on with the next", async () => {
  const database = await migratedFile('b.db');
  const thread = new UsageInsertThread(join(dir, 'b.db'));
  const broken = usageRecordFixture({ time: 'not a time' });
  await assert.rejects(thread.insert([usageRecordFixture(), broken]), /not a valid time/);
  assert.equal(await thread.insert([usageRecordFixture()]), 1);
  const rows = await database.db.selectFrom('usage_records').select('request_id').execute();
  assert.equal(rows.length, 1, 'the refused batch left nothing behind (one transaction)');
  await thread.close();
  await database.close();
});

test('a thread that cannot open its file rejects the insert, and a later insert starts a new thread', async () => {
  const path = join(dir, 'later.db');
  // A directory is where the file should be created: opening fails.
  writeFileSync(join(dir, 'blocker'), '');
  const thread = new UsageInsertThread(join(dir, 'blocker', 'nested.db'));
  await assert.rejects(thread.insert([usageRecordFixture()]));
  await thread.close();

  const database = await migratedFile('later.db');
  const working = new UsageInsertThread(path);
  assert.equal(await working.insert([usageRecordFixture()]), 1);
  await working.close();
  await database.close();
});
