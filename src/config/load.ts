// Loads switchboard.yaml (or the embedded default built from the environment), validates it, and resolves it into the
// runtime form the gateway uses. Every problem is reported with its YAML path and, for a file, its line.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import type { ProviderConfig } from '../providers/types.ts';
import { PROVIDER_TYPES } from '../providers/registry.ts';
import { extractReferences, interpolate, type InterpolationProblem, type Template } from './interpolate.ts';
import { COMMON_PROVIDER_FIELDS, configSchema, type Config, type ModelEntry } from './schema.ts';

export interface ConfigProblem {
  /** Dotted YAML path, e.g. `providers.openai.base_url` or `models[0].targets[1].provider`. */
  path: string;
  line?: number;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(source: string, problems: ConfigProblem[]) {
    super(`${source}: ${problems.length} configuration problem(s)\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface GatewayConfig {
  /** Where the configuration came from: a file path, or the embedded default. */
  source: string;
  server: Config['server'];
  logging: Config['logging'];
  auth: Config['auth'];
  admin: Config['admin'];
  /** Absent: the embedded default (SQLite under ./.switchboard/, no Redis). */
  storage: NonNullable<Config['storage']>;
  providers: Map<string, ProviderConfig>;
  models: ModelEntry[];
  routing: Config['routing'];
  pricing: Config['pricing'];
  limits: Config['limits'];
  budgets: Config['budgets'];
  usage: Config['usage'];
  metrics: Config['metrics'];
  tracing: Config['tracing'];
  request_logs: Config['request_logs'];
  alerts: Config['alerts'];
  /** Things worth telling the operator that do not stop the gateway. */
  warnings: ConfigProblem[];
}

export const EMBEDDED_SOURCE = 'embedded default (providers from environment variables)';

export function formatProblem(p: ConfigProblem): string {
  return `  ${p.path || '(root)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`;
}

export function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

type LineOf = (path: readonly PropertyKey[]) => number | undefined;

const NO_OPTIONS = z.strictObject({});

function problemsFrom(list: InterpolationProblem[], lineOf: LineOf): ConfigProblem[] {
  return list.map((p) => ({ path: pathString(p.path), line: lineOf(p.path), message: p.message }));
}

/** Checks what the schema cannot: provider types exist, required base URLs, targets name declared providers. */
function resolve(config: Config, lineOf: LineOf): { providers: Map<string, ProviderConfig>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string) => problems.push({ path: pathString(path), line: lineOf(path), message });
  const providers = new Map<string, ProviderConfig>();

  for (const [name, entry] of Object.entries(config.providers)) {
    const type = PROVIDER_TYPES[entry.type];
    if (!type) {
      at(['providers', name, 'type'], `unknown provider type '${entry.type}'; known types: ${Object.keys(PROVIDER_TYPES).join(', ')}`);
      continue;
    }
    const extras = Object.fromEntries(Object.entries(entry).filter(([key]) => !COMMON_PROVIDER_FIELDS.has(key)));
    const parsedOptions = (type.options ?? NO_OPTIONS).safeParse(extras);
    if (!parsedOptions.success) {
      for (const issue of parsedOptions.error.issues) {
        const path = ['providers', name, ...issue.path];
        const unknown = issue.code === 'unrecognized_keys';
        at((unknown ? [...path, issue.keys[0]!] : path) as (string | number)[], unknown ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} for a provider of type '${entry.type}'` : issue.message);
      }
      continue;
    }
    const options = parsedOptions.data as Record<string, unknown>;
    // An api_key the provider would not use (Vertex's service accounts, Azure with Entra) is a mistake, not a fallback.
    const keyField = entry.api_keys ? 'api_keys' : 'api_key';
    if ((entry.api_key || entry.api_keys) && type.takes_api_key?.(options) === false) {
      at(['providers', name, keyField], `a provider of type '${entry.type}' configured this way does not authenticate with ${keyField}; remove it`);
      continue;
    }
    if (entry.api_key && entry.api_keys) {
      at(['providers', name, 'api_keys'], 'set api_key or api_keys, not both');
      continue;
    }
    const base_url = entry.base_url ?? type.base_url ?? type.default_base_url?.(options);
    if (!base_url) {
      at(['providers', name, 'base_url'], `type '${entry.type}' has no default address: set base_url (e.g. http://127.0.0.1:8000/v1)`);
      continue;
    }
    providers.set(name, {
      name,
      type: entry.type,
      options,
      // With a pool, the first key stands for the provider wherever one key is enough; calls draw from the pool.
      api_key: entry.api_key ?? entry.api_keys?.[0]!.key,
      ...(entry.api_keys && { api_keys: entry.api_keys, key_cooldown_ms: entry.key_cooldown_ms }),
      base_url,
      headers: entry.headers,
      timeouts: entry.timeouts,
      models: entry.models,
      api_version: entry.api_version ?? type.api_version,
    });
  }

  const names = new Set<string>();
  config.models.forEach((model, i) => {
    if (names.has(model.name)) at(['models', i, 'name'], `model '${model.name}' is declared twice`);
    names.add(model.name);
  });
  /** A configured model name, or "<provider>/<model>" of a configured provider: where rules and shadows send requests. */
  const known = (use: string, path: (string | number)[]): boolean => {
    if (names.has(use)) return true;
    const slash = use.indexOf('/');
    if (slash <= 0 || !Object.hasOwn(config.providers, use.slice(0, slash)) || slash === use.length - 1) {
      at(path, `'${use}' is neither a model under models: nor "<provider>/<model>" of a provider under providers:`);
    }
    return false;
  };
  /** Models each model's groups and rules send requests to, for the cycle check. */
  const refers = new Map<string, string[]>();
  config.models.forEach((model, i) => {
    const to: string[] = [];
    model.targets.forEach((t, j) => {
      if (t.group !== undefined) {
        if (names.has(t.group)) to.push(t.group);
        else at(['models', i, 'targets', j, 'group'], `no model named '${t.group}' under models:`);
      } else if (!Object.hasOwn(config.providers, t.provider!)) {
        at(['models', i, 'targets', j, 'provider'], `no provider named '${t.provider}' under providers:`);
      }
    });
    model.rules.forEach((rule, j) => {
      if (known(rule.use, ['models', i, 'rules', j, 'use'])) to.push(rule.use);
    });
    // A shadow's own calls are never mirrored again, so it takes no part in the cycle check.
    if (model.shadow) {
      if (model.shadow.use === model.name) at(['models', i, 'shadow', 'use'], 'a model cannot shadow itself');
      else known(model.shadow.use, ['models', i, 'shadow', 'use']);
    }
    refers.set(model.name, to);
  });
  const cycle = findCycle(refers);
  if (cycle) {
    const i = config.models.findIndex((m) => m.name === cycle[0]);
    at(['models', i], `models send requests to each other in a loop: ${cycle.join(' -> ')}`);
  }
  return { providers, problems };
}

/** A loop in the graph of models that groups and rules send requests to, as the names along it; undefined if none. */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name)) return undefined;
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const name of edges.keys()) {
    const found = visit(name);
    if (found) return found;
  }
  return undefined;
}

