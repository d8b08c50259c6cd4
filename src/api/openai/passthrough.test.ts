import { newTargetStats } from '../../routing/strategies.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import { RequestAbort } from '../../http/abort.ts';
import { newContext } from '../../pipeline/context.ts';
import { PROVIDER_TYPES } from '../../providers/registry.ts';
import type { OpenAIOperation, ProviderConfig } from '../../providers/types.ts';
import type { Target } from '../../routing/router.ts';
import { operationAdapter } from './passthrough.ts';

const ctx = newContext({ id: 'r1', surface: 'openai', operation: 'completions', model: 'writer', stream: false, abort: new RequestAbort(), credential: undefined, clientIp: '127.0.0.1' });

function target(type: string, name = type): Target {
  const provider: ProviderConfig = {
    name,
    type,
    base_url: 'http://127.0.0.1:1',
    headers: {},
    timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
    models: [],
    options: {},
  };
  return { id: `${provider.name}/m`, provider, adapter: PROVIDER_TYPES[type]!.adapter, model: 'm', stats: newTargetStats() };
}

const OPERATIONS: OpenAIOperation[] = ['completions', 'images', 'transcriptions', 'speech', 'moderations'];

test('OpenAI-wire providers serve every operation', () => {
  for (const type of ['openai', 'vllm', 'groq']) {
    for (const op of OPERATIONS) assert.ok(operationAdapter(ctx, target(type), op, 'json'), `${type} ${op}`);
  }
});

test('a provider without the operation gets a 400 naming it, the route and where to go instead', () => {
  for (const op of OPERATIONS) {
    assert.throws(
      () => operationAdapter(ctx, target('anthropic', 'claude'), op, 'json'),
      (e: GatewayError) =>
        e.status === 400 && e.code === 'unsupported_operation' && e.param === 'model' && e.provider === 'claude' &&
        e.message.startsWith("Provider 'claude' (type anthropic) has no ") && e.message.includes("route 'writer' to "),
    );
  }
  assert.ok(operationAdapter(ctx, target('gemini'), 'images', 'json'));
  assert.throws(() => operationAdapter(ctx, target('gemini'), 'moderations', 'json'), /has no moderation API/);
});

test('streaming is refused where the provider cannot stream the operation', () => {
  assert.ok(operationAdapter(ctx, target('openai'), 'completions', 'events'));
  assert.throws(() => operationAdapter(ctx, target('gemini'), 'images', 'events'), (e: GatewayError) => e.status === 400 && e.param === 'stream');
});
