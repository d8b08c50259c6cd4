// Active health checks through the real gateway process: probes find a failing target before any client does and
// open its circuit, find it recovered long before the cooldown ends, and show what they saw in the admin API (a
// revoked key included) without counting a provider's refusal against the target's health.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeGateway, threeProviders, type FakeGateway } from '../helpers/fake-gateway.ts';

const MASTER = 'sk-master-probes-0123456789';
let e: FakeGateway;

before(async () => {
  e = await startFakeGateway(
    (url) => `${threeProviders(url)}
auth: { master_key: ${MASTER}, secret: probes-e2e-secret-0123456789abcdef }
routing:
  circuit_breaker: { consecutive_failures: 2, cooldown_ms: 600000 }
models:
  - name: watched
    health_check: { interval_ms: 50, timeout_ms: 2000 }
    targets: [{ provider: openai, model: gpt-h1 }, { provider: gemini, model: gem-h1 }]
  - name: unwatched
    targets: [{ provider: anthropic, model: claude-h1 }]
`,
    { apiKey: MASTER },
  );
});
after(() => e?.stop());

async function target(id: string): Promise<any> {
  const res = await fetch(`${e.gateway.url}/admin/v1/routing/targets`, { headers: { authorization: `Bearer ${MASTER}` } });
  return ((await res.json()) as any).items.find((t: any) => t.id === id);
}

async function until(id: string, holds: (t: any) => boolean, what: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const t = await target(id);
    if (holds(t)) return t;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${id}: never ${what}: ${JSON.stringify(await target(id))}`);
}

const ask = () => e.client.chat.completions.create({ model: 'watched', messages: [{ role: 'user', content: 'hi' }] }).withResponse();

test('probes are one-token chat requests to every target of a checked model, and to no other', async () => {
  const t = await until('gemini/gem-h1', (x) => x.probe !== null, 'probed');
  assert.equal(t.probe.healthy, true);
  assert.equal(t.probe.status, 200);
  const probe = e.fake.received.find((r) => r.provider === 'openai');
  assert.ok(probe, 'openai probed');
  assert.equal(probe.body.max_completion_tokens, 1);
  assert.deepEqual(probe.body.messages, [{ role: 'user', content: 'ping' }]);
  assert.equal((await target('anthropic/claude-h1')).probe, null);
  assert.ok(!e.fake.received.some((r) => r.provider === 'anthropic'));
});

test('a failing target is found by probes and skipped before a client meets it; recovery is found before the cooldown ends', async () => {
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai', times: 100_000 });
  const down = await until('openai/gpt-h1', (t) => t.circuit.state === 'open', 'opened');
  assert.equal(down.circuit.times_opened, 1);
  assert.equal(down.probe.healthy, false);
  assert.equal(down.probe.status, 500);
  const skipped = await ask();
  assert.equal(skipped.response.headers.get('x-switchboard-target'), 'gemini/gem-h1');
  assert.equal(skipped.response.headers.get('x-switchboard-attempts'), '1', 'the open target was not tried');
  e.fake.reset();
  // Recovered: the next probe succeeds and the circuit lets live requests through at once, not in ten minutes.
  const back = await until('openai/gpt-h1', (t) => t.circuit.state === 'half-open', 'half-open after a healthy probe');
  assert.equal(back.probe.healthy, true);
  const { response } = await ask();
  assert.equal(response.headers.get('x-switchboard-target'), 'openai/gpt-h1', 'the first live request is the half-open probe');
  assert.equal((await target('openai/gpt-h1')).circuit.state, 'closed');
});

test("a provider's refusal (a revoked key) shows in the probe without opening the circuit", async () => {
  e.fake.fault({ kind: 'status', status: 401 }, { provider: 'gemini', times: 3 });
  const refused = await until('gemini/gem-h1', (t) => t.probe.status === 401, 'refused');
  assert.equal(refused.probe.healthy, true);
  assert.match(refused.probe.error, /gemini/);
  assert.equal(refused.circuit.state, 'closed');
  assert.ok(!JSON.stringify(refused).includes('g-fake'), 'never the key');
});
