import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import type { ChatRequest } from '../core/types.ts';
import { Pricing } from '../usage/pricing.ts';
import { capableRoute } from './capabilities.ts';
import { Router } from './router.ts';

const router = new Router(
  parseConfig(
    `
providers:
  openai: { type: openai, api_key: k }
  local: { type: openai-compatible, base_url: "http://127.0.0.1:1/v1" }
models:
  - name: m
    targets:
      - { provider: local, model: tiny, capabilities: { context_window: 50, json_schema: false } }
      - { provider: openai, model: gpt-4o }
  - name: unknown
    targets: [{ provider: local, model: a }, { provider: local, model: b }]
`,
    {},
    'c.yaml',
  ),
  1,
  { pricing: new Pricing() },
);

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });

test('a context window comes from the configuration, else from the price table; nothing known means no limits', () => {
  const [tiny, gpt] = router.resolve('m').targets;
  assert.equal(tiny!.capabilities!.context_window, 50);
  assert.ok(gpt!.capabilities!.context_window! >= 128_000, JSON.stringify(gpt!.capabilities));
  assert.deepEqual(router.resolve('unknown').targets.map((t) => t.capabilities), [undefined, undefined]);
});

test('the route is kept as it is when every target can serve, and narrowed when one cannot', () => {
  const route = router.resolve('m');
  assert.equal(capableRoute(route, ask('hi')), route, 'no copy when nothing is filtered');
  assert.deepEqual(capableRoute(route, ask('hi', { max_tokens: 100 })).targets.map((t) => t.id), ['openai/gpt-4o'], 'output tokens count toward the window');
  assert.deepEqual(capableRoute(route, ask('x'.repeat(30))).targets.map((t) => t.id), ['local/tiny', 'openai/gpt-4o'], '30 characters are far fewer than 50 tokens');
  assert.deepEqual(capableRoute(route, ask('word '.repeat(80))).targets.map((t) => t.id), ['openai/gpt-4o']);
  const schema = ask('hi', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } });
  assert.deepEqual(capableRoute(route, () => schema).targets.map((t) => t.id), ['openai/gpt-4o']);
  const unknown = router.resolve('unknown');
  assert.equal(capableRoute(unknown, () => assert.fail('no request is made for a route without declared limits')), unknown);
});

test('no able target is a 400 that names the need and each target', () => {
  const route = { ...router.resolve('m'), targets: [router.resolve('m').targets[0]!, router.resolve('m').targets[0]!] };
  assert.throws(() => capableRoute(route, ask('word '.repeat(80))), (err: GatewayError) => err.status === 400 && err.code === 'no_capable_target' && /local\/tiny \(context window 50, no JSON schema\)/.test(err.message));
});

test('a size bound within every window lets the request through unmade, when windows are all that is declared', () => {
  const windowsOnly = { ...router.resolve('m'), targets: router.resolve('m').targets.map((t) => ({ ...t, capabilities: { context_window: t.capabilities!.context_window } })) };
  const unmade = () => assert.fail('the request is not made when its size bound fits the smallest window');
  assert.equal(capableRoute(windowsOnly, unmade, 50), windowsOnly);
  assert.deepEqual(capableRoute(windowsOnly, () => ask('word '.repeat(80)), 51).targets.map((t) => t.id), ['openai/gpt-4o'], 'over the bound: the request is measured');
  const route = router.resolve('m');
  assert.deepEqual(capableRoute(route, () => ask('hi', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } }), 10).targets.map((t) => t.id), ['openai/gpt-4o'], 'a declared refusal still needs the request');
});
