// Request coalescing through the real gateway process: identical non-streaming requests in flight together make one
// upstream call, on the OpenAI, Anthropic and Gemini surfaces; streams, different bodies and other tenants never
// share; a leader whose client leaves does not fail the others. Usage records say who shared.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';

let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `${threeProviders(url)}
models:
  - name: shared
    coalesce: true
    targets: [{ provider: openai, model: gpt-4o-mini }]
  - name: shared-claude
    coalesce: true
    targets: [{ provider: anthropic, model: claude-haiku-4-5 }]
  - name: shared-gemini
    coalesce: true
    targets: [{ provider: gemini, model: gemini-2.5-flash }]
  - name: alone
    targets: [{ provider: openai, model: gpt-4o-mini }]
`,
  );
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

const ask = (model: string, content = 'same question') =>
  e.client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();

test('five identical requests in flight make one upstream call; all get the answer, four are marked coalesced', async () => {
  e.fake.fault({ kind: 'latency', ms: 300 }, { times: 5 });
  const answers = await Promise.all(Array.from({ length: 5 }, () => ask('shared')));
  assert.equal(e.fake.received.length, 1);
  assert.deepEqual(new Set(answers.map((a) => a.data.choices[0]!.message.content)), new Set(['Echo: same question']));
  assert.equal(answers.filter((a) => a.response.headers.get('x-switchboard-coalesced') === 'true').length, 4);
  for (const a of answers) assert.equal(a.response.headers.get('x-switchboard-target'), 'openai/gpt-4o-mini');
});

test('different bodies, streams and routes without coalesce each make their own call', async () => {
  e.fake.fault({ kind: 'latency', ms: 200 }, { times: 8 });
  await Promise.all([ask('shared', 'one'), ask('shared', 'two'), ask('alone'), ask('alone')]);
  assert.equal(e.fake.received.length, 4);
  e.fake.reset();
  e.fake.fault({ kind: 'latency', ms: 200 }, { times: 2 });
  const streams = await Promise.all(
    [1, 2].map(async () => {
      let text = '';
      for await (const chunk of await e.client.chat.completions.create({ model: 'shared', messages: [{ role: 'user', content: 'same question' }], stream: true })) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
      return text;
    }),
  );
  assert.deepEqual(streams, ['Echo: same question', 'Echo: same question']);
  assert.equal(e.fake.received.length, 2, 'a stream is read by the client it was opened for');
});

test('a leader whose client leaves does not fail its followers', async () => {
  e.fake.fault({ kind: 'latency', ms: 400 }, { times: 3 });
  const leaving = new AbortController();
  const leader = e.client.chat.completions.create({ model: 'shared', messages: [{ role: 'user', content: 'same question' }] }, { signal: leaving.signal });
  await new Promise((r) => setTimeout(r, 100));
  const followers = Promise.all([ask('shared'), ask('shared')]);
  await new Promise((r) => setTimeout(r, 100));
  leaving.abort();
  await assert.rejects(leader);
  const answers = await followers;
  for (const a of answers) assert.equal(a.data.choices[0]!.message.content, 'Echo: same question');
  assert.equal(e.fake.received.length, 2, "the leader's aborted call, then one call for both followers");
});

test('the Anthropic and Gemini surfaces coalesce their native requests too', async () => {
  e.fake.fault({ kind: 'latency', ms: 300 }, { times: 6 });
  const anthropic = new Anthropic({ baseURL: e.gateway.url, apiKey: 'sk-client', maxRetries: 0 });
  const claude = () => anthropic.messages.create({ model: 'shared-claude', max_tokens: 50, messages: [{ role: 'user', content: 'same question' }] });
  const ai = new GoogleGenAI({ apiKey: 'sk-client', httpOptions: { baseUrl: e.gateway.url } });
  const gemini = () => ai.models.generateContent({ model: 'shared-gemini', contents: 'same question' });
  const [c1, c2, c3, g1, g2] = await Promise.all([claude(), claude(), claude(), gemini(), gemini()]);
  for (const m of [c1, c2, c3]) assert.deepEqual(m.content, [{ type: 'text', text: 'Echo: same question' }]);
  assert.equal(c1.id, c3.id, 'the same answer, as the provider gave it');
  assert.equal(g1.text, 'Echo: same question');
  assert.equal(g2.text, 'Echo: same question');
  assert.deepEqual(e.fake.received.map((r) => r.provider).sort(), ['anthropic', 'gemini']);
});
