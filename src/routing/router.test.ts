import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import { Router } from './router.ts';

const config = parseConfig(
  `
providers:
  openai: { type: openai, api_key: k }
  claude: { type: anthropic, api_key: k, models: [claude-haiku-4-5] }
  local: { type: ollama, models: [llama3.2] }
models:
  - name: smart
    targets: [{ provider: claude, model: claude-sonnet-4-5 }, { provider: openai, model: gpt-4o }]
`,
  {},
  'r.yaml',
);
const router = new Router(config, 1700000000);

test('a configured model name resolves to its targets in order', () => {
  const route = router.resolve('smart');
  assert.deepEqual(route.targets.map((t) => [t.provider.name, t.model]), [['claude', 'claude-sonnet-4-5'], ['openai', 'gpt-4o']]);
});

test('<provider>/<model> addresses a provider directly, model ids with slashes included', () => {
  assert.deepEqual(router.resolve('local/library/llama3:8b').targets.map((t) => [t.provider.name, t.model]), [['local', 'library/llama3:8b']]);
});

test('bare names resolve through declared provider models, then by provider type convention', () => {
  assert.equal(router.resolve('llama3.2').targets[0]!.provider.name, 'local');
  assert.equal(router.resolve('gpt-4o-mini').targets[0]!.provider.name, 'openai');
  assert.equal(router.resolve('o3-mini').targets[0]!.provider.name, 'openai');
  assert.equal(router.resolve('claude-opus-4-1').targets[0]!.provider.name, 'claude');
});

test('an unknown model is a 404 naming it', () => {
  for (const name of ['nope', 'nobody/gpt-4o', 'gemini-2.5-flash']) {
    assert.throws(() => router.resolve(name), (err: GatewayError) => err.status === 404 && err.message.includes(`'${name}'`) && err.code === 'model_not_found');
  }
});

test('models() lists configured names and declared provider models', () => {
  assert.deepEqual(router.models().map((m) => [m.id, m.owned_by]), [
    ['smart', 'switchboard'],
    ['claude/claude-haiku-4-5', 'claude'],
    ['local/llama3.2', 'local'],
  ]);
  assert.equal(router.model('openai/gpt-4o').owned_by, 'openai');
  assert.throws(() => router.model('missing'), GatewayError);
});
