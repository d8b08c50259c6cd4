import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { extractReferences, interpolate, type InterpolationProblem } from './interpolate.ts';
import { ConfigError, embeddedConfig, parseConfig } from './load.ts';

const env = { OPENAI_API_KEY: 'sk-test', PORT: '4100' };

const interpolated = (yaml: string, vars: NodeJS.ProcessEnv) => {
  const template = extractReferences(yaml);
  const problems: InterpolationProblem[] = [];
  return { value: interpolate(parse(template.text), template, vars, problems), problems };
};

test('interpolates ${VAR} and ${VAR:-default}, inside flow maps too; $$ is a literal dollar', () => {
  const { value, problems } = interpolated('a: { key: ${OPENAI_API_KEY}, b: "x-${MISSING:-fallback}" }\nc: ["$$5", "${PORT}"]\nport: ${PORT}\non: ${YES:-true}\n', env);
  assert.deepEqual(value, { a: { key: 'sk-test', b: 'x-fallback' }, c: ['$5', '4100'], port: '4100', on: 'true' });
  assert.deepEqual(problems, []);
});

test('a value cannot change the document structure', () => {
  const { value } = interpolated('providers: { a: { type: openai, api_key: ${KEY} } }', { KEY: 'x}, evil: {type: y' });
  assert.deepEqual(value, { providers: { a: { type: 'openai', api_key: 'x}, evil: {type: y' } } });
});

test('an unset variable without default is reported with its path and the value left out', () => {
  const { value, problems } = interpolated('providers:\n  openai: { type: openai, api_key: ${NOPE} }\n', {});
  assert.deepEqual(value, { providers: { openai: { type: 'openai' } } });
  assert.equal(problems.length, 1);
  assert.deepEqual(problems[0]!.path, ['providers', 'openai', 'api_key']);
  assert.match(problems[0]!.message, /NOPE is not set/);
});

test('a full config file resolves providers with defaults and models', () => {
  const config = parseConfig(
    `
server: { host: 0.0.0.0, port: \${PORT}, body_limit: 1mb }
providers:
  openai: { type: openai, api_key: \${OPENAI_API_KEY} }
  local: { type: ollama, models: [llama3.2] }
  vllm: { type: openai-compatible, base_url: "http://10.0.0.1:8000/v1", timeouts: { total_ms: 5000 } }
models:
  - name: smart
    targets:
      - { provider: openai, model: gpt-4o }
`,
    env,
    'test.yaml',
  );
  assert.equal(config.server.port, 4100);
  assert.equal(config.server.body_limit, 1024 * 1024);
  const openai = config.providers.get('openai')!;
  assert.equal(openai.api_key, 'sk-test');
  assert.equal(openai.base_url, 'https://api.openai.com/v1');
  assert.equal(openai.timeouts.connect_ms, 10_000);
  assert.equal(config.providers.get('local')!.base_url, 'http://127.0.0.1:11434/v1');
  assert.equal(config.providers.get('vllm')!.timeouts.total_ms, 5000);
  assert.equal(config.models[0]!.strategy, 'fallback');
});

