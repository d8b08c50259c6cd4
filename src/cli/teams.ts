// `switchboard teams create|list` and `switchboard orgs create|list`: what it takes to own a key, from the command
// line, against the configured database.

import { Command } from 'commander';
import type { Organization, Team } from '../store/types.ts';
import { CONFIG_OPTION, everyPage, findOrganization, table, withAdmin } from './admin.ts';

type Print = (line: string) => void;

export function teamsCommand(print: Print): Command {
  const teams = new Command('teams').description("an organization's teams, in the configured database");
  teams
    .command('create')
    .description('create a team')
    .requiredOption('--org <id|name>', 'the organization')
    .requiredOption('--name <name>', 'the team name, unique in the organization')
    .option(...CONFIG_OPTION)
    .action(async (opts: { org: string; name: string; config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const org = await findOrganization(admin.store, opts.org);
        const team = await admin.run<Team>('createTeam', { params: { org_id: org.id }, body: { name: opts.name } });
        print(`Created team ${team.id} ('${team.name}') in organization ${org.name}`);
      });
    });
  teams
    .command('list')
    .description("list an organization's teams")
    .requiredOption('--org <id|name>', 'the organization')
    .option(...CONFIG_OPTION)
    .action(async (opts: { org: string; config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const org = await findOrganization(admin.store, opts.org);
        const all = await everyPage<Team>((cursor) => admin.run('listTeams', { params: { org_id: org.id }, query: cursor ? { cursor } : {} }));
        for (const line of table(['ID', 'NAME', 'CREATED'], all.map((t) => [t.id, t.name, t.created_at]))) print(line);
      });
    });
  return teams;
}

export function orgsCommand(print: Print): Command {
  const orgs = new Command('orgs').description('organizations (tenants), in the configured database');
  orgs
    .command('create')
    .description('create an organization')
    .requiredOption('--name <name>', 'the organization name, unique')
    .option(...CONFIG_OPTION)
    .action(async (opts: { name: string; config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const org = await admin.run<Organization>('createOrganization', { body: { name: opts.name } });
        print(`Created organization ${org.id} ('${org.name}')`);
      });
    });
  orgs
    .command('list')
    .description('list organizations')
    .option(...CONFIG_OPTION)
    .action(async (opts: { config?: string }) => {
      await withAdmin(opts.config, async (admin) => {
        const all = await everyPage<Organization>((cursor) => admin.run('listOrganizations', { query: cursor ? { cursor } : {} }));
        for (const line of table(['ID', 'NAME', 'CREATED'], all.map((o) => [o.id, o.name, o.created_at]))) print(line);
      });
    });
  return orgs;
}
