// `switchboard start`: load the configuration, listen, say where and with what, and shut down cleanly on SIGTERM.

import { loadConfig, type GatewayConfig } from '../config/load.ts';
import type { AuthMode } from '../identity/key-auth.ts';
import { PROVIDER_TYPES } from '../providers/registry.ts';
import { createLogger } from '../observability/logger.ts';
import { buildApp } from '../server/app.ts';
import { createServices, openGatewayDependencies } from '../server/services.ts';
import { usageJournalDir } from '../usage/ledger/index.ts';

const AUTH_LINES: Record<AuthMode, string> = {
  master_key: '  auth: clients must send auth.master_key or a virtual key (Authorization: Bearer <key>)',
  virtual_keys: '  auth: clients must send a virtual key (Authorization: Bearer sk-sb-...); no auth.master_key is set',
  local_only:
    '  WARNING: NO AUTH. There is no auth.master_key and no virtual key, so requests from this machine are served without any key and every other host is refused. Set auth.master_key or create a virtual key before serving anyone else.',
};

export function banner(
  config: GatewayConfig,
  url: string,
  version: string,
  database: string,
  secret: { source: string; created: boolean },
  auth: AuthMode,
  /** Where spans are exported (an origin), when tracing is on. */
  tracing?: string,
): string {
  const lines = [`Switchboard listening on ${url} (v${version})`, `  config: ${config.source}`, `  database: ${database}`, `  master secret: ${secret.source}`];
  lines.push(`  usage journal: ${usageJournalDir(config) ?? 'none (in-memory database: usage records last only as long as the process)'}`);
  lines.push(`  tracing: ${tracing ? `OpenTelemetry spans over OTLP/HTTP to ${tracing}` : 'off (OTEL_TRACES_EXPORTER=otlp or tracing.enabled: true turns it on)'}`);
  if (secret.created) {
    lines.push('  warning: a new master secret was generated; back it up with the database: stored provider credentials and virtual keys cannot be used without it');
  }
  if (config.providers.size === 0) {
    lines.push('  providers: none. Set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY, or start with --config switchboard.yaml');
  } else {
    lines.push('  providers:');
    for (const p of config.providers.values()) {
      // Signed or token-based credentials (Bedrock, Vertex, Entra) are not an api key; their adapter checks them itself.
      const keyless = !p.api_key && !PROVIDER_TYPES[p.type]?.adapter.authorize;
      lines.push(`    ${p.name} (${p.type}) ${p.base_url}${keyless ? ' [no api key]' : ''}`);
    }
  }
  for (const m of config.models) {
    lines.push(`  model ${m.name} (${m.strategy}) -> ${m.targets.map((t) => t.group ?? `${t.provider}/${t.model}`).join(', ')}`);
  }
  if (config.providers.size > 0) lines.push(`  any provider's model directly as "<provider>/<model>", e.g. "${[...config.providers.keys()][0]}/<model>"`);
  lines.push(AUTH_LINES[auth]);
  lines.push(`  OpenAI SDK: new OpenAI({ baseURL: "${url}/v1" })`);
  for (const w of config.warnings) lines.push(`  warning: ${w.path}${w.line ? ` (line ${w.line})` : ''}: ${w.message}`);
  return lines.join('\n');
}

export async function start(opts: { config?: string; port?: number; host?: string; version: string }): Promise<void> {
  const config = loadConfig(opts.config, process.env);
  const logger = createLogger(config.logging);
  const opened = await openGatewayDependencies(config, logger);
  const services = createServices(config, logger, opened);
  // Knows whether any virtual key exists before the banner says how requests are admitted.
  await services.keyAuth.start();
  const app = buildApp(services);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    await app.close();
    await services.close();
    // The log destination is asynchronous: exit only once the last lines are written.
    logger.flush(() => process.exit(0));
  };
  // Before listening: a signal that arrives as soon as the banner is out must already find its handler.
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const host = opts.host ?? config.server.host;
  await app.listen({ host, port: opts.port ?? config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  process.stdout.write(banner(config, url, opts.version, opened.store.description, opened.secrets, services.keyAuth.mode, services.tracing?.endpoint) + '\n');
}
