// Shadow traffic through the real gateway process: a model's requests are mirrored to a shadow model after the client
// has its answer, on the OpenAI surface (whole and streamed) and the Anthropic one (a native stream), and
// GET /admin/v1/shadow/{model} compares both sides from the stored samples. The client's answer never depends on
// the shadow: a failing or slow shadow changes nothing for it.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { openDatabase } from '../../src/store/db.ts';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';

const MASTER = 'sk-master-shadow-0123456789';
let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `${threeProviders(url)}
auth: { master_key: ${MASTER}, secret: shadow-e2e-secret-0123456789abcdef }
models:
  - name: mirrored
    targets: [{ provider: openai, model: gpt-4o-mini }]
    shadow: { use: anthropic/claude-haiku-4-5, share: 1 }
  - name: mirrored-claude
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
    shadow: { use: candidate, share: 1, keep_output_chars: 5 }
  - name: candidate
    targets: [{ provider: gemini, model: gemini-2.5-flash }]
  - name: slow-shadow
    targets: [{ provider: openai, model: gpt-4o-mini }]
    shadow: { use: gemini/gemini-2.5-pro, share: 1, max_in_flight: 1 }
  - name: never
    targets: [{ provider: openai, model: gpt-4o-mini }]
    shadow: { use: anthropic/claude-haiku-4-5, share: 0 }
`,
    { apiKey: MASTER },
  );
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

async function report(model: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${e.gateway.url}/admin/v1/shadow/${model}`, { headers: { authorization: `Bearer ${MASTER}` } });
  return { status: res.status, body: await res.json() };
}

/** The report once it holds `n` samples (the shadow calls run after the answers). */
async function samples(model: string, n: number): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const { body } = await report(model);
    if (body.samples >= n) return body;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${model}: fewer than ${n} shadow samples stored`);
}

test('OpenAI surface: whole and streamed requests are mirrored, unstreamed, and compared side by side', async () => {
  const whole = await e.client.chat.completions.create({ model: 'mirrored', messages: [{ role: 'user', content: 'first' }] });
  assert.equal(whole.choices[0]!.message.content, 'Echo: first');
  let streamed = '';
  for await (const chunk of await e.client.chat.completions.create({ model: 'mirrored', messages: [{ role: 'user', content: 'second' }], stream: true })) {
    streamed += chunk.choices[0]?.delta.content ?? '';
  }
  assert.equal(streamed, 'Echo: second');
  const body = await samples('mirrored', 2);
  assert.equal(body.samples, 2);
  assert.equal(body.both_answered, 2);
  assert.equal(body.exact_match_rate, 1);
  assert.deepEqual(body.settings, { use: 'anthropic/claude-haiku-4-5', share: 1, max_in_flight: 8, in_flight: 0, skipped: 0 });
  assert.deepEqual(body.primary.targets, { 'openai/gpt-4o-mini': 2 });
  assert.deepEqual(body.shadow.targets, { 'anthropic/claude-haiku-4-5': 2 });
  for (const side of [body.primary, body.shadow]) {
    assert.equal(side.error_rate, 0);
    assert.ok(side.latency_ms.p50 > 0 && side.latency_ms.p99 >= side.latency_ms.p50);
    assert.ok(side.cost_per_request_usd > 0, 'both models are priced');
    assert.ok(side.output_tokens_mean > 0);
  }
  assert.deepEqual(body.recent.map((r: any) => [r.primary.output, r.shadow.output]), [['Echo: second', 'Echo: second'], ['Echo: first', 'Echo: first']]);
  const mirrored = e.fake.received.filter((r) => r.provider === 'anthropic');
  assert.equal(mirrored.length, 2);
  assert.ok(mirrored.every((r) => r.body.stream !== true && r.body.model === 'claude-haiku-4-5'), 'the shadow is asked for a whole answer');

  // Both shadow calls are in the usage ledger, charged to no key, team or organization.
  const db = openDatabase(`sqlite://${join(e.gateway.cwd, '.switchboard', 'switchboard.db')}`);
  try {
    let rows: { request_id: string; model: string; provider: string; key_id: string | null; org_id: string | null; cost_usd: number }[] = [];
    for (let i = 0; i < 100 && rows.length < 2; i++) {
      rows = await db.db.selectFrom('usage_records').select(['request_id', 'model', 'provider', 'key_id', 'org_id', 'cost_usd']).where('request_id', 'like', '%/shadow').execute();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.deepEqual([row.model, row.provider, row.key_id, row.org_id], ['anthropic/claude-haiku-4-5', 'anthropic', null, null]);
      assert.ok(row.cost_usd > 0);
    }
  } finally {
    await db.close();
  }
});

