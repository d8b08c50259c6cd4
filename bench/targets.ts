// How to start each process under test (and the fake upstream they all share), and how a client addresses it.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_DIR, REPO_ROOT, TSX } from './paths.ts';
import { API_KEY, UPSTREAM_MODEL } from './payload.ts';
import { launch, type Service } from './processes.ts';
import type { TargetName } from './types.ts';

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

export function startTarget(name: TargetName, upstream: Upstream): Promise<Target> {
  switch (name) {
    case 'gateway':
      return startGateway(upstream);
    case 'bare':
      return startBare(upstream);
    case 'portkey':
      return startPortkey(upstream);
  }
}

async function startGateway(upstream: Upstream): Promise<Target> {
  // The gateway runs in a scratch directory so the embedded storage it may create lands there, not in the repo.
  const workDir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  const configPath = join(workDir, 'switchboard.yaml');
  await writeFile(
    configPath,
    [
      'server: { host: 127.0.0.1, port: 0 }',
      'logging: { level: warn }',
      'providers:',
      `  fake: { type: openai, api_key: ${API_KEY}, base_url: ${upstream.url}/openai/v1 }`,
      'models:',
      '  - name: bench-model',
      `    targets: [{ provider: fake, model: ${UPSTREAM_MODEL} }]`,
      '',
    ].join('\n'),
  );
  let service: Service;
  try {
    service = await launch('gateway', {
      args: [join(REPO_ROOT, 'dist/cli/main.js'), 'start', '--config', configPath],
      ready: new RegExp(`Switchboard listening on (${URL_PATTERN})`),
      cwd: workDir,
    });
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'gateway',
    pid: service.pid,
    url: `${service.ready[1]!}/v1/chat/completions`,
    headers: {},
    model: 'bench-model',
    stop: async () => {
      await service.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

async function startBare(upstream: Upstream): Promise<Target> {
  const service = await launch('bare passthrough', {
    args: [...TSX, join(BENCH_DIR, 'bare-passthrough.ts'), '--port', '0', '--upstream', `${upstream.url}/openai/v1`],
    ready: new RegExp(`bare-passthrough listening on (${URL_PATTERN})`),
    cwd: REPO_ROOT,
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

async function startPortkey(upstream: Upstream): Promise<Target> {
  // Portkey only takes a fixed --port=N (with 0 it would listen but never tell us where), so we pick a free one.
  const port = await freePort();
  const script = join(dirname(createRequire(import.meta.url).resolve('@portkey-ai/gateway/package.json')), 'build/start-server.js');
  const service = await launch('portkey', {
    args: [...TSX, '--import', join(BENCH_DIR, 'portkey-shim.ts'), script, `--port=${port}`, '--headless'],
    ready: /Ready for connections/,
    cwd: REPO_ROOT,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
