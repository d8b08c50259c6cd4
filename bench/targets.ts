// How to start each process under test (and the fake upstream they all share), and how a client addresses it.

import { Redis } from 'ioredis';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_DIR, REPO_ROOT, TSX } from './paths.ts';
import { API_KEY, UPSTREAM_MODEL } from './payload.ts';
import { launch, type Service } from './processes.ts';
import { generateKey, hashKey } from '../src/identity/keys.ts';
import { Keyring } from '../src/identity/secrets.ts';
import { openStore } from '../src/store/store.ts';
import type { TargetName } from './types.ts';
import { freePort } from '../test/helpers/free-port.ts';

/** Host and port as servers print them, stopping before any quote or bracket a JSON log line would wrap them in. */
const URL_PATTERN = 'http://[\\w.-]+:\\d+';

export interface Target {
  name: TargetName;
  pid: number;
  /** Full URL of the chat-completions endpoint. */
  url: string;
  headers: Record<string, string>;
  /** The "model" a client sends to this target. */
  model: string;
  /** Redis-backed targets: the script calls Redis has run in the target's namespace's server so far. */
  redisScriptCalls?: () => Promise<number>;
  stop(): Promise<void>;
}

export interface Upstream {
  pid: number;
  /** e.g. http://127.0.0.1:PORT, serving the OpenAI wire format under /openai/v1. */
  url: string;
  stop(): Promise<void>;
}

export async function startUpstream(latencyMs: number): Promise<Upstream> {
  const service = await launch(`fake upstream (${latencyMs} ms)`, {
    args: [...TSX, 'test/fake-providers/main.ts', '--port', '0', '--latency', String(latencyMs)],
    ready: new RegExp(`fake-providers listening on (${URL_PATTERN})`),
    cwd: REPO_ROOT,
  });
  return { pid: service.pid, url: service.ready[1]!, stop: service.stop };
}

/** `wrap`: a command the target's node process runs under (valgrind, for bench/instructions.ts). */
export function startTarget(name: TargetName, upstream: Upstream, wrap?: readonly string[]): Promise<Target> {
  if (name === 'bare') return startBare(upstream, wrap);
  if (name === 'portkey') return startPortkey(upstream, wrap);
  return startGateway(upstream, MODES.get(name)!, wrap);
}

/** Launch options for a target run under `wrap`: under valgrind it starts tens of times slower. */
const underWrap = (wrap: readonly string[] | undefined) => (wrap ? { wrap, timeoutMs: 300_000 } : {});

/** Fixed: the bench's scratch database and its key are thrown away after each run. */
const BENCH_MASTER_KEY = 'sk-bench-master-0123456789';
const BENCH_SECRET = 'bench-master-secret-0123456789abcdef';

/**
 * A virtual key in the gateway's database, made before the gateway starts, the way an operator's admin call would:
 * the gateway then authenticates every request through its key cache, as in production.
 */
async function seedVirtualKey(database: string, limited: boolean): Promise<string> {
  const store = await openStore({ storage: { database } });
  try {
    const org = await store.organizations.create({ name: 'bench' });
    const { key, prefix } = generateKey();
    const pepper = new Keyring(BENCH_SECRET).current.pepper;
    const tenant = store.tenant(org.id);
    const created = await tenant.keys.create({ name: 'bench', key_hash: hashKey(key, pepper), key_prefix: prefix, created_by: 'bench' });
    if (limited) {
      // Limits and a budget far above what a run can reach: every request is counted against all of them, none refused.
      const subject = { scope: 'key' as const, subject_id: created.id, created_by: 'bench' };
      await tenant.rateLimits.create({ ...subject, limits: { requests_per_minute: 1e9, tokens_per_minute: 1e10, max_concurrent: 100_000, on_limit: 'reject' } });
      await tenant.budgets.create({ ...subject, amount_usd: 1e6, period: 'monthly', window: 'calendar', enforcement: 'hard' });
    }
    return key;
  } finally {
    await store.close();
  }
}

type GatewayMode = 'virtual-key' | 'open' | 'limits-memory' | 'limits-redis' | 'routed' | 'observed' | 'traced';

const NAMES: Record<GatewayMode, TargetName> = {
  'virtual-key': 'gateway',
  open: 'gateway-open',
  'limits-memory': 'gateway-limits',
  'limits-redis': 'gateway-limits-redis',
  routed: 'gateway-routed',
  observed: 'gateway-observed',
  traced: 'gateway-traced',
};

/** Each gateway target's mode: NAMES read backwards. */
const MODES = new Map(Object.entries(NAMES).map(([mode, name]) => [name, mode as GatewayMode]));

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Script calls Redis has served since it started, from INFO commandstats. */
async function redisScriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

