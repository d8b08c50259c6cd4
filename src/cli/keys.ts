// `switchboard keys create|list|revoke`: virtual keys, managed against the configured database.

import { Command } from 'commander';
import type { Store } from '../store/store.ts';
import type { VirtualKey } from '../store/types.ts';
import { CliError, CONFIG_OPTION, everyPage, findOrganization, findTeamId, findUserId, list, table, withAdmin } from './admin.ts';

function status(key: VirtualKey, now: number): string {
  if (key.revoked_at) return 'revoked';
  if (!key.enabled) return 'disabled';
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'expired';
  return 'active';
}

interface CreateOptions {
  org: string;
  name: string;
  team?: string;
  user?: string;
  models?: string[];
  surfaces?: string[];
  ips?: string[];
  expires?: string;
  json?: boolean;
  config?: string;
}

export function keysCommand(print: (line: string) => void): Command {
  const keys = new Command('keys').description('virtual API keys, in the configured database');

  keys
    .command('create')
    .description('create a virtual key and print it, the only time it is shown')
    .requiredOption('--org <id|name>', 'the organization')
    .requiredOption('--name <name>', 'a name to recognise the key by')
    .option('--team <id|name>', 'the owning team')
    .option('--user <id|email>', 'the owning user')
    .option('--models <list>', 'allowed models, comma-separated (globs such as anthropic/*); default every model', list)
    .option('--surfaces <list>', 'allowed surfaces, comma-separated (openai, anthropic, responses, gemini); default every one', list)
    .option('--ips <list>', 'allowed client addresses or CIDRs, comma-separated; default any', list)
    .option('--expires <time>', 'expiry, ISO 8601 (e.g. 2026-12-31T23:59:59Z); default never')
    .option('--json', 'print the key and its settings as JSON')
    .option(...CONFIG_OPTION)
    .action(async (opts: CreateOptions) => {
      await withAdmin(opts.config, async (admin) => {
        const org = await findOrganization(admin.store, opts.org);
        const tenant = admin.store.tenant(org.id);
        const body = {
          name: opts.name,
          ...(opts.team !== undefined && { team_id: await findTeamId(tenant, opts.team) }),
          ...(opts.user !== undefined && { user_id: await findUserId(tenant, opts.user) }),
          ...(opts.models && { allowed_models: opts.models }),
          ...(opts.surfaces && { allowed_surfaces: opts.surfaces }),
          ...(opts.ips && { ip_allowlist: opts.ips }),
          ...(opts.expires !== undefined && { expires_at: opts.expires }),
        };
        const created = await admin.run<VirtualKey & { key: string }>('createKey', { params: { org_id: org.id }, body });
        if (opts.json) return print(JSON.stringify(created, null, 2));
        print(`Created ${created.id} ('${created.name}') in organization ${org.name}. The key, shown this once:`);
        print(created.key);
      });
    });

  keys
    .command('list')
    .description("list an organization's virtual keys (never their secrets)")
    .requiredOption('--org <id|name>', 'the organization')
    .option('--team <id|name>', "only this team's keys")
    .option('--user <id|email>', "only this user's keys")
    .option('--json', 'print JSON')
    .option(...CONFIG_OPTION)
    .action(async (opts: { org: string; team?: string; user?: string; json?: boolean; config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const org = await findOrganization(admin.store, opts.org);
        const tenant = admin.store.tenant(org.id);
        const filters = {
          ...(opts.team !== undefined && { team_id: await findTeamId(tenant, opts.team) }),
          ...(opts.user !== undefined && { user_id: await findUserId(tenant, opts.user) }),
        };
        const all = await everyPage<VirtualKey>((cursor) => admin.run('listKeys', { params: { org_id: org.id }, query: { ...filters, ...(cursor && { cursor }) } }));
        if (opts.json) return print(JSON.stringify(all, null, 2));
        const now = Date.now();
        const rows = all.map((k) => [k.id, k.name, `${k.key_prefix}…`, k.team_id ?? '-', k.user_id ?? '-', status(k, now), k.expires_at ?? 'never']);
        for (const line of table(['ID', 'NAME', 'KEY', 'TEAM', 'USER', 'STATUS', 'EXPIRES'], rows)) print(line);
      });
    });

  keys
    .command('revoke')
    .description('revoke a virtual key for good; running gateways sharing the Redis refuse it at once')
    .argument('<key_id>', 'the key id (key_…)')
    .option('--org <id|name>', 'the organization (found from the key when absent)')
    .option(...CONFIG_OPTION)
    .action(async (keyId: string, opts: { org?: string; config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const orgId = opts.org !== undefined ? (await findOrganization(admin.store, opts.org)).id : await orgOfKey(admin.store, keyId);
        const revoked = await admin.run<VirtualKey>('revokeKey', { params: { org_id: orgId, key_id: keyId } });
        print(`Revoked ${revoked.id} ('${revoked.name}') at ${revoked.revoked_at}`);
      });
    });

  return keys;
}

/** Key ids are unique across organizations; the store reaches keys per organization, so each is asked in turn. */
async function orgOfKey(store: Store, keyId: string): Promise<string> {
  const orgs = await everyPage((cursor) => store.organizations.list({ limit: 1000, ...(cursor && { cursor }) }));
  for (const org of orgs) if (await store.tenant(org.id).keys.get(keyId)) return org.id;
  throw new CliError(`No virtual key '${keyId}' in any organization`);
}
