// Alert rules through the real gateway process, driven by the openai SDK against the fake providers' fault injection,
// with a local HTTP server as the webhooks (one JSON, one Slack-compatible): an error rate that fires once and
// resolves once when good traffic brings it down, and a circuit_open rule that fires when a target's circuit opens
// and resolves when a half-open probe closes it. Small windows and a 100 ms evaluation interval keep it quick.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { APIError } from 'openai';
import { startFakeGateway, type FakeGateway } from '../helpers/fake-gateway.ts';

const MASTER = 'sk-master-alerts-0123456789abcdef';
let e: FakeGateway;
let receiver: Server;
const received: { path: string; body: any }[] = [];

before(async () => {
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  e = await startFakeGateway(
    (url) => `
logging: { level: warn }
auth: { master_key: ${MASTER}, secret: alerts-e2e-secret-0123456789abcdef }
providers:
  openai: { type: openai, api_key: sk-fake, base_url: "${url}/openai/v1" }
  gemini: { type: gemini, api_key: g-fake, base_url: "${url}/gemini" }
routing:
  circuit_breaker: { consecutive_failures: 5, error_rate: 0, cooldown_ms: 300 }
models:
  - name: flaky
    targets: [{ provider: openai, model: gpt-flaky }]
  - name: fragile
    targets: [{ provider: gemini, model: gem-fragile }, { provider: openai, model: gpt-backup }]
alerts:
  evaluate_every_ms: 100
  webhooks:
    - { url: "${hooks}/json", format: json, headers: { authorization: "Bearer hook-token" } }
    - { url: "${hooks}/slack?token=s3cr3t", format: slack }
  rules:
    - { name: flaky-errors, kind: error_rate, threshold: 50, window_minutes: 1, min_requests: 3, model: flaky }
    - { name: gemini-circuits, kind: circuit_open, provider: gemini }
`,
    { apiKey: MASTER },
  );
});
after(async () => {
  await e?.stop();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const hi = [{ role: 'user' as const, content: 'hi' }];

const json = (alert: string) => received.filter((r) => r.path === '/json' && r.body.alert === alert).map((r) => r.body);
const slack = (pattern: RegExp) => received.filter((r) => r.path.startsWith('/slack') && pattern.test(r.body.text)).map((r) => r.body.text as string);

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms; received: ${JSON.stringify(received)}`);
    await sleep(25);
  }
}

async function alerts(): Promise<any[]> {
  const res = await fetch(`${e.gateway.url}/admin/v1/alerts`, { headers: { authorization: `Bearer ${MASTER}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: any[] }).items;
}

test('an error rate over its threshold fires once to each webhook, and resolves once when good traffic brings it down', async () => {
  // Four failures against min_requests 3: a window sliding past a minute boundary while they go out still holds 3.
  e.fake.fault({ kind: 'status', status: 500 }, { provider: 'openai', times: 4 });
  for (let i = 0; i < 4; i++) {
    await assert.rejects(e.client.chat.completions.create({ model: 'flaky', messages: hi }), (err) => err instanceof APIError && err.status === 500);
  }
  await until('a firing notification', () => json('flaky-errors').length > 0 && slack(/flaky-errors/).length > 0);
  const [firing] = json('flaky-errors');
  assert.deepEqual({ ...firing, started_at: undefined, gateway: undefined }, {
    alert: 'flaky-errors',
    kind: 'error_rate',
    status: 'firing',
    subject: { model: 'flaky' },
    value: 100,
    threshold: 50,
    window_minutes: 1,
    started_at: undefined,
    gateway: undefined,
  });
  assert.equal(typeof firing.gateway, 'string');
  assert.match(slack(/flaky-errors/)[0]!, /^\[FIRING\] Switchboard alert flaky-errors: error rate 100% over the last 1 min for model flaky, over the threshold 50%\.$/);

  const [rule] = (await alerts()).filter((r) => r.name === 'flaky-errors');
  assert.equal(rule.state, 'firing');
  assert.deepEqual(rule.firing, [{ subject: { model: 'flaky' }, value: 100, since: firing.started_at }]);

  await sleep(300);
  assert.equal(json('flaky-errors').length, 1, 'no repeat while it keeps firing');

  for (let i = 0; i < 6; i++) await e.client.chat.completions.create({ model: 'flaky', messages: hi });
  await until('a resolved notification', () => json('flaky-errors').length > 1 && slack(/^\[RESOLVED\] .*flaky-errors/).length > 0);
  await sleep(300);
  assert.deepEqual(json('flaky-errors').map((a) => [a.status, a.started_at]), [
    ['firing', firing.started_at],
    ['resolved', firing.started_at],
  ]);
  const resolved = json('flaky-errors')[1];
  assert.ok(resolved.value <= 50, `resolved at ${resolved.value}%`);
  assert.ok(resolved.resolved_at >= firing.started_at);
  assert.equal(slack(/flaky-errors/).length, 2);
  assert.equal((await alerts()).find((r) => r.name === 'flaky-errors').state, 'ok');
});

test("circuit_open fires when a target's circuit opens and resolves when a probe closes it", async () => {
  e.fake.fault({ kind: 'status', status: 503 }, { provider: 'gemini', times: 5 });
  for (let i = 0; i < 5; i++) {
    const { response } = await e.client.chat.completions.create({ model: 'fragile', messages: hi }).withResponse();
    assert.equal(response.headers.get('x-switchboard-target'), 'openai/gpt-backup');
  }
  await until('a circuit notification', () => json('gemini-circuits').length > 0);
  assert.deepEqual(json('gemini-circuits').map((a) => [a.status, a.subject, a.value, a.threshold]), [
    ['firing', { target: 'gemini/gem-fragile', provider: 'gemini', model: 'gem-fragile' }, 1, null],
  ]);
  assert.deepEqual(slack(/gemini-circuits/), ['[FIRING] Switchboard alert gemini-circuits: the circuit of gemini/gem-fragile is open on 1 instance; requests skip it.']);
  const rule = (await alerts()).find((r) => r.name === 'gemini-circuits');
  assert.deepEqual(rule.firing.map((f: any) => f.subject.target), ['gemini/gem-fragile']);

  await sleep(350);
  const { response } = await e.client.chat.completions.create({ model: 'fragile', messages: hi }).withResponse();
  assert.equal(response.headers.get('x-switchboard-target'), 'gemini/gem-fragile', 'the half-open probe went through and closed it');
  await until('a resolved circuit notification', () => json('gemini-circuits').length > 1);
  await sleep(300);
  assert.deepEqual(json('gemini-circuits').map((a) => a.status), ['firing', 'resolved']);
  assert.match(slack(/gemini-circuits/)[1]!, /^\[RESOLVED\] Switchboard alert gemini-circuits: the circuit of gemini\/gem-fragile closed again/);
  assert.ok(!e.gateway.output().includes('s3cr3t'), 'no webhook token in the log');
});

test('the alerts view is for the master key only', async () => {
  const res = await fetch(`${e.gateway.url}/admin/v1/alerts`);
  assert.equal(res.status, 401);
  const items = await alerts();
  assert.deepEqual(items.map((r) => [r.name, r.kind, r.threshold, r.window_minutes, r.min_requests, r.model, r.provider, r.per]), [
    ['flaky-errors', 'error_rate', 50, 1, 3, 'flaky', null, null],
    ['gemini-circuits', 'circuit_open', null, null, null, null, 'gemini', null],
  ]);
});
