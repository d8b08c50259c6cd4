// Conditional rules, nested groups, sticky routing and capability filtering through the real gateway process, driven
// by the openai SDK against the fake providers; which target answered is read from x-switchboard-target.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ApiError, GoogleGenAI } from '@google/genai';
import type OpenAI from 'openai';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';

let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `${threeProviders(url)}
models:
  - name: premium
    strategy: round-robin
    targets: [{ provider: anthropic, model: claude-opus-4-1 }, { provider: gemini, model: gemini-2.5-pro }]
  - name: smart
    targets: [{ provider: openai, model: gpt-4o-mini }]
    rules:
      - when: { headers.x-tier: premium }
        use: premium
      - when: { or: [{ metadata.team: research }, { params.max_tokens: { $gt: 4000 } }] }
        use: gemini/gemini-2.5-flash
  - name: nested
    strategy: weighted
    targets:
      - { group: premium, weight: 1 }
      - { provider: openai, model: gpt-4o-mini, weight: 1 }
  - name: sticky
    strategy: round-robin
    sticky: { key: headers.x-session-id }
    targets: [{ provider: openai, model: gpt-4o-mini }, { provider: anthropic, model: claude-haiku-4-5 }, { provider: gemini, model: gemini-2.5-flash }]
  - name: able
    targets:
      - { provider: openai, model: small-text, capabilities: { vision: false, tools: false, context_window: 200 } }
      - { provider: anthropic, model: claude-sonnet-4-5 }
  - name: text-only
    targets:
      - { provider: openai, model: small-text, capabilities: { vision: false } }
      - { provider: gemini, model: tiny-text, capabilities: { vision: false } }
`,
  );
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

type Params = Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model'>;

async function targetOf(model: string, params: Partial<Params> = {}, headers: Record<string, string> = {}): Promise<string | null> {
  const { response } = await e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...params }, { headers }).withResponse();
  return response.headers.get('x-switchboard-target');
}

test('rules: a header sends the request to another group, metadata or a parameter to a target, anything else to the route\'s own', async () => {
  const premium = [await targetOf('smart', {}, { 'x-tier': 'premium' }), await targetOf('smart', {}, { 'x-tier': 'premium' })];
  assert.deepEqual(premium.sort(), ['anthropic/claude-opus-4-1', 'gemini/gemini-2.5-pro'], 'the group\'s own round-robin picks');
  assert.equal(await targetOf('smart', { metadata: { team: 'research' } }), 'gemini/gemini-2.5-flash');
  assert.equal(await targetOf('smart', { max_tokens: 8000 }), 'gemini/gemini-2.5-flash');
  assert.equal(await targetOf('smart', { max_tokens: 100 }), 'openai/gpt-4o-mini');
  assert.equal(await targetOf('smart', {}, { 'x-tier': 'basic' }), 'openai/gpt-4o-mini');
});

test('nested group: the outer strategy picks the group or the target, and the group picks among its own', async () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const t = (await targetOf('nested'))!;
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ['anthropic/claude-opus-4-1', 'gemini/gemini-2.5-pro', 'openai/gpt-4o-mini']);
  // Half the traffic to the group, shared by its round-robin: each of its targets gets about a quarter.
  const grouped = (counts.get('anthropic/claude-opus-4-1') ?? 0) + (counts.get('gemini/gemini-2.5-pro') ?? 0);
  assert.ok(grouped > 15 && grouped < 45, `group share ${grouped} of 60`);
});

test('a failing nested group falls back to the outer route\'s next target', async () => {
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'anthropic', times: 30 });
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'gemini', times: 30 });
  for (let i = 0; i < 6; i++) assert.equal(await targetOf('nested'), 'openai/gpt-4o-mini');
});

test('sticky: a conversation stays on the target that first answered it, another conversation goes on round-robin', async () => {
  const first = await targetOf('sticky', {}, { 'x-session-id': 'conv-1' });
  for (let i = 0; i < 5; i++) assert.equal(await targetOf('sticky', {}, { 'x-session-id': 'conv-1' }), first);
  const others = new Set<string | null>();
  for (let i = 0; i < 3; i++) others.add(await targetOf('sticky'));
  assert.equal(others.size, 3, 'without a session the strategy goes on');
});

const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };

test('capabilities: images, tools and long prompts skip the target that cannot take them', async () => {
  assert.equal(await targetOf('able'), 'openai/small-text');
  assert.equal(await targetOf('able', { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, image] }] }), 'anthropic/claude-sonnet-4-5');
  assert.equal(await targetOf('able', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] }), 'anthropic/claude-sonnet-4-5');
  assert.equal(await targetOf('able', { messages: [{ role: 'user', content: 'word '.repeat(400) }] }), 'anthropic/claude-sonnet-4-5');
  assert.deepEqual(e.fake.received.map((r) => r.provider), ['openai', 'anthropic', 'anthropic', 'anthropic']);
});

test('capabilities: no target able is a 400 naming what the request needs and what each target lacks', async () => {
  await assert.rejects(
    targetOf('text-only', { messages: [{ role: 'user', content: [image] }] }),
    (err: any) => err.status === 400 && err.error?.code === 'no_capable_target' && /images/.test(err.message) && /openai\/small-text \(no images\)/.test(err.message),
  );
  assert.equal(e.fake.received.length, 0);
});

test('capabilities on the Gemini surface: an image skips the text-only target, and no target able is a 400 in Gemini\'s shape', async () => {
  const ai = new GoogleGenAI({ apiKey: 'sk-client', httpOptions: { baseUrl: e.gateway.url } });
  const picture = { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } };
  const { sdkHttpResponse } = await ai.models.generateContent({ model: 'able', contents: [{ role: 'user', parts: [{ text: 'what is this?' }, picture] }] });
  assert.equal(sdkHttpResponse?.headers?.['x-switchboard-target'], 'anthropic/claude-sonnet-4-5');
  const streamed = await ai.models.generateContentStream({ model: 'able', contents: 'hi' });
  for await (const _ of streamed);
  assert.deepEqual(e.fake.received.map((r) => r.provider), ['anthropic', 'openai']);
  await assert.rejects(
    ai.models.generateContent({ model: 'text-only', contents: [{ role: 'user', parts: [picture] }] }),
    (err) => err instanceof ApiError && err.status === 400 && /no target of 'text-only'/i.test(err.message) && /images/.test(err.message),
  );
  assert.equal(e.fake.received.length, 2);
});
