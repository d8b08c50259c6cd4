// Every streamed request that reached a provider is accounted for: the gateway asks each provider for usage whether
// or not the client did, records it (here: in the access log line), and hands the usage chunk only to a client that
// asked for it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
  anthropic: { type: anthropic, api_key: k, base_url: "${url}/anthropic" }
  gemini: { type: gemini, api_key: k, base_url: "${url}/gemini" }
`, { apiKey: 'local' },
  ));
});
after(() => stop?.());

const loggedUsage = async (requestId: string) => {
  const line = await accessLogLine(gateway, requestId);
  return line && [line.input_tokens, line.output_tokens];
};

for (const [provider, model] of [['openai', 'openai/gpt-4o-mini'], ['anthropic', 'anthropic/claude-sonnet-4-5'], ['gemini', 'gemini/gemini-2.5-flash']] as const) {
  test(`${provider}: a stream without include_usage is still accounted for, and the client gets no usage chunk`, async () => {
    fake.script({ text: 'counted', usage: { input: 11, output: 7 } }, { provider });
    const { data: stream, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) {
      assert.ok(!chunk.usage, 'the client did not ask for usage');
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'counted');
    const usage = await loggedUsage(response.headers.get('x-request-id')!);
    assert.deepEqual(usage, [11, 7]);
    if (provider === 'openai') assert.deepEqual(fake.received.at(-1)!.body.stream_options, { include_usage: true });
  });
}
