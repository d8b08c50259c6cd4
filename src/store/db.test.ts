import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { DEFAULT_DATABASE_URL, databaseUrl, describeDatabase, openDatabase, parseDatabaseUrl } from './db.ts';
import { openStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('database URLs: sqlite files and memory, postgres and postgresql; the embedded default without a setting', () => {
  assert.equal(databaseUrl(undefined), DEFAULT_DATABASE_URL);
  assert.equal(databaseUrl({}), 'sqlite://./.switchboard/switchboard.db');
  assert.deepEqual(parseDatabaseUrl(DEFAULT_DATABASE_URL), { dialect: 'sqlite', filename: './.switchboard/switchboard.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', filename: ':memory:' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/sb.db'), { dialect: 'sqlite', filename: '/var/lib/sb.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:data.db'), { dialect: 'sqlite', filename: 'data.db' });
  assert.deepEqual(parseDatabaseUrl('postgres://u@h/db'), { dialect: 'postgres', connectionString: 'postgres://u@h/db' });
  assert.deepEqual(parseDatabaseUrl('postgresql://u@h/db'), { dialect: 'postgres', connectionString: 'postgresql://u@h/db' });
  assert.throws(() => parseDatabaseUrl('sqlite://'), /needs a file/);
});

test('an unsupported URL names its scheme only, and descriptions leave credentials out', () => {
  assert.throws(() => parseDatabaseUrl('mysql://root:hunter2@db/sb'), (err: Error) => /unsupported database \(mysql:\)/.test(err.message) && !err.message.includes('hunter2'));
  assert.throws(() => parseDatabaseUrl('just-a-path.db'), /unsupported database \(a URL without a scheme\)/);
  assert.equal(describeDatabase(parseDatabaseUrl('postgres://sb:hunter2@db.internal:5433/gateway?sslmode=require')), 'postgres db.internal:5433/gateway');
  assert.equal(describeDatabase(parseDatabaseUrl('sqlite://./x.db')), 'sqlite ./x.db');
});

test('a SQLite file: its directory is created for the owner only, WAL journal, busy timeout and foreign keys on', async () => {
  const file = join(dir, 'nested', 'deeper', 'sb.db');
  const database = openDatabase(`sqlite://${file}`);
  try {
    assert.ok(existsSync(join(dir, 'nested', 'deeper')));
    assert.equal(statSync(join(dir, 'nested', 'deeper')).mode & 0o777, 0o700);
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(database.db)).rows[0] as object)[0];
    assert.equal(await pragma('journal_mode'), 'wal');
    assert.equal(await pragma('busy_timeout'), 5000);
    assert.equal(await pragma('foreign_keys'), 1);
  } finally {
    await database.close();
  }
});

test('openStore migrates the configured database, and a second open finds it up to date with the data kept', async () => {
  const config = { storage: { database: `sqlite://${join(dir, 'store.db')}` } };
  const lines: unknown[] = [];
  const logger = { info: (obj: unknown, msg: string) => lines.push([obj, msg]), error: () => {} } as never;
  const first = await openStore(config, { logger });
  const org = await first.organizations.create({ name: 'acme' });
  await first.close();
  assert.deepEqual(lines, [[{ database: `sqlite ${join(dir, 'store.db')}`, migrations: ['0001_identity', '0002_usage', '0003_limits', '0004_shadow', '0005_request_logs', '0006_usage_rollups'] }, 'database migrated']]);

  const second = await openStore(config, { logger });
  try {
    assert.equal(lines.length, 1, 'nothing to migrate the second time');
    assert.deepEqual(await second.organizations.get(org.id), org);
    assert.equal(second.dialect, 'sqlite');
  } finally {
    await second.close();
  }
});
