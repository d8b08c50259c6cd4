import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import { GatewayError } from '../core/errors.ts';
import { RequestAbort } from '../http/abort.ts';
import { newContext, type RequestContext } from '../pipeline/context.ts';
import { Router } from '../routing/router.ts';
import { GatewayMetrics } from './metrics.ts';

const config = parseConfig(
  `
providers:
  openai: { type: openai, api_key: k }
models:
  - name: chat
    targets: [{ provider: openai, model: gpt-4o-mini }]
`,
  {},
  'c.yaml',
);
const router = new Router(config);
const sources = { router, usage: { status: () => ({ journal_dir: null, queued: 3, journaled: 5, committed: 0, failures: 0, lost: 0, last_error: null }) }, limitsBackendErrors: () => 2 };

function served(route: string, extra: Partial<RequestContext> = {}): RequestContext {
  const ctx = newContext({ id: 'r', surface: 'openai', operation: 'chat', model: route, stream: false, abort: new RequestAbort(), credential: undefined, clientIp: '127.0.0.1' });
  ctx.route = { ...router.resolve('chat'), name: route };
  ctx.target = ctx.route.targets[0];
  ctx.attempts = 1;
  return Object.assign(ctx, extra);
}

function run(metrics: GatewayMetrics, ctx: RequestContext): void {
  const stage = metrics.stage();
  stage.before!(ctx);
  stage.after!(ctx);
}

test('a request counts once in each series it belongs to, tokens by direction, errors by type', async () => {
  const metrics = new GatewayMetrics({ enabled: true, path: '/metrics', team_label: false, key_label: false }, sources);
  run(metrics, served('chat', { usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 6 } }, cost: { usd: 0.25, priced: true } }));
  run(metrics, served('chat', { attempts: 3, error: new GatewayError(502, 'upstream_error', 'down') }));
  run(metrics, served('chat', { error: new GatewayError(429, 'rate_limit_error', 'slow down', { code: 'budget_exceeded' }), attempts: 0 }));
  const text = await metrics.text();
  assert.match(text, /^llm_gateway_requests_total\{model="chat",provider="openai",status_class="2xx"\} 1$/m);
  assert.match(text, /^llm_gateway_errors_total\{model="chat",provider="openai",status_class="5xx",error_type="upstream_error"\} 1$/m);
  assert.match(text, /^llm_gateway_token_usage_total\{model="chat",provider="openai",direction="cached"\} 6$/m);
  assert.match(text, /^llm_gateway_cost_usd_total\{model="chat",provider="openai"\} 0.25$/m);
  assert.match(text, /^llm_gateway_retries_total\{model="chat",provider="openai"\} 2$/m);
  assert.match(text, /^llm_gateway_cache_misses_total\{model="chat",provider="openai"\} 2$/m, 'a request refused before any attempt is neither hit nor miss');
  assert.match(text, /^llm_gateway_limit_rejections_total\{kind="budget"\} 1$/m);
  assert.match(text, /^llm_gateway_in_flight_requests 0$/m);
  assert.match(text, /^llm_gateway_usage_records_pending\{where="journaled"\} 5$/m);
  assert.match(text, /^llm_gateway_limits_backend_errors_total 2$/m);
});

test('model labels are bounded, and team and key labels appear only when enabled', async () => {
  const metrics = new GatewayMetrics({ enabled: true, path: '/metrics', team_label: true, key_label: false }, sources);
  for (let i = 0; i < 510; i++) run(metrics, served(`route-${i}`));
  const text = await metrics.text();
  assert.match(text, /^llm_gateway_requests_total\{model="other",provider="openai",status_class="2xx",team=""\} 10$/m);
  assert.ok(!text.includes('key="'));
});
