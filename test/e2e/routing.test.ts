// Routing strategies through the real gateway process, driven by the openai SDK against the fake providers: which
// target answered is read from x-switchboard-target and checked against what each fake provider received.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';

let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `${threeProviders(url)}
pricing:
  models:
    openai/gpt-4o-mini: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
models:
  - name: weighted
    strategy: weighted
    targets:
      - { provider: openai, model: gpt-4o-mini, weight: 3 }
      - { provider: anthropic, model: claude-haiku-4-5, weight: 1 }
  - name: rr
    strategy: round-robin
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: anthropic, model: claude-haiku-4-5 }
      - { provider: gemini, model: gemini-2.5-flash }
  - name: idle
    strategy: least-busy
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: gemini, model: gemini-2.5-flash }
  - name: fast
    strategy: latency
    # Ids no other route names: a target's latency figure is shared by every route that names it.
    targets:
      - { provider: anthropic, model: claude-3-5-haiku }
      - { provider: openai, model: gpt-4.1-nano }
  - name: cheap
    strategy: cost
    targets:
      - { provider: anthropic, model: claude-opus-4-1 }
      - { provider: openai, model: gpt-4o-mini }
  - name: failover
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: gemini, model: gemini-2.5-flash }
`,
  );
});
after(() => e?.stop());
beforeEach(() => e.fake.reset());

async function ask(model: string, stream = false): Promise<{ target: string | null; attempts: string | null; fallback: string | null; text: string }> {
  if (stream) {
    const { data, response } = await e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    return { ...headers(response.headers), text };
  }
  const { data, response } = await e.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  return { ...headers(response.headers), text: data.choices[0]!.message.content ?? '' };
}

const headers = (h: Headers) => ({ target: h.get('x-switchboard-target'), attempts: h.get('x-switchboard-attempts'), fallback: h.get('x-switchboard-fallback') });

test('weighted: about three quarters of the requests go to the weight-3 target, and each provider got what was sent to it', async () => {
  const n = 200;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => ask('weighted')));
    for (const r of batch) {
      assert.equal(r.text, 'Echo: hi');
      counts.set(r.target!, (counts.get(r.target!) ?? 0) + 1);
    }
  }
  const openai = counts.get('openai/gpt-4o-mini') ?? 0;
  const anthropic = counts.get('anthropic/claude-haiku-4-5') ?? 0;
  assert.equal(openai + anthropic, n, JSON.stringify([...counts]));
  // Binomial(200, 0.75): the standard deviation is 6.1 requests; ±30 is nearly five of them.
  assert.ok(Math.abs(openai - 150) <= 30, `openai answered ${openai} of ${n}`);
  assert.equal(e.fake.received.filter((r) => r.provider === 'openai').length, openai);
  assert.equal(e.fake.received.filter((r) => r.provider === 'anthropic').length, anthropic);
});

test('round-robin: targets take turns, streams included', async () => {
  const targets: string[] = [];
  for (let i = 0; i < 6; i++) targets.push((await ask('rr', i % 2 === 1)).target!);
  const cycle = ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'gemini/gemini-2.5-flash'];
  const start = cycle.indexOf(targets[0]!);
  assert.deepEqual(targets, [0, 1, 2, 3, 4, 5].map((i) => cycle[(start + i) % 3]));
});

test('least-busy: a request goes where fewer are in flight, and a finished or failed request stops counting', async () => {
  // Nothing in flight: configured order breaks the tie.
  assert.equal((await ask('idle')).target, 'openai/gpt-4o-mini');
  e.fake.fault({ kind: 'latency', ms: 400 }, { provider: 'openai' });
  const slow = ask('idle', true);
  // The slow request has reached openai before the next one is sent.
  for (let i = 0; !e.fake.received.some((r) => r.provider === 'openai' && r.body.stream === true); i++) {
    assert.ok(i < 200, 'the slow request never reached openai');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await ask('idle')).target, 'gemini/gemini-2.5-flash');
  assert.equal((await slow).target, 'openai/gpt-4o-mini');
  // Both finished (one streamed): openai is first again.
  assert.equal((await ask('idle')).target, 'openai/gpt-4o-mini');
  // A failed attempt stops counting too: after the fallback, openai still comes first.
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai' });
  assert.equal((await ask('idle')).fallback, 'true');
  assert.equal((await ask('idle')).target, 'openai/gpt-4o-mini');
});

test('latency: traffic moves to the faster target', async () => {
  // anthropic answers 150 ms late for the whole test; openai at once.
  e.fake.fault({ kind: 'latency', ms: 150 }, { provider: 'anthropic', times: 1000 });
  const targets: string[] = [];
  for (let i = 0; i < 20; i++) targets.push((await ask('fast')).target!);
  // Each is measured first (unmeasured targets go first), then the faster one keeps the traffic.
  assert.deepEqual(targets.slice(2), Array(18).fill('openai/gpt-4.1-nano'), targets.join(' '));
});

test('cost: the cheaper target answers', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await ask('cheap')).target, 'openai/gpt-4o-mini');
});

test('a fallback says so: x-switchboard-fallback, two attempts, the answering target named', async () => {
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai' });
  const failed = await ask('failover');
  assert.deepEqual({ ...failed, text: undefined }, { target: 'gemini/gemini-2.5-flash', attempts: '2', fallback: 'true', text: undefined });
  assert.equal(failed.text, 'Echo: hi');
  const first = await ask('failover', true);
  assert.deepEqual(first, { target: 'openai/gpt-4o-mini', attempts: '1', fallback: null, text: 'Echo: hi' });
});
