import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadMasterSecrets, SECRET_FILE, type MasterSecretOptions } from './master-secret.ts';
import { Keyring, SecretBox, SecretError } from './secrets.ts';

const A = 'configured-secret-0123456789abcdefghijklmn';
const B = 'environment-secret-0123456789abcdefghijklm';
const C = 'previous-secret-0123456789abcdefghijklmnopq';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-secret-'));
  dirs.push(dir);
  return join(dir, '.switchboard');
}
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const load = (options: Partial<MasterSecretOptions>) => loadMasterSecrets({ configured: {}, env: {}, embedded: false, ...options });

const refused = (pattern: RegExp, ...secrets: string[]) => (error: Error) => {
  assert.ok(error instanceof SecretError, error.message);
  assert.match(error.message, pattern);
  for (const secret of secrets) assert.ok(!error.message.includes(secret), 'the message holds no secret');
  return true;
};

test('auth.secret comes first, with its previous secrets; the same value in SWITCHBOARD_SECRET is fine', async () => {
  const secrets = await load({ configured: { secret: A, previous_secrets: [C] }, env: { SWITCHBOARD_SECRET: A } });
  assert.deepEqual(secrets, { current: A, previous: [C], source: 'auth.secret', created: false });
});

test('auth.secret and a different SWITCHBOARD_SECRET are refused rather than one silently winning', async () => {
  await assert.rejects(load({ configured: { secret: A }, env: { SWITCHBOARD_SECRET: B } }), refused(/both set and differ/, A, B));
});

test('SWITCHBOARD_SECRET, with SWITCHBOARD_PREVIOUS_SECRETS comma-separated', async () => {
  const secrets = await load({ env: { SWITCHBOARD_SECRET: B, SWITCHBOARD_PREVIOUS_SECRETS: ` ${C} , ${A},` } });
  assert.deepEqual(secrets, { current: B, previous: [C, A], source: 'SWITCHBOARD_SECRET', created: false });
});

test('outside embedded mode a secret must be configured, since instances share it', async () => {
  await assert.rejects(load({}), refused(/set auth\.secret \(or SWITCHBOARD_SECRET\).*every instance sharing the database/));
});

test('short secrets are refused, naming where they came from', async () => {
  await assert.rejects(load({ env: { SWITCHBOARD_SECRET: 'too-short' } }), refused(/^SWITCHBOARD_SECRET: .*at least 32 characters/, 'too-short'));
  await assert.rejects(load({ configured: { secret: A, previous_secrets: ['tiny'] } }), refused(/^auth\.secret: /, 'tiny', A));
});

test('embedded mode generates a 0600 secret file on first start and reuses it after', async () => {
  const dir = await freshDir();
  const first = await load({ embedded: true, dir });
  const path = join(dir, SECRET_FILE);
  assert.deepEqual({ ...first, current: '' }, { current: '', previous: [], source: path, created: true });
  assert.match(first.current, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.equal(await readFile(path, 'utf8'), `${first.current}\n`);

  const again = await load({ embedded: true, dir });
  assert.deepEqual(again, { ...first, created: false });
  const box = new SecretBox(new Keyring(again.current, again.previous));
  assert.equal(box.decrypt(new SecretBox(new Keyring(first.current)).encrypt('x')), 'x');
});

test('processes starting together agree on one generated secret', async () => {
  const dir = await freshDir();
  const all = await Promise.all(Array.from({ length: 8 }, () => load({ embedded: true, dir })));
  assert.equal(new Set(all.map((s) => s.current)).size, 1);
  assert.equal(all.filter((s) => s.created).length, 1);
});

test('a secret file readable by group or others is refused with the fix', async () => {
  const dir = await freshDir();
  const { current } = await load({ embedded: true, dir });
  const path = join(dir, SECRET_FILE);
  for (const mode of [0o644, 0o640, 0o604, 0o620]) {
    await chmod(path, mode);
    await assert.rejects(load({ embedded: true, dir }), refused(new RegExp(`open to group or others \\(mode 0${mode.toString(8)}\\).*chmod 600 ${path}`), current));
  }
  await chmod(path, 0o600);
  assert.equal((await load({ embedded: true, dir })).current, current);
});

test('the secret file holds previous secrets on the lines after the current one', async () => {
  const dir = await freshDir();
  await load({ embedded: true, dir });
  const path = join(dir, SECRET_FILE);
  await writeFile(path, `${A}\n${C}\n\n`, { mode: 0o600 });
  assert.deepEqual(await load({ embedded: true, dir }), { current: A, previous: [C], source: path, created: false });
  await writeFile(path, '\n');
  await assert.rejects(load({ embedded: true, dir }), refused(/is empty/));
});

test('a configured secret is used in embedded mode too, and no file is made', async () => {
  const dir = await freshDir();
  assert.equal((await load({ embedded: true, dir, env: { SWITCHBOARD_SECRET: B } })).source, 'SWITCHBOARD_SECRET');
  await assert.rejects(stat(dir), { code: 'ENOENT' });
});
