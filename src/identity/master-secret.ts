// Where the master secret comes from: auth.secret in the config file, else SWITCHBOARD_SECRET, else (embedded mode
// only) ./.switchboard/secret.key, generated at first start. Instances sharing a database must share the secret, so
// outside embedded mode it has to be configured.

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MIN_SECRET_LENGTH, SECRET_RULE, SecretError } from './secrets.ts';

export const SECRET_ENV = 'SWITCHBOARD_SECRET';
/** Comma-separated: secrets that sealed values still stored, kept so those values open after a rotation. */
export const PREVIOUS_SECRETS_ENV = 'SWITCHBOARD_PREVIOUS_SECRETS';
export const SECRET_FILE = 'secret.key';

export interface MasterSecrets {
  current: string;
  previous: string[];
  /** Where they came from, for the start banner: `auth.secret`, `SWITCHBOARD_SECRET` or the file's path. */
  source: string;
  /** The file was made just now: the operator should back it up, since stored credentials are lost with it. */
  created: boolean;
}

export interface MasterSecretOptions {
  /** The config file's `auth` section. */
  configured: { secret?: string | undefined; previous_secrets?: string[] | undefined };
  env: NodeJS.ProcessEnv;
  /** Embedded mode (SQLite): one instance, so a secret of its own in a file will do. */
  embedded: boolean;
  /** Where the secret file lives; `.switchboard` under the working directory by default. */
  dir?: string;
}

export async function loadMasterSecrets(options: MasterSecretOptions): Promise<MasterSecrets> {
  const secrets = await find(options);
  if ([secrets.current, ...secrets.previous].some((secret) => secret.length < MIN_SECRET_LENGTH)) {
    throw new SecretError(`${secrets.source}: every master secret must be ${SECRET_RULE}`);
  }
  return secrets;
}

async function find(options: MasterSecretOptions): Promise<MasterSecrets> {
  const { configured, env } = options;
  const fromEnv = env[SECRET_ENV] || undefined;
  if (configured.secret !== undefined) {
    if (fromEnv !== undefined && fromEnv !== configured.secret) {
      throw new SecretError(`auth.secret and ${SECRET_ENV} are both set and differ: set one (auth.secret: \${${SECRET_ENV}} uses the variable)`);
    }
    return { current: configured.secret, previous: configured.previous_secrets ?? [], source: 'auth.secret', created: false };
  }
  if (fromEnv !== undefined) {
    const previous = (env[PREVIOUS_SECRETS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return { current: fromEnv, previous, source: SECRET_ENV, created: false };
  }
  if (!options.embedded) {
    throw new SecretError(`set auth.secret (or ${SECRET_ENV}) to ${SECRET_RULE}: every instance sharing the database must use the same master secret`);
  }
  return secretFile(join(options.dir ?? '.switchboard', SECRET_FILE));
}

/** One secret per line: the current one first, previous ones after it. */
async function secretFile(path: string): Promise<MasterSecrets> {
  const created = await createIfMissing(path);
  const info = await stat(path);
  if (!info.isFile()) throw new SecretError(`${path} is not a regular file`);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new SecretError(`${path} is open to group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); it holds the master secret, so it must be private: chmod 600 ${path}`);
  }
  const [current, ...previous] = (await readFile(path, 'utf8')).split('\n').map((line) => line.trim()).filter(Boolean);
  if (current === undefined) throw new SecretError(`${path} is empty: delete it to have a new secret generated, or put the master secret in it`);
  return { current, previous, source: path, created };
}

/** Written aside and linked into place, so two processes starting at once agree on one secret and never read half of it. */
async function createIfMissing(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft);
  }
}
