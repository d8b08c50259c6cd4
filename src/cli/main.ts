#!/usr/bin/env node
// The `switchboard` command.

import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { DatabaseError } from '../store/db.ts';
import { GatewayError } from '../core/errors.ts';
import { JournalLockedError } from '../usage/ledger/index.ts';
import { CliError } from './admin.ts';
import { checkConfig } from './config-check.ts';
import { keysCommand } from './keys.ts';
import { runMigrations } from './migrate.ts';
import { start } from './start.ts';
import { orgsCommand, teamsCommand } from './teams.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

const program = new Command('switchboard').description('Switchboard LLM gateway').version(version);

program
  .command('start')
  .description('run the gateway (embedded default without a config file)')
  .option('-c, --config <file>', 'switchboard.yaml (default: $SWITCHBOARD_CONFIG, else the embedded default)')
  .option('-p, --port <port>', 'listen on this port instead of server.port (0 picks a free one)', port)
  .option('-H, --host <host>', 'listen on this address instead of server.host')
  .action(async (opts: { config?: string; port?: number; host?: string }) => {
    await start({ ...opts, version });
  });

const config = program.command('config').description('configuration tools');
config
  .command('check')
  .description('validate a configuration file and print each problem with its YAML path')
  .option('-c, --config <file>', 'switchboard.yaml (default: $SWITCHBOARD_CONFIG, else the embedded default)')
  .action((opts: { config?: string }) => {
    process.exitCode = checkConfig(opts.config, process.env, console.log);
  });

program
  .command('migrate')
  .description('bring the configured database up to date (start does this too)')
  .option('-c, --config <file>', 'switchboard.yaml (default: $SWITCHBOARD_CONFIG, else the embedded default)')
  .action(async (opts: { config?: string }) => {
    await runMigrations(opts.config, process.env, console.log);
  });

// Administration against the configured database, through the admin API's own handlers (actor `cli`).
program.addCommand(orgsCommand(console.log));
program.addCommand(teamsCommand(console.log));
program.addCommand(keysCommand(console.log));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DatabaseError || err instanceof CliError || err instanceof GatewayError || err instanceof JournalLockedError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
