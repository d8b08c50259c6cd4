// What the admin commands share: the configured database opened directly, and the admin API's own handlers run in
// process as the actor `cli`, so a change from the command line is validated, audited and announced to running
// gateways exactly like one made over HTTP.

import { routeById } from '../api/admin/routes/index.ts';
import { invoke, type AdminDeps, type RawInput } from '../api/admin/route.ts';
import { loadConfig } from '../config/load.ts';
import { KeyAuth } from '../identity/key-auth.ts';
import { CredentialResolver } from '../identity/provider-credentials.ts';
import { platformActor } from '../identity/rbac.ts';
import { Keyring, SecretBox } from '../identity/secrets.ts';
import { createLogger } from '../observability/logger.ts';
import { openDependencies } from '../server/services.ts';
import type { Store, TenantStore } from '../store/store.ts';
import type { Organization, Page } from '../store/types.ts';

const CLI = platformActor('cli');

export const CONFIG_OPTION = ['-c, --config <file>', 'switchboard.yaml (default: $SWITCHBOARD_CONFIG, else the embedded default)'] as const;

export interface AdminSession {
  store: Store;
  /** Runs the admin route with this operationId (e.g. `createKey`) as `cli`. */
  run<T>(operationId: string, input?: RawInput): Promise<T>;
}

/** Opens the configured database and kv for the length of `work`, and closes them after. */
export async function withAdmin<T>(configPath: string | undefined, work: (admin: AdminSession) => Promise<T>): Promise<T> {
  const config = loadConfig(configPath, process.env);
  // Warnings go to stderr, keeping stdout for what the command prints (a key, a listing).
  const logger = createLogger({ level: 'warn' }, process.stderr);
  const { store, kv, secrets: master } = await openDependencies(config, logger);
  const keyring = new Keyring(master.current, master.previous);
  // Publishes invalidations on the channel running gateways listen on (through Redis, when configured).
  const keyAuth = new KeyAuth({ masterKey: config.auth.master_key, store, kv, peppers: keyring.keys.map((k) => k.pepper) });
  const secrets = new SecretBox(keyring);
  const credentials = new CredentialResolver({ store, kv, secrets, logger });
  const deps: AdminDeps = { store, secrets, keyring, keyAuth, credentials, config };
  try {
    return await work({ store, run: (operationId, input = {}) => invoke(routeById(operationId), deps, CLI, input, null) as Promise<never> });
  } finally {
    await keyAuth.close();
    await credentials.close();
    await kv.close();
    await store.close();
  }
}

/** Every page of a listing, in order. */
export async function everyPage<T>(list: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return all;
}

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** An organization by id or by name. */
export async function findOrganization(store: Store, ref: string): Promise<Organization> {
  const org = (await store.organizations.get(ref)) ?? (await store.organizations.list({ name: ref, limit: 1 })).items[0];
  if (!org) throw new CliError(`No organization '${ref}' (give its id or name; switchboard orgs list shows them)`);
  return org;
}

export async function findTeamId(tenant: TenantStore, ref: string): Promise<string> {
  const team = (await tenant.teams.get(ref)) ?? (await tenant.teams.list({ name: ref, limit: 1 })).items[0];
  if (!team) throw new CliError(`No team '${ref}' in this organization (give its id or name)`);
  return team.id;
}

export async function findUserId(tenant: TenantStore, ref: string): Promise<string> {
  const user = (await tenant.users.get(ref)) ?? (await tenant.users.getByEmail(ref));
  if (!user) throw new CliError(`No user '${ref}' in this organization (give their id or email)`);
  return user.id;
}

/** Comma-separated option values. */
export const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** Rows as aligned columns under a header. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