test('problems carry the YAML path and line', () => {
  const yaml = `server:
  port: 99999
providers:
  openai:
    type: openia
  local:
    type: openai-compatible
models:
  - name: smart
    targets:
      - { provider: nobody, model: x }
`;
  const collect = (text: string) => {
    try {
      parseConfig(text, {}, 'bad.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    assert.fail('expected a ConfigError');
  };
  const schemaProblems = collect(yaml);
  assert.deepEqual(
    schemaProblems.map((p) => [p.path, p.line]),
    [['server.port', 2]],
  );
  const semantic = collect(yaml.replace('99999', '4000'));
  assert.deepEqual(
    semantic.map((p) => [p.path, p.line]),
    [
      ['providers.openai.type', 5],
      ['providers.local.base_url', 7],
      ['models[0].targets[0].provider', 11],
    ],
  );
  assert.match(semantic[0]!.message, /unknown provider type 'openia'; known types: openai, anthropic, gemini/);
});

test('unknown keys and bad values are rejected, YAML syntax errors give a line', () => {
  assert.throws(() => parseConfig('server: { prot: 1 }', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'server' && /prot/.test(err.problems[0]!.message));
  assert.throws(() => parseConfig('providers:\n  a: { type: openai, base_url: "ftp://x" }', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'providers.a.base_url');
  assert.throws(() => parseConfig('server:\n  port: [1\n', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.line !== undefined && /YAML syntax/.test(err.problems[0]!.message));
});

test('an api_key the provider type would not use is an error, not silently ignored', () => {
  assert.throws(() => parseConfig('providers:\n  v:\n    type: vertex\n    project: p\n    api_key: k\n', {}, 'x.yaml'), (err: ConfigError) => {
    assert.deepEqual(err.problems.map((p) => [p.path, p.line]), [['providers.v.api_key', 5]]);
    return true;
  });
});

test('a field another provider type has is an error on a type without it, with its path and line', () => {
  assert.throws(() => parseConfig('providers:\n  a:\n    type: openai\n    regoin: us-east-1\n', {}, 'x.yaml'), (err: ConfigError) => {
    assert.deepEqual(err.problems.map((p) => [p.path, p.line]), [['providers.a.regoin', 4]]);
    assert.match(err.problems[0]!.message, /unknown field 'regoin' for a provider of type 'openai'/);
    return true;
  });
});

test('an unset variable is an error with its path and line; ${VAR:-} makes it optional', () => {
  const yaml = 'providers:\n  azure:\n    type: openai\n    base_url: ${AZURE_URL}\n    api_key: ${AZURE_KEY:-}\n';
  assert.throws(() => parseConfig(yaml, {}, 'x.yaml'), (err: ConfigError) => {
    assert.deepEqual(err.problems.map((p) => [p.path, p.line]), [['providers.azure.base_url', 4]]);
    assert.match(err.problems[0]!.message, /AZURE_URL is not set/);
    return true;
  });
  const ok = parseConfig(yaml, { AZURE_URL: 'https://x.example/v1' }, 'x.yaml').providers.get('azure')!;
  assert.equal(ok.api_key, '');
});

test('references in keys are refused; a target naming a built-in property is not a provider', () => {
  assert.throws(() => parseConfig('providers:\n  a:\n    type: openai\n    headers: { ${H}: v }\n', { H: 'x' }, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'providers.a.headers' && /only allowed in values/.test(err.problems[0]!.message));
  assert.throws(() => parseConfig('models:\n  - name: m\n    targets: [{ provider: toString, model: x }]\n', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'models[0].targets[0].provider');
});

test('storage and auth from the design contract are accepted; a database URL of another kind is refused', () => {
  const config = parseConfig('storage: { database: "sqlite://./x.db" }\nauth: { master_key: sk-sb-0123456789abcdef }\n', {}, 'x.yaml');
  assert.equal(config.auth.master_key, 'sk-sb-0123456789abcdef');
  assert.equal(config.storage.database, 'sqlite://./x.db');
  assert.deepEqual(config.warnings, []);
  assert.deepEqual(embeddedConfig({}).storage, {});
  for (const database of ['postgres://sb@db/sb', 'postgresql://sb@db/sb', 'sqlite::memory:']) {
    assert.equal(parseConfig(`storage: { database: "${database}" }\n`, {}, 'x.yaml').storage.database, database);
  }
  assert.throws(() => parseConfig('storage:\n  database: mysql://root:pw@db/sb\n', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'storage.database' && err.problems[0]!.line === 2 && !err.message.includes('pw@'));
  assert.throws(() => parseConfig('auth: { master_key: short }\n', {}, 'x.yaml'), (err: ConfigError) => err.problems[0]!.path === 'auth.master_key');
});

test('the embedded default takes providers from the usual environment variables', () => {
  const config = embeddedConfig({ OPENAI_API_KEY: 'sk-a', ANTHROPIC_API_KEY: 'sk-b', GOOGLE_API_KEY: 'g', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/x', GROQ_API_KEY: 'gq' });
  assert.deepEqual([...config.providers.keys()], ['openai', 'anthropic', 'gemini', 'groq']);
  assert.equal(config.providers.get('anthropic')!.base_url, 'http://127.0.0.1:9/x');
  assert.equal(config.providers.get('gemini')!.api_key, 'g');
  assert.equal(config.server.port, 4000);
  assert.equal(embeddedConfig({}).providers.size, 0);
});

test('the embedded default skips a key whose address is missing, and uses it when it is there', () => {
  assert.equal(embeddedConfig({ AZURE_OPENAI_API_KEY: 'az' }).providers.size, 0);
  const azure = embeddedConfig({ AZURE_OPENAI_API_KEY: 'az', AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com' }).providers.get('azure-openai')!;
  assert.equal(azure.base_url, 'https://r.openai.azure.com');
});

test('limits and budget alerts: defaults, and mistakes named by path', () => {
  const config = parseConfig('limits:\n  rules:\n    - { scope: key, limits: { requests_per_minute: 60 } }\n', {}, 'ok.yaml');
  assert.equal(config.limits.on_backend_error, 'open');
  assert.equal(config.limits.default_max_tokens, 4096);
  assert.deepEqual(config.limits.rules[0], { scope: 'key', limits: { requests_per_minute: 60, on_limit: 'reject' } });
  assert.deepEqual(config.budgets.alerts.thresholds, [50, 80, 100]);
  const problems = (text: string) => {
    try {
      parseConfig(text, {}, 'bad.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.map((p) => `${p.path}: ${p.message}`);
    }
    assert.fail('expected a ConfigError');
  };
  const bad = `limits:
  rules:
    - { scope: key, limits: {} }
    - { scope: team, match: x, limits: { requests_per_minute: 1 } }
    - { scope: global, limits: { tokens_per_minute: 1000000000000 } }
    - { scope: global, limits: { requests_per_second: 5, on_limit: queue } }
budgets:
  alerts:
    webhooks: [{ url: "ftp://x" }]
`;
  const found = problems(bad);
  assert.ok(found.some((p) => p.startsWith('limits.rules[0].limits') && p.includes('at least one of')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('limits.rules[1].match')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('limits.rules[2].limits.tokens_per_minute') && p.includes('at most')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('limits.rules[3].limits.queue_ms')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('budgets.alerts.webhooks[0].url')), found.join('\n'));
});

test('routing: retries default to one attempt per target, a model overrides fields, and retry_on takes statuses and classes', () => {
  const config = parseConfig(
    `
providers:
  a: { type: openai, api_key: k }
routing:
  retry: { max_backoff_ms: 2000 }
models:
  - name: m
    retry: { max_attempts: 4, retry_on: [503, timeout] }
    fallback_on: [context_window_exceeded]
    targets: [{ provider: a, model: x, timeouts: { first_byte_ms: 500 } }]
`,
    {},
    'x.yaml',
  );
  assert.equal(config.routing.retry.max_attempts, 1);
  assert.deepEqual(config.routing.retry.retry_on, { statuses: new Set([429]), classes: new Set(['5xx', 'timeout', 'connection']) });
  assert.equal(config.routing.circuit_breaker.enabled, true);
  assert.deepEqual(config.models[0]!.retry, { max_attempts: 4, retry_on: { statuses: new Set([503]), classes: new Set(['timeout']) } });
  assert.deepEqual(config.models[0]!.targets[0]!.timeouts, { first_byte_ms: 500 });
  assert.throws(
    () => parseConfig('models:\n  - name: m\n    retry: { retry_on: [sometimes] }\n    targets: [{ provider: a, model: x }]\nproviders:\n  a: { type: openai, api_key: k }\n', {}, 'x.yaml'),
    (err: ConfigError) => err.problems[0]!.path.startsWith('models[0].retry.retry_on'),
  );
});

test('a key pool: api_keys as strings or weighted entries, and never beside api_key', () => {
  const config = parseConfig('providers:\n  a: { type: openai, api_keys: [k1, { key: k2, weight: 3 }] }\n', {}, 'x.yaml');
  const a = config.providers.get('a')!;
  assert.deepEqual(a.api_keys, [{ key: 'k1', weight: 1 }, { key: 'k2', weight: 3 }]);
  assert.equal(a.api_key, 'k1');
  assert.equal(a.key_cooldown_ms, 60_000);
  assert.throws(
    () => parseConfig('providers:\n  a: { type: openai, api_key: k, api_keys: [k1] }\n', {}, 'x.yaml'),
    (err: ConfigError) => err.problems[0]!.path === 'providers.a.api_keys' && /not both/.test(err.problems[0]!.message),
  );
});

test('groups and rules: unknown names, a target that is neither form, and loops are reported at their paths', () => {
  const problems = (models: string) => {
    try {
      parseConfig(`providers:\n  a: { type: openai, api_key: k }\nmodels:\n${models}`, {}, 'x.yaml');
    } catch (err) {
      return (err as ConfigError).problems.map((p) => [p.path, p.message]);
    }
    return [];
  };
  assert.deepEqual(problems('  - { name: m, targets: [{ group: nope }] }\n'), [['models[0].targets[0].group', "no model named 'nope' under models:"]]);
  assert.match(problems('  - { name: m, targets: [{ provider: a, model: x, group: m2 }] }\n')[0]![1]!, /provider, model \} or \{ group/);
  assert.match(
    problems('  - { name: m, targets: [{ provider: a, model: x }], rules: [{ when: { team: t }, use: b/x }] }\n')[0]![1]!,
    /neither a model under models: nor/,
  );
  assert.deepEqual(problems('  - { name: m, targets: [{ group: n }] }\n  - { name: n, targets: [{ provider: a, model: x }], rules: [{ when: { team: t }, use: m }] }\n'), [
    ['models[0]', 'models send requests to each other in a loop: m -> n -> m'],
  ]);
  assert.match(problems('  - { name: m, targets: [{ provider: a, model: x }], rules: [{ when: { body.x: 1 }, use: a/y }] }\n')[0]![0]!, /^models\[0\]\.rules\[0\]\.when/);
  assert.deepEqual(problems('  - { name: m, targets: [{ provider: a, model: x }], rules: [{ when: { team: t }, use: a/y }], sticky: { key: params.user } }\n'), []);
  assert.deepEqual(problems('  - { name: m, targets: [{ provider: a, model: x }], shadow: { use: b/x, share: 0.1 } }\n'), [
    ['models[0].shadow.use', '\'b/x\' is neither a model under models: nor "<provider>/<model>" of a provider under providers:'],
  ]);
  assert.deepEqual(problems('  - { name: m, targets: [{ provider: a, model: x }], shadow: { use: m, share: 0.1 } }\n'), [['models[0].shadow.use', 'a model cannot shadow itself']]);
  assert.match(problems('  - { name: m, targets: [{ provider: a, model: x }], shadow: { use: a/y, share: 2 } }\n')[0]![0]!, /^models\[0\]\.shadow\.share/);
  // A shadow is never mirrored again, so two models shadowing each other is no loop.
  assert.deepEqual(
    problems('  - { name: m, targets: [{ provider: a, model: x }], shadow: { use: n, share: 1 }, coalesce: true, health_check: { interval_ms: 5000 } }\n  - { name: n, targets: [{ provider: a, model: y }], shadow: { use: m, share: 1 } }\n'),
    [],
  );
});