test('a different, failing or slow shadow changes nothing for the client; the report shows it', async () => {
  e.fake.script({ text: 'something else' }, { provider: 'anthropic' });
  const differs = await e.client.chat.completions.create({ model: 'mirrored', messages: [{ role: 'user', content: 'third' }] });
  assert.equal(differs.choices[0]!.message.content, 'Echo: third');
  await samples('mirrored', 3);
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'anthropic' });
  const failing = await e.client.chat.completions.create({ model: 'mirrored', messages: [{ role: 'user', content: 'fourth' }] });
  assert.equal(failing.choices[0]!.message.content, 'Echo: fourth');
  const body = await samples('mirrored', 4);
  assert.equal(body.shadow.errors, 1);
  assert.equal(body.shadow.error_rate, 0.25);
  assert.equal(body.both_answered, 3);
  assert.equal(body.exact_match_rate, 2 / 3);
  assert.equal(body.recent[0].shadow.status, 500);
  assert.match(body.recent[0].shadow.error, /anthropic/);
  assert.equal(body.recent[1].shadow.output, 'something else');

  // The shadow is still working when the client has its answer; over max_in_flight a sample is skipped.
  e.fake.fault({ kind: 'latency', ms: 1_000 }, { provider: 'gemini' });
  const first = await e.client.chat.completions.create({ model: 'slow-shadow', messages: [{ role: 'user', content: 'a' }] });
  assert.equal(first.choices[0]!.message.content, 'Echo: a');
  await e.client.chat.completions.create({ model: 'slow-shadow', messages: [{ role: 'user', content: 'b' }] });
  const during = (await report('slow-shadow')).body;
  assert.equal(during.samples, 0, 'no sample before the shadow answered');
  assert.equal(during.settings.in_flight, 1);
  assert.equal(during.settings.skipped, 1);
  assert.equal((await samples('slow-shadow', 1)).samples, 1);
});

test('Anthropic surface: a native stream is mirrored to a configured model and its text compared', async () => {
  const anthropic = new Anthropic({ baseURL: e.gateway.url, apiKey: MASTER, maxRetries: 0 });
  const stream = anthropic.messages.stream({ model: 'mirrored-claude', max_tokens: 50, messages: [{ role: 'user', content: 'native' }] });
  assert.equal(await stream.finalText(), 'Echo: native');
  const body = await samples('mirrored-claude', 1);
  assert.equal(body.exact_match_rate, 1);
  assert.deepEqual(body.shadow.targets, { 'gemini/gemini-2.5-flash': 1 });
  const [sample] = body.recent;
  assert.equal(sample.primary.output, 'Echo:', 'keep_output_chars');
  assert.equal(sample.primary.output_chars, 'Echo: native'.length);
  assert.equal(sample.shadow.output_chars, 'Echo: native'.length);
});

test('share 0 mirrors nothing; an unknown model is a 404; the comparison needs the master key', async () => {
  await e.client.chat.completions.create({ model: 'never', messages: [{ role: 'user', content: 'x' }] });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await report('never')).body.samples, 0);
  assert.equal(e.fake.received.length, 1);
  assert.equal((await report('no-such-model')).status, 404);
  const anonymous = await fetch(`${e.gateway.url}/admin/v1/shadow/mirrored`);
  assert.equal(anonymous.status, 401);
});