async function startGateway(upstream: Upstream, mode: GatewayMode, wrap?: readonly string[]): Promise<Target> {
  // The gateway runs in a scratch directory so the embedded storage it creates lands there, not in the repo.
  const workDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  const configPath = join(workDir, 'switchboard.yaml');
  const database = `sqlite://${join(workDir, 'bench.db')}`;
  const limited = mode === 'limits-memory' || mode === 'limits-redis';
  const key = mode === 'open' ? undefined : await seedVirtualKey(database, limited);
  const redis = mode === 'limits-redis' ? new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  if (redis) {
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      await rm(workDir, { recursive: true, force: true });
      throw new Error(`Redis is not reachable at ${REDIS_URL}: ${(err as Error).message}`);
    }
  }
  await writeFile(
    configPath,
    [
      'server: { host: 127.0.0.1, port: 0 }',
      mode === 'observed' || mode === 'traced' ? 'logging: { level: info, requests: true }\nmetrics: { enabled: true }' : 'logging: { level: warn }\nmetrics: { enabled: false }',
      redis
        ? `storage: { database: "${database}", redis: "${REDIS_URL}", redis_namespace: bench-${process.pid}-${Date.now()} }`
        : `storage: { database: "${database}" }`,
      ...(key ? [`auth: { master_key: ${BENCH_MASTER_KEY}, secret: ${BENCH_SECRET} }`] : []),
      ...(limited
        ? [`limits: { backend: ${redis ? 'redis' : 'memory'}, rules: [{ scope: global, limits: { requests_per_second: 1000000000 } }] }`]
        : []),
      'providers:',
      `  fake: { type: openai, api_key: ${API_KEY}, base_url: ${upstream.url}/openai/v1 }`,
      ...(mode === 'routed'
        ? [
            `  fake2: { type: openai, api_key: ${API_KEY}, base_url: ${upstream.url}/openai/v1 }`,
            `  fake3: { type: openai, api_key: ${API_KEY}, base_url: ${upstream.url}/openai/v1 }`,
            'models:',
            '  - name: bench-model',
            '    strategy: weighted',
            '    retry: { max_attempts: 2 }',
            `    targets: [{ provider: fake, model: ${UPSTREAM_MODEL}, weight: 2 }, { provider: fake2, model: ${UPSTREAM_MODEL} }, { provider: fake3, model: ${UPSTREAM_MODEL} }]`,
          ]
        : ['models:', '  - name: bench-model', `    targets: [{ provider: fake, model: ${UPSTREAM_MODEL} }]`]),
      '',
    ].join('\n'),
  );
  const sink = mode === 'traced' ? await startTraceSink() : undefined;
  let service: Service;
  try {
    service = await launch('gateway', {
      args: [join(REPO_ROOT, 'dist/cli/main.js'), 'start', '--config', configPath],
      ready: new RegExp(`Switchboard listening on (${URL_PATTERN})`),
      cwd: workDir,
      ...(sink ? { env: { ...process.env, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } } : {}),
      ...underWrap(wrap),
    });
  } catch (err) {
    await sink?.close();
    redis?.disconnect();
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: NAMES[mode],
    pid: service.pid,
    url: `${service.ready[1]!}/v1/chat/completions`,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    model: 'bench-model',
    ...(redis ? { redisScriptCalls: () => redisScriptCalls(redis) } : {}),
    stop: async () => {
      await service.stop();
      await sink?.close();
      redis?.disconnect();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * Where the traced gateway exports its spans: an OTLP/HTTP endpoint that reads and drops them. It runs in the bench's
 * own process, which is not measured; the exporter sends batches every few seconds, so it is little work.
 */
async function startTraceSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function startBare(upstream: Upstream, wrap?: readonly string[]): Promise<Target> {
  const service = await launch('bare passthrough', {
    args: [...TSX, join(BENCH_DIR, 'bare-passthrough.ts'), '--port', '0', '--upstream', `${upstream.url}/openai/v1`],
    ready: new RegExp(`bare-passthrough listening on (${URL_PATTERN})`),
    cwd: REPO_ROOT,
    ...underWrap(wrap),
  });
  return {
    name: 'bare',
    pid: service.pid,
    url: `${service.ready[1]!}/v1/chat/completions`,
    headers: { authorization: `Bearer ${API_KEY}` },
    model: UPSTREAM_MODEL,
    stop: service.stop,
  };
}

async function startPortkey(upstream: Upstream, wrap?: readonly string[]): Promise<Target> {
  // Portkey only takes a fixed --port=N (with 0 it would listen but never tell us where), so we pick a free one.
  const port = await freePort();
  const script = join(dirname(createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json')), 'build/start-server.js');
  const service = await launch('portkey', {
    args: [...TSX, '--import', join(BENCH_DIR, 'portkey-shim.ts'), script, `--port=${port}`, '--headless'],
    ready: /Ready for connections/,
    cwd: REPO_ROOT,
    ...underWrap(wrap),
  });
  return {
    name: 'portkey',
    pid: service.pid,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstream.url}/openai/v1`,
      authorization: `Bearer ${API_KEY}`,
    },
    model: UPSTREAM_MODEL,
    stop: service.stop,
  };
}

