// GET /admin/v1/analytics against the real gateway process: requests made with the official OpenAI SDK through virtual
// keys of two organizations (one slow, one streamed, one failed by the fake provider) reach the usage rollups, and the
// analytics give their counts, tokens, cost, error rate and latency; each organization sees only its own, and a team
// admin only their team's.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { adminApi, type Json } from '../helpers/admin-api.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts';
import { eventually } from '../helpers/eventually.ts';

const MASTER = 'sb-analytics-master-0123456789';
const MODEL = 'openai/gpt-4o-mini';
// gpt-4o-mini: $0.15 / $0.60 per million tokens (bundled prices): 1000 in and 500 out cost $0.00045.
const COST = 0.00045;


describe('analytics (real gateway process)', () => {
  let fake: FakeProviders;
  let idp: TestIssuer;
  let gateway: RunningGateway;
  let orgA: Json, orgB: Json, red: Json, redKey: Json, opsKey: Json, greenKey: Json;
  let adminA: string, adminB: string;

  const { call, ok } = adminApi(() => gateway.url, MASTER);

  const client = (key: Json) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const answered = () => fake.script({ text: 'counted', usage: { input: 1000, output: 500 } }, { provider: 'openai' });

  before(async () => {
    fake = await startFakeProviders();
    idp = await startIssuer();
    gateway = await startGateway({
      env: { MASTER },
      config: [
        'logging: { level: warn }',
        'auth: { master_key: ${MASTER} }',
        `providers: { openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" } }`,
        'usage: { flush_ms: 20 }',
        `admin: { oidc: { issuer: "${idp.issuer}", audience: ${idp.audience}, jwks_url: "${idp.jwksUrl}", team_claim: teams } }`,
      ].join('\n'),
    });
    orgA = await ok('/orgs', { method: 'POST', body: { name: 'acme' } });
    orgB = await ok('/orgs', { method: 'POST', body: { name: 'bravo' } });
    red = await ok(`/orgs/${orgA.id}/teams`, { method: 'POST', body: { name: 'red' } });
    redKey = await ok(`/orgs/${orgA.id}/keys`, { method: 'POST', body: { name: 'red-ci', team_id: red.id } });
    opsKey = await ok(`/orgs/${orgA.id}/keys`, { method: 'POST', body: { name: 'ops' } });
    greenKey = await ok(`/orgs/${orgB.id}/keys`, { method: 'POST', body: { name: 'green' } });
    adminA = await idp.sign({ sub: randomUUID(), switchboard_role: 'admin', switchboard_org: orgA.id });
    adminB = await idp.sign({ sub: randomUUID(), switchboard_role: 'admin', switchboard_org: orgB.id });

    for (let i = 0; i < 3; i++) {
      answered();
      await client(redKey).chat.completions.create({ model: MODEL, messages });
    }
    answered();
    let streamed = '';
    for await (const chunk of await client(redKey).chat.completions.create({ model: MODEL, messages, stream: true })) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, 'counted');
    answered();
    fake.fault({ kind: 'latency', ms: 400 }, { provider: 'openai' });
    await client(opsKey).chat.completions.create({ model: MODEL, messages });
    fake.fault({ kind: 'status', status: 500 }, { provider: 'openai' });
    await assert.rejects(client(opsKey).chat.completions.create({ model: MODEL, messages }));
    for (let i = 0; i < 2; i++) {
      answered();
      await client(greenKey).chat.completions.create({ model: MODEL, messages });
    }

    // The ledger writes in the background: wait until both organizations' records are rolled up.
    await eventually(async () => {
      const [a, b] = await Promise.all([ok('/analytics', { token: adminA }), ok('/analytics', { token: adminB })]);
      return a.total.requests === 6 && b.total.requests === 2;
    }, 'both organizations\' records rolled up', { everyMs: 50 });
  });

  after(async () => {
    await gateway?.stop();
    await idp?.close();
    await fake?.close();
  });

  test("an organization admin sees its requests, tokens, cost, error rate and latency over the last 24 hours", async () => {
    const before = Date.now();
    const report = await ok('/analytics?group_by=key', { token: adminA });
    assert.equal(report.org_id, orgA.id);
    assert.equal(report.bucket, '10m');
    // A day in 10-minute buckets, widened to whole ones.
    assert.equal(report.series.length, (Date.parse(report.to) - Date.parse(report.from)) / 600_000);
    assert.ok(report.series.length === 144 || report.series.length === 145, String(report.series.length));
    assert.ok(Date.parse(report.to) >= before && Date.parse(report.from) <= before - 86_400_000);

    const total = report.total;
    assert.deepEqual(
      [total.requests, total.errors, total.error_rate, total.input_tokens, total.output_tokens, total.cache_hits, total.cache_hit_rate],
      [6, 1, 1 / 6, 5000, 2500, 0, 0],
    );
    assert.ok(Math.abs(total.cost_usd - 5 * COST) < 1e-12, String(total.cost_usd));
    // The slow request took at least 400 ms; its bin starts no lower than 400 / 1.19.
    assert.ok(total.latency_ms.p99 >= 330, JSON.stringify(total.latency_ms));
    assert.ok(total.latency_ms.p50 < total.latency_ms.p99);
    assert.ok(total.latency_ms.mean > 400 / 6);
    assert.ok(total.ttft_ms.p50 > 0 && total.ttft_ms.mean > 0, `the streamed request has a first token: ${JSON.stringify(total.ttft_ms)}`);

    const points = report.series.filter((p: Json) => p.requests > 0);
    assert.equal(points.reduce((n: number, p: Json) => n + p.requests, 0), 6);
    assert.equal(points.reduce((n: number, p: Json) => n + p.errors, 0), 1);

    assert.deepEqual(
      report.breakdown.map((g: Json) => [g.group, g.requests, g.errors, g.error_rate]),
      [[redKey.id, 4, 0, 0], [opsKey.id, 2, 1, 0.5]],
    );
    const byTeam = await ok('/analytics?group_by=team&bucket=1h', { token: adminA });
    assert.deepEqual(byTeam.breakdown.map((g: Json) => [g.group, g.requests]), [[red.id, 4], [null, 2]]);
    const byModel = await ok(`/analytics?group_by=model&provider=openai&key_id=${opsKey.id}`, { token: adminA });
    assert.deepEqual(byModel.breakdown.map((g: Json) => [g.group, g.requests, g.errors]), [[MODEL, 2, 1]]);
  });

  test("one organization sees none of another's; a team admin sees their team's", async () => {
    const b = await ok('/analytics?group_by=key', { token: adminB });
    assert.deepEqual([b.org_id, b.total.requests, b.breakdown.map((g: Json) => g.group)], [orgB.id, 2, [greenKey.id]]);
    assert.equal((await call(`/analytics?org_id=${orgA.id}`, { token: adminB })).status, 404);
    assert.equal((await ok(`/analytics?key_id=${redKey.id}`, { token: adminB })).total.requests, 0);
    assert.equal((await ok(`/analytics?org_id=${orgA.id}`)).total.requests, 6, 'the master key names the organization');

    const redAdmin = await idp.sign({ sub: randomUUID(), switchboard_role: 'team_admin', switchboard_org: orgA.id, teams: ['red'] });
    const reds = await ok('/analytics?group_by=key', { token: redAdmin });
    assert.deepEqual(reds.breakdown.map((g: Json) => [g.group, g.requests]), [[redKey.id, 4]]);
  });

  test('bad parameters are 400s naming the parameter', async () => {
    const refusal = async (query: string, token?: string) => {
      const res = await call(`/analytics${query}`, { token: token ?? adminA });
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      return res.body.error;
    };
    const param = async (query: string, token?: string) => (await refusal(query, token)).param;
    assert.equal(await param('', MASTER), 'org_id');
    assert.equal(await param('?bucket=3m'), 'bucket');
    assert.equal(await param('?group_by=day'), 'group_by');
    assert.equal(await param('?from=yesterday'), 'from');
    assert.equal(await param('?from=2030-01-02&to=2030-01-01'), 'from');
    assert.equal(await param('?from=2020-01-01&to=2021-01-01&bucket=5m'), 'bucket');
    // An unknown parameter is named in the message (the admin API's validation leaves its param empty).
    assert.match((await refusal('?nonsense=1')).message, /nonsense/);
  });
});