function build(value: unknown, source: string, lineOf: LineOf): GatewayConfig {
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((issue) => ({
        path: pathString(issue.path),
        line: lineOf(issue.path),
        message: issue.message,
      })),
    );
  }
  const { providers, problems } = resolve(parsed.data, lineOf);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const warnings: ConfigProblem[] = [];
  const { server, logging, auth, admin, storage = {}, models, routing, pricing, limits, budgets, usage, metrics, tracing, request_logs, alerts } = parsed.data;
  return { source, server, logging, auth, admin, storage, providers, models, routing, pricing, limits, budgets, usage, metrics, tracing, request_logs, alerts, warnings };
}

/** Parses YAML text. `source` names the file in messages. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv, source: string): GatewayConfig {
  const template: Template = extractReferences(text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(template.text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '', line: lineCounter.linePos(e.pos[0]).line, message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const lineOf: LineOf = (path) => {
    // A missing key has no node: point at the nearest enclosing one that exists.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const problems: InterpolationProblem[] = [];
  const value = interpolate(doc.toJS() ?? {}, template, env, problems);
  if (problems.length > 0) throw new ConfigError(source, problemsFrom(problems, lineOf));
  return build(value, source, lineOf);
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseConfig(text, env, path);
}

/** The configuration used when there is no file: one provider for each provider type whose key is in the environment. */
export function embeddedConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const providers: Record<string, { type: string; api_key: string; base_url?: string }> = {};
  for (const [type, def] of Object.entries(PROVIDER_TYPES)) {
    const key = def.api_key_env?.map((name) => env[name]).find((v) => v);
    if (!key) continue;
    const base_url = def.base_url_env ? env[def.base_url_env] : undefined;
    // A key without the address it belongs to (AZURE_OPENAI_API_KEY without AZURE_OPENAI_ENDPOINT) sets up nothing.
    if (!base_url && !def.base_url && !def.default_base_url) continue;
    providers[type] = { type, api_key: key, ...(base_url && { base_url }) };
  }
  return build({ providers }, EMBEDDED_SOURCE, () => undefined);
}

/** `--config`, then SWITCHBOARD_CONFIG, then the embedded default. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): GatewayConfig {
  const file = path ?? env.SWITCHBOARD_CONFIG;
  return file ? loadConfigFile(file, env) : embeddedConfig(env);
}
