// The caller learns what a non-streaming answer cost from x-switchboard-cost-usd, priced from the bundled data or the
// config's pricing section, and the access log line carries the same figure.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { accessLogLine, startGateway, type RunningGateway } from '../helpers/gateway.ts';

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  fake = await startFakeProviders();
  gateway = await startGateway({
    config: `
logging: { level: debug }
providers:
  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }
pricing:
  models:
    "openai/my-fine-tune": { input_per_mtok: 2, output_per_mtok: 4 }
`,
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'local', maxRetries: 0 });
});
after(async () => {
  await gateway.stop();
  await fake.close();
});

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
