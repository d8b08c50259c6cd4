import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import { RequestAbort } from '../http/abort.ts';
import { newContext, type Surface } from '../pipeline/context.ts';
import { accessStage } from '../pipeline/stages/access.ts';
import { Router } from '../routing/router.ts';
import { LOCAL_IDENTITY, MASTER_IDENTITY, type Identity } from './identity.ts';
import { checkModel, modelAccess, visibleModels } from './model-access.ts';

const router = new Router(
  parseConfig(
    `
providers:
  openai: { type: openai, api_key: k, models: [gpt-4o-mini] }
  anthropic: { type: anthropic, api_key: k, models: [claude-haiku-4-5] }
  openrouter: { type: openrouter, api_key: k }
models:
  - name: smart
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }, { provider: anthropic, model: claude-haiku-4-5 }]
  - name: mixed
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }, { provider: openai, model: gpt-4o }]
`,
    {},
    'a.yaml',
  ),
  1700000000,
);

const allows = (allowed: string[], name: string) => modelAccess(allowed).allows(name, router.resolve(name));

const identity = (allowed_models: string[], allowed_surfaces: string[] = [], policies: Identity['policies'] = []): Identity => ({
  kind: 'key',
  key_id: 'key_1',
  org_id: 'org_1',
  team_id: undefined,
  user_id: undefined,
  metadata: {},
  allowed_models,
  allowed_surfaces,
  policies,
  limits: [],
  budgets: [],
  log_payloads: false,
});

test('model access policies bind on top of the key: every one must allow the model, and listings show only that', () => {
  const bound = identity([], [], [
    { name: 'org', allowed_models: ['openai/*', 'anthropic/*'] },
    { name: 'team', allowed_models: ['openai/*'] },
  ]);
  assert.doesNotThrow(() => checkModel(bound, 'openai/gpt-4o', router.resolve('openai/gpt-4o')));
  assert.throws(() => checkModel(bound, 'anthropic/claude-sonnet-4-5', router.resolve('anthropic/claude-sonnet-4-5')), (e: GatewayError) => e.status === 403 && /policy 'team'/.test(e.message));
  assert.ok(visibleModels(bound, router).every((m) => m.id.startsWith('openai/') || router.resolve(m.id).targets.every((t) => t.provider.name === 'openai')));
  const unbound = identity([], [], [{ name: 'empty', allowed_models: [] }]);
  assert.doesNotThrow(() => checkModel(unbound, 'anthropic/claude-sonnet-4-5', router.resolve('anthropic/claude-sonnet-4-5')));
});

test('an empty list allows every model', () => {
  for (const name of ['smart', 'mixed', 'openai/gpt-4o', 'gpt-4o']) assert.ok(allows([], name));
});

test('exact names and globs match the name the client sent; * spans slashes', () => {
  assert.ok(allows(['gpt-4o'], 'gpt-4o'));
  assert.ok(!allows(['gpt-4o'], 'gpt-4o-mini'));
  assert.ok(allows(['gpt-4o*'], 'gpt-4o-mini'));
  assert.ok(allows(['openrouter/*'], 'openrouter/meta-llama/llama-3-70b'));
  assert.ok(modelAccess(['*']).allows('anything/at-all', undefined));
  assert.ok(!allows(['gpt-4o.'], 'gpt-4oX'), 'dots are literal');
  assert.ok(allows(['smart'], 'smart'), 'a configured model named outright');
  assert.ok(allows(['mixed'], 'mixed'), 'named outright, whatever its targets');
});

test('otherwise every target, as <provider>/<model>, must match', () => {
  assert.ok(allows(['anthropic/*'], 'smart'), 'all of smart is anthropic');
  assert.ok(!allows(['anthropic/*'], 'mixed'), 'mixed also goes to openai');
  assert.ok(allows(['anthropic/*', 'openai/gpt-4o'], 'mixed'));
  assert.ok(allows(['openai/*'], 'gpt-4o'), 'a bare name routed to openai');
  assert.ok(allows(['anthropic/claude-*'], 'claude-opus-4'), 'a bare name routed by naming convention');
  assert.ok(!allows(['anthropic/*'], 'gpt-4o'));
  assert.ok(!modelAccess(['anthropic/*']).allows('smart', undefined), 'no route: only the name counts');
});

test('checkModel: a 403 naming what the key may use', () => {
  assert.doesNotThrow(() => checkModel(identity(['anthropic/*']), 'smart', router.resolve('smart')));
  assert.throws(
    () => checkModel(identity(['anthropic/*', 'smart']), 'openai/gpt-4o', router.resolve('openai/gpt-4o')),
    (e: GatewayError) =>
      e.status === 403 && e.type === 'permission_error' && e.code === 'model_not_allowed' && e.param === 'model' && /'openai\/gpt-4o'.*It may use: anthropic\/\*, smart/.test(e.message),
  );
});

test('a listing shows only what the key may use; master and local see everything', () => {
  assert.deepEqual(
    visibleModels(identity(['anthropic/*']), router).map((m) => m.id),
    ['smart', 'anthropic/claude-haiku-4-5'],
  );
  assert.deepEqual(
    visibleModels(identity(['gpt-4o*']), router).map((m) => m.id),
    [],
  );
  assert.equal(visibleModels(MASTER_IDENTITY, router), router.models());
  assert.equal(visibleModels(LOCAL_IDENTITY, router), router.models());
});

function run(who: Identity | undefined, surface: Surface, model: string): void {
  const ctx = newContext({ id: 'r', surface, operation: 'chat', model, stream: false, abort: new RequestAbort(), credential: undefined, clientIp: '127.0.0.1' });
  ctx.identity = who;
  ctx.route = router.resolve(model);
  accessStage().before!(ctx);
}

test('the access stage refuses a surface the key may not use with a 403 naming the allowed ones', () => {
  const key = identity([], ['openai', 'responses']);
  assert.doesNotThrow(() => run(key, 'openai', 'smart'));
  assert.doesNotThrow(() => run(key, 'responses', 'smart'));
  assert.throws(
    () => run(key, 'anthropic', 'smart'),
    (e: GatewayError) => e.status === 403 && e.code === 'surface_not_allowed' && /anthropic surface\. It may use: openai, responses\./.test(e.message),
  );
});

test('the access stage checks the model against the route, and lets master, local and unauthenticated contexts through', () => {
  assert.doesNotThrow(() => run(identity(['anthropic/*']), 'anthropic', 'smart'));
  assert.throws(() => run(identity(['anthropic/*']), 'openai', 'mixed'), (e: GatewayError) => e.code === 'model_not_allowed');
  for (const who of [MASTER_IDENTITY, LOCAL_IDENTITY, undefined]) assert.doesNotThrow(() => run(who, 'gemini', 'mixed'));
});
