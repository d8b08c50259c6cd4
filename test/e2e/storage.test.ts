// The database as a user meets it: created by `switchboard start` with no configuration, migrated at start and by
// `switchboard migrate`, and refused with a plain message when it cannot be used.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, startGateway, writeConfig } from '../helpers/gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('start with no configuration creates and migrates ./.switchboard/switchboard.db in its working directory', async () => {
  const gateway = await startGateway({});
  try {
    assert.match(gateway.output(), /database: sqlite \.\/\.switchboard\/switchboard\.db/);
    assert.ok(existsSync(join(gateway.cwd, '.switchboard', 'switchboard.db')));
    // Already migrated by start, so there is nothing left to do.
    const { code, stdout } = await runCli(['migrate'], {}, gateway.cwd);
    assert.equal(code, 0);
    assert.equal(stdout, 'sqlite ./.switchboard/switchboard.db: already up to date\n');
  } finally {
    await gateway.stop();
  }
});

test('migrate: prints each migration it runs, then nothing to do on the second run', async () => {
  const config = writeConfig(`storage:\n  database: sqlite://${join(dir, 'sb.db')}\n`);
  const first = await runCli(['migrate', '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `applied 0001_identity\napplied 0002_usage\napplied 0003_limits\napplied 0004_shadow\napplied 0005_request_logs\napplied 0006_usage_rollups\nsqlite ${join(dir, 'sb.db')}: 6 migration(s) applied\n`);
  const second = await runCli(['migrate', '--config', config]);
  assert.equal(second.stdout, `sqlite ${join(dir, 'sb.db')}: already up to date\n`);
});

test('migrate and start against an unreachable database exit 1 with a message that keeps the password out', async () => {
  const config = writeConfig('storage:\n  database: postgres://sb:hunter2@127.0.0.1:1/switchboard\n');
  for (const args of [['migrate', '--config', config], ['start', '--port', '0', '--config', config]]) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 1);
    assert.match(stderr, /^postgres 127\.0\.0\.1:1\/switchboard: cannot use the database: .*ECONNREFUSED/);
    assert.ok(!stderr.includes('hunter2'));
    assert.ok(!stderr.includes('    at '), 'no stack trace');
  }
});
