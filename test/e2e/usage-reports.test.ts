// GET /admin/v1/usage and /admin/v1/spend against the real gateway process: requests made with virtual keys of two
// organizations reach the ledger, and the reports give their totals and breakdowns; each organization sees only its
// own, and a team-scoped person (signed in through a stand-in identity provider) only their teams' and their own.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { adminApi, type Json } from '../helpers/admin-api.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts';
import { eventually } from '../helpers/eventually.ts';

const MASTER = 'sb-usage-master-0123456789';


describe('usage and spend reports (real gateway process)', () => {
  let fake: FakeProviders;
  let idp: TestIssuer;
  let gateway: RunningGateway;
  let orgA: Json, orgB: Json, red: Json, blue: Json, green: Json, ann: Json, bob: Json;
  let redKey: Json, blueKey: Json, annKey: Json, bobKey: Json, greenKey: Json;
  // Around now, so a run at the turn of a month or a day still counts every record.
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const to = new Date(Date.now() + 86_400_000).toISOString();
  const period = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

  const { call, ok } = adminApi(() => gateway.url, MASTER);

  /** One chat request with the key; the provider answers with 1000 input and 500 output tokens, or fails with `fail`. */
  async function chat(key: Json, model: string, fail?: number): Promise<void> {
    if (fail) fake.fault({ kind: 'status', status: fail }, { provider: 'openai' });
    else fake.script({ text: 'counted', usage: { input: 1000, output: 500 } }, { provider: 'openai' });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const answer = client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    if (fail) await assert.rejects(answer);
    else await answer;
  }

  const token = (claims: Json) => idp.sign({ sub: randomUUID(), ...claims });

  before(async () => {
    fake = await startFakeProviders();
    idp = await startIssuer();
    gateway = await startGateway({
      env: { MASTER },
      config: [
        'logging: { level: warn }',
        'auth: { master_key: ${MASTER} }',
        `providers: { openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" } }`,
        'pricing: { models: { "openai/house-model": { input_per_mtok: 2, output_per_mtok: 4 } } }',
        'usage: { flush_ms: 20 }',
        `admin: { oidc: { issuer: "${idp.issuer}", audience: ${idp.audience}, jwks_url: "${idp.jwksUrl}", team_claim: teams } }`,
      ].join('\n'),
    });
    orgA = await ok('/orgs', { method: 'POST', body: { name: 'acme' } });
    orgB = await ok('/orgs', { method: 'POST', body: { name: 'bravo' } });
    const a = `/orgs/${orgA.id}`;
    red = await ok(`${a}/teams`, { method: 'POST', body: { name: 'red' } });
    blue = await ok(`${a}/teams`, { method: 'POST', body: { name: 'blue' } });
    green = await ok(`/orgs/${orgB.id}/teams`, { method: 'POST', body: { name: 'green' } });
    ann = await ok(`${a}/users`, { method: 'POST', body: { email: 'ann@acme.test', role: 'member' } });
    bob = await ok(`${a}/users`, { method: 'POST', body: { email: 'bob@acme.test', role: 'member' } });
    await ok(`${a}/memberships`, { method: 'POST', body: { team_id: red.id, user_id: ann.id } });
    redKey = await ok(`${a}/keys`, { method: 'POST', body: { name: 'red-ci', team_id: red.id } });
    blueKey = await ok(`${a}/keys`, { method: 'POST', body: { name: 'blue-ci', team_id: blue.id } });
    annKey = await ok(`${a}/keys`, { method: 'POST', body: { name: 'ann', user_id: ann.id } });
    bobKey = await ok(`${a}/keys`, { method: 'POST', body: { name: 'bob', user_id: bob.id } });
    greenKey = await ok(`/orgs/${orgB.id}/keys`, { method: 'POST', body: { name: 'green-ci', team_id: green.id } });

    // gpt-4o-mini: $0.15 / $0.60 per million tokens (bundled prices), so $0.00045 a request; house-model $0.004.
    for (let i = 0; i < 3; i++) await chat(redKey, 'openai/gpt-4o-mini');
    for (let i = 0; i < 2; i++) await chat(blueKey, 'openai/gpt-4o-mini');
    await chat(blueKey, 'openai/gpt-4o-mini', 400);
    await chat(annKey, 'openai/house-model');
    await chat(bobKey, 'openai/no-such-model');
    for (let i = 0; i < 2; i++) await chat(greenKey, 'openai/gpt-4o-mini');

    // The ledger writes in the background: wait until both organizations' records are in.
    await eventually(async () => {
      const [ua, ub] = await Promise.all([ok(`/usage?org_id=${orgA.id}&${period}`), ok(`/usage?org_id=${orgB.id}&${period}`)]);
      return ua.total.requests === 8 && ub.total.requests === 2;
    }, 'both organizations\' usage recorded', { everyMs: 50 });
  });

  after(async () => {
    await gateway?.stop();
    await idp?.close();
    await fake?.close();
  });

  test('usage: token and request totals for the organization, broken down by key, team, model or day', async () => {
    const usage = await ok(`/usage?org_id=${orgA.id}&${period}`);
    assert.deepEqual(usage, {
      org_id: orgA.id,
      from,
      to,
      group_by: null,
      total: { requests: 8, errors: 1, input_tokens: 7000, output_tokens: 3500, total_tokens: 10500, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
      groups: [],
    });
    const byKey = await ok(`/usage?org_id=${orgA.id}&${period}&group_by=key`);
    assert.deepEqual(
      byKey.groups.map((g: Json) => [g.group, g.requests, g.errors, g.total_tokens]),
      // Most tokens first; ties by requests, then by id (ids sort by creation).
      [[redKey.id, 3, 0, 4500], [blueKey.id, 3, 1, 3000], [annKey.id, 1, 0, 1500], [bobKey.id, 1, 0, 1500]],
    );
    const byTeam = await ok(`/usage?org_id=${orgA.id}&${period}&group_by=team`);
    assert.deepEqual(
      byTeam.groups.map((g: Json) => [g.group, g.requests]),
      [[red.id, 3], [blue.id, 3], [null, 2]],
    );
    const byModel = await ok(`/usage?org_id=${orgA.id}&${period}&group_by=model`);
    assert.deepEqual(
      byModel.groups.map((g: Json) => [g.group, g.requests]),
      [['openai/gpt-4o-mini', 6], ['openai/house-model', 1], ['openai/no-such-model', 1]],
    );
    const byDay = await ok(`/usage?org_id=${orgA.id}&${period}&group_by=day`);
    assert.equal(byDay.groups.reduce((sum: number, g: Json) => sum + g.requests, 0), 8);
    assert.ok(byDay.groups.every((g: Json) => /^\d{4}-\d\d-\d\d$/.test(g.group)));
    const filtered = await ok(`/usage?org_id=${orgA.id}&${period}&team_id=${blue.id}&model=openai/gpt-4o-mini`);
    assert.deepEqual([filtered.total.requests, filtered.total.errors, filtered.total.output_tokens], [3, 1, 1000]);
  });

  test('spend: cost totals in USD, most expensive first, with the requests no price was known for', async () => {
    const spend = await ok(`/spend?org_id=${orgA.id}&${period}&group_by=key`);
    assert.deepEqual(spend.total, { cost_usd: 0.00625, requests: 8, unpriced_requests: 1 });
    assert.deepEqual(spend.groups, [
      { group: annKey.id, cost_usd: 0.004, requests: 1, unpriced_requests: 0 },
      { group: redKey.id, cost_usd: 0.00135, requests: 3, unpriced_requests: 0 },
      { group: blueKey.id, cost_usd: 0.0009, requests: 3, unpriced_requests: 0 },
      { group: bobKey.id, cost_usd: 0, requests: 1, unpriced_requests: 1 },
    ]);
    const byUser = await ok(`/spend?org_id=${orgA.id}&${period}&group_by=user`);
    assert.deepEqual(
      byUser.groups.map((g: Json) => [g.group, g.cost_usd]),
      [[ann.id, 0.004], [null, 0.00225], [bob.id, 0]],
    );
  });

  test('the period: this UTC month by default; a past period is empty; from must come before to', async () => {
    const now = new Date();
    const monthly = await ok(`/spend?org_id=${orgA.id}`);
    assert.equal(monthly.from, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    assert.equal(monthly.to, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    const past = await ok(`/usage?org_id=${orgA.id}&from=2001-01-01&to=2001-02-01T00:00:00Z&group_by=key`);
    assert.deepEqual([past.from, past.total.requests, past.groups], ['2001-01-01T00:00:00.000Z', 0, []]);
    const backwards = await call(`/usage?org_id=${orgA.id}&from=2030-01-02&to=2030-01-01`);
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.error.param, 'from');
    assert.equal((await call(`/usage?org_id=${orgA.id}&group_by=week`)).status, 400);
  });

  test('tenant isolation: the master key names the organization; an organization sees only its own; another is not found', async () => {
    const missing = await call('/usage');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.param, 'org_id');
    const b = await ok(`/spend?org_id=${orgB.id}&${period}&group_by=team`);
    assert.deepEqual([b.total.requests, b.total.cost_usd, b.groups.map((g: Json) => g.group)], [2, 0.0009, [green.id]]);

    const adminA = await token({ switchboard_role: 'admin', switchboard_org: orgA.id });
    const own = await ok(`/usage?${period}`, { token: adminA });
    assert.deepEqual([own.org_id, own.total.requests], [orgA.id, 8]);
    assert.equal((await call(`/usage?org_id=${orgB.id}`, { token: adminA })).status, 404);
    assert.equal((await call(`/spend?org_id=${orgB.id}`, { token: adminA })).status, 404);
    // Another organization's key id through one's own organization finds nothing.
    assert.equal((await ok(`/usage?${period}&key_id=${greenKey.id}`, { token: adminA })).total.requests, 0);

    const viewerB = await token({ switchboard_role: 'viewer', switchboard_org: orgB.id });
    assert.equal((await ok(`/spend?${period}`, { token: viewerB })).total.requests, 2);
  });

  test("team-scoped roles: their teams' usage and their own, and a 403 for anyone else's", async () => {
    // Ann is a member of red (through her user record) and owns a key of her own.
    const annToken = await token({ email: 'ann@acme.test', switchboard_org: orgA.id });
    const mine = await ok(`/usage?${period}&group_by=key`, { token: annToken });
    assert.deepEqual(
      mine.groups.map((g: Json) => [g.group, g.requests]),
      [[redKey.id, 3], [annKey.id, 1]],
    );
    assert.equal(mine.total.requests, 4);
    assert.equal((await ok(`/spend?${period}&team_id=${red.id}`, { token: annToken })).total.cost_usd, 0.00135);
    assert.equal((await ok(`/usage?${period}&user_id=${ann.id}`, { token: annToken })).total.requests, 1);
    // A key she may not see is not reported, whatever its id.
    assert.equal((await ok(`/usage?${period}&key_id=${blueKey.id}`, { token: annToken })).total.requests, 0);
    assert.equal((await call(`/usage?team_id=${blue.id}`, { token: annToken })).status, 403);
    assert.equal((await call(`/spend?user_id=${bob.id}`, { token: annToken })).status, 403);

    // A team admin of blue through the token's claims (no user record): blue's usage only.
    const blueAdmin = await token({ switchboard_role: 'team_admin', switchboard_org: orgA.id, teams: ['blue'] });
    const blues = await ok(`/usage?${period}&group_by=team`, { token: blueAdmin });
    assert.deepEqual(
      blues.groups.map((g: Json) => [g.group, g.requests, g.errors]),
      [[blue.id, 3, 1]],
    );
    assert.equal((await call(`/usage?team_id=${red.id}`, { token: blueAdmin })).status, 403);
  });
});
