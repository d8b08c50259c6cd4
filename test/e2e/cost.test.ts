// The caller learns what a non-streaming answer cost from x-switchboard-cost-usd, priced from the bundled data or the
// config's pricing section, and the access log line carries the same figure.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type FakeProviders } from '../fake-providers/server.ts';
import { accessLogLine, type RunningGateway } from '../helpers/gateway.ts';
import { startFakeGateway } from '../helpers/fake-gateway.ts';

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;
let stop: (() => Promise<void>) | undefined;

before(async () => {
  ({ fake, gateway, client, stop } = await startFakeGateway(
    (url) => `
logging: { level: info }
providers:
  openai: { type: openai, api_key: k, base_url: "${url}/openai/v1" }
pricing:
  models:
    "openai/my-fine-tune": { input_per_mtok: 2, output_per_mtok: 4 }
`, { apiKey: 'local' },
  ));
});
after(() => stop?.());

async function chat(model: string) {
  fake.script({ text: 'priced', usage: { input: 1000, output: 500 } }, { provider: 'openai' });
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
}

const loggedCost = async (requestId: string) => (await accessLogLine(gateway, requestId))?.cost_usd;

test('a known model: the bundled price, in the header and the log line', async () => {
  const { data, response } = await chat('openai/gpt-4o-mini');
  assert.equal(data.choices[0]!.message.content, 'priced');
  // 1000 in at $0.15 and 500 out at $0.60 per million tokens.
  assert.equal(response.headers.get('x-switchboard-cost-usd'), '0.00045');
  assert.equal(await loggedCost(response.headers.get('x-request-id')!), 0.00045);
});

test('a model priced in config', async () => {
  const { response } = await chat('openai/my-fine-tune');
  assert.equal(response.headers.get('x-switchboard-cost-usd'), '0.004');
});

test('a model nobody prices gets no cost header rather than a misleading 0', async () => {
  const { response } = await chat('openai/no-such-model');
  assert.equal(response.headers.get('x-switchboard-cost-usd'), null);
});

test('the Anthropic surface sends the cost header too', async () => {
  fake.script({ text: 'priced', usage: { input: 1000, output: 500 } }, { provider: 'openai' });
  const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'local', maxRetries: 0 });
  const { response } = await anthropic.messages
    .create({ model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  assert.equal(response.headers.get('x-switchboard-cost-usd'), '0.00045');
});

test('a provider that reports no usage: the gateway estimates it with gpt-tokenizer and marks it estimated', async () => {
  const messages = [{ role: 'user' as const, content: 'Count the tokens of this sentence, please.' }];
  fake.script({ text: 'Here is an answer of several words.', noUsage: true }, { provider: 'openai' });
  const { data, response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages }).withResponse();
  assert.equal(data.usage, undefined);
  const line = await accessLogLine(gateway, response.headers.get('x-request-id')!);
  const usage = { prompt_tokens: line?.input_tokens as number, completion_tokens: line?.output_tokens as number };
  assert.equal(line?.usage_estimated, true);
  assert.ok(usage.prompt_tokens >= 8 && usage.prompt_tokens <= 12, `prompt ${usage.prompt_tokens}`);
  assert.ok(usage.completion_tokens >= 7 && usage.completion_tokens <= 10, `completion ${usage.completion_tokens}`);
  // Priced from the estimate, and said so only by the flag: the figure is still what the caller is charged.
  assert.ok(Number(response.headers.get('x-switchboard-cost-usd')) > 0);

  fake.script({ text: 'Here is an answer of several words.', noUsage: true }, { provider: 'openai' });
  const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages, stream: true }).withResponse();
  let text = '';
  for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'Here is an answer of several words.');
  const streamed = await accessLogLine(gateway, stream.response.headers.get('x-request-id')!);
  assert.equal(streamed?.usage_estimated, true);
  assert.deepEqual([streamed?.input_tokens, streamed?.output_tokens], [line?.input_tokens, line?.output_tokens]);
});
