// The request log against the real gateway process: requests made with the openai SDK through virtual keys of two
// organizations reach the log with their routing detail; an organization admin (signed in through a stand-in identity
// provider) filters and pages them, exports them as JSON Lines and CSV, and reads the bodies captured for a key and a
// team with log_payloads on, a secret in the prompt masked. Nothing of one organization reaches the other's admin.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { parseCsv } from '../helpers/csv.ts';
import { adminApi, type Json } from '../helpers/admin-api.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.ts';
import { eventually } from '../helpers/eventually.ts';

const MASTER = 'sb-logs-master-0123456789';
const SECRET = 'sk-proj-PLANTEDSECRET0123456789abcdef';


describe('request logs (real gateway process)', () => {
  let fake: FakeProviders;
  let idp: TestIssuer;
  let gateway: RunningGateway;
  let orgA: Json, orgB: Json, red: Json;
  let captured: Json, plain: Json, redKey: Json, greenKey: Json;
  let adminA: string, adminB: string;
  /** Request ids by what the request was. */
  const ids = {} as Record<'secret' | 'stream' | 'plain1' | 'plain2' | 'failed' | 'fallback' | 'red' | 'redCaptured' | 'green', string>;

  const { call, ok } = adminApi(() => gateway.url, MASTER);

  async function refused(path: string, status: number, token: string, param?: string): Promise<void> {
    const res = await call(path, { token });
    assert.equal(res.status, status, `${path}: ${res.text}`);
    if (param) assert.equal(JSON.parse(res.text).error.param, param, res.text);
  }

  const client = (key: Json) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });

  /** A chat request; returns its request id. */
  async function chat(key: Json, content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}, headers?: Record<string, string>): Promise<string> {
    const { response } = await client(key)
      .chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }, { headers })
      .withResponse();
    return response.headers.get('x-request-id')!;
  }

  /** All rows of a listing, page by page through the cursor. */
  async function walk(query: string, token: string, limit: number): Promise<{ rows: Json[]; pages: number }> {
    const rows: Json[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Json = await ok(`/logs?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { token });
      rows.push(...page.data);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    return { rows, pages };
  }

  before(async () => {
    fake = await startFakeProviders();
    idp = await startIssuer();
    gateway = await startGateway({
      env: { MASTER },
      config: [
        'logging: { level: warn }',
        'auth: { master_key: ${MASTER} }',
        'providers:',
        `  openai: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }`,
        `  backup: { type: openai, api_key: k, base_url: "${fake.url}/openai/v1" }`,
        'models:',
        '  - name: smart',
        '    strategy: fallback',
        '    targets:',
        '      - { provider: backup, model: gpt-4o-mini }',
        '      - { provider: openai, model: gpt-4o-mini }',
        'usage: { flush_ms: 20 }',
        'request_logs: { payload_max_bytes: 4096 }',
        `admin: { oidc: { issuer: "${idp.issuer}", audience: ${idp.audience}, jwks_url: "${idp.jwksUrl}", team_claim: teams } }`,
      ].join('\n'),
    });
    orgA = await ok('/orgs', { method: 'POST', body: { name: 'acme' } });
    orgB = await ok('/orgs', { method: 'POST', body: { name: 'bravo' } });
    const a = `/orgs/${orgA.id}`;
    red = await ok(`${a}/teams`, { method: 'POST', body: { name: 'red' } });
    captured = await ok(`${a}/keys`, { method: 'POST', body: { name: 'captured', log_payloads: true } });
    plain = await ok(`${a}/keys`, { method: 'POST', body: { name: 'plain' } });
    redKey = await ok(`${a}/keys`, { method: 'POST', body: { name: 'red-ci', team_id: red.id } });
    greenKey = await ok(`/orgs/${orgB.id}/keys`, { method: 'POST', body: { name: 'green' } });
    adminA = await idp.sign({ sub: randomUUID(), switchboard_role: 'admin', switchboard_org: orgA.id });
    adminB = await idp.sign({ sub: randomUUID(), switchboard_role: 'admin', switchboard_org: orgB.id });

    ids.secret = await chat(captured, `Tell me about keys. Mine is ${SECRET}.`, { metadata: { customer: 'acme-42' } }, { 'x-switchboard-metadata': '{"trace":"t-77"}' });
    const { data: stream, response } = await client(captured)
      .chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'stream it' }], stream: true })
      .withResponse();
    for await (const _ of stream);
    ids.stream = response.headers.get('x-request-id')!;
    ids.plain1 = await chat(plain, 'first');
    ids.plain2 = await chat(plain, 'second');
    fake.fault({ kind: 'status', status: 400 }, { provider: 'openai' });
    await assert.rejects(chat(plain, 'refused'), (err: Error & { status?: number; headers?: Headers }) => {
      ids.failed = err.headers?.get('x-request-id') ?? '';
      return err.status === 400;
    });
    fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
    ids.fallback = await chat(plain, 'fall back', { model: 'smart' });
    ids.red = await chat(redKey, 'from red');
    // A team turning capture on reaches its keys at once (the auth caches are dropped).
    await ok(`${a}/teams/${red.id}`, { method: 'PATCH', body: { log_payloads: true } });
    ids.redCaptured = await chat(redKey, 'from red, captured');
    ids.green = await chat(greenKey, 'from bravo');

    // The ledger writes in the background: wait until every record is in.
    await eventually(async () => {
      const [la, lb] = await Promise.all([ok(`/logs?org_id=${orgA.id}`), ok(`/logs?org_id=${orgB.id}`)]);
      return la.data.length === 8 && lb.data.length === 1;
    }, 'both organizations\' records in the log', { everyMs: 50 });
  });

  after(async () => {
    await gateway?.stop();
    await idp?.close();
    await fake?.close();
  });

  test('an organization admin lists its requests newest first, each with its routing detail', async () => {
    const page = await ok('/logs', { token: adminA });
    assert.deepEqual(
      page.data.map((l: Json) => l.request_id),
      [ids.redCaptured, ids.red, ids.fallback, ids.failed, ids.plain2, ids.plain1, ids.stream, ids.secret],
    );
    assert.equal(page.next_cursor, null);
    assert.ok(Date.parse(page.to) - Date.parse(page.from) === 86_400_000, 'the last 24 hours by default');
    const byId = new Map<string, Json>(page.data.map((l: Json) => [l.request_id, l]));
    const fallback = byId.get(ids.fallback)!;
    assert.deepEqual(
      [fallback.model, fallback.provider, fallback.status, fallback.attempts, fallback.operation, fallback.stream, fallback.key_id, fallback.org_id],
      ['smart', 'openai', 200, 2, 'chat', false, plain.id, orgA.id],
    );
    assert.deepEqual(fallback.route, {
      strategy: 'fallback',
      steps: [
        { target: 'backup/gpt-4o-mini', status: 503, code: fallback.route.steps[0].code },
        { target: 'openai/gpt-4o-mini', status: 200, code: null },
      ],
    });
    const failed = byId.get(ids.failed)!;
    assert.deepEqual([failed.status, failed.error_type, typeof failed.error_message], [400, 'invalid_request_error', 'string']);
    assert.equal(byId.get(ids.stream)!.stream, true);
    assert.deepEqual(byId.get(ids.secret)!.metadata, { customer: 'acme-42', trace: 't-77' });
    assert.ok(byId.get(ids.plain1)!.input_tokens > 0);
  });

  test('filters: key, team, model, provider, status, errors, free text, time', async () => {
    const list = async (query: string) => (await ok(`/logs?${query}`, { token: adminA })).data.map((l: Json) => l.request_id);
    assert.deepEqual(await list(`key_id=${plain.id}`), [ids.fallback, ids.failed, ids.plain2, ids.plain1]);
    assert.deepEqual(await list(`team_id=${red.id}`), [ids.redCaptured, ids.red]);
    assert.deepEqual(await list('model=smart'), [ids.fallback]);
    assert.deepEqual(await list('provider=openai&status=4xx'), [ids.failed]);
    assert.deepEqual(await list('status=400'), [ids.failed]);
    assert.deepEqual(await list('error=true'), [ids.failed]);
    assert.deepEqual(await list('error=invalid_request_error'), [ids.failed]);
    assert.equal((await list('error=false')).length, 7);
    assert.deepEqual(await list('q=ACME-42'), [ids.secret]);
    assert.deepEqual(await list('q=t-77'), [ids.secret]);
    assert.deepEqual(await list('from=2001-01-01&to=2001-01-02'), []);
  });

  test('the cursor pages through every row once, in order', async () => {
    const single = (await ok('/logs', { token: adminA })).data.map((l: Json) => l.request_id);
    const { rows, pages } = await walk('', adminA, 3);
    assert.equal(pages, 3);
    assert.deepEqual(rows.map((r) => r.request_id), single);
  });

  test('exports: JSON Lines and CSV of every matching row, as files', async () => {
    const listed = (await ok(`/logs?key_id=${plain.id}`, { token: adminA })).data;
    const jsonl = await call(`/logs/export?format=jsonl&key_id=${plain.id}`, { token: adminA });
    assert.equal(jsonl.status, 200);
    assert.equal(jsonl.headers['content-type'], 'application/x-ndjson');
    assert.match(String(jsonl.headers['content-disposition']), new RegExp(`^attachment; filename="request-logs-${orgA.id}-\\d{4}-\\d\\d-\\d\\d-\\d{4}-\\d\\d-\\d\\d\\.jsonl"$`));
    assert.deepEqual(jsonl.text.trimEnd().split('\n').map((line) => JSON.parse(line)), listed);

    const csv = await call(`/logs/export?format=csv&key_id=${plain.id}`, { token: adminA });
    assert.equal(csv.status, 200);
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(String(csv.headers['content-disposition']), /\.csv"$/);
    const [header, ...rows] = parseCsv(csv.text);
    assert.equal(header![0], 'request_id');
    assert.deepEqual(rows.map((r) => r[0]), listed.map((l: Json) => l.request_id));
    const col = (name: string) => header!.indexOf(name);
    const fallbackRow = rows.find((r) => r[0] === ids.fallback)!;
    assert.deepEqual(JSON.parse(fallbackRow[col('route')]!), listed.find((l: Json) => l.request_id === ids.fallback).route);
    assert.equal(fallbackRow[col('status')], '200');
    const failedRow = rows.find((r) => r[0] === ids.failed)!;
    assert.equal(failedRow[col('error_message')], listed.find((l: Json) => l.request_id === ids.failed).error_message);

    const all = await call('/logs/export', { token: adminA });
    assert.equal(all.text.trimEnd().split('\n').length, 8, 'JSON Lines by default, everything matching');
  });

  test('captured bodies: request and response for a key or team with log_payloads, secrets masked; none without', async () => {
    const secret = await ok(`/logs/${ids.secret}`, { token: adminA });
    const payload = secret.payload;
    assert.ok(payload, 'captured');
    assert.ok(!payload.request_body.includes(SECRET), 'the planted key is masked');
    assert.match(payload.request_body, /Tell me about keys\. Mine is \[REDACTED\]\./);
    assert.deepEqual(JSON.parse(payload.request_body).metadata, { customer: 'acme-42' });
    assert.equal(JSON.parse(payload.response_body).object, 'chat.completion');
    assert.deepEqual([payload.request_truncated, payload.response_truncated], [false, false]);

    const stream = (await ok(`/logs/${ids.stream}`, { token: adminA })).payload;
    assert.match(stream.response_body, /^data: \{/);
    assert.match(stream.response_body, /data: \[DONE\]\n\n$/);
    const streamed = stream.response_body
      .split('\n\n')
      .filter((e: string) => e.startsWith('data: {'))
      .map((e: string) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    assert.equal(streamed, 'Echo: stream it');

    assert.equal((await ok(`/logs/${ids.plain1}`, { token: adminA })).payload, null, 'a key without log_payloads: nothing captured');
    assert.equal((await ok(`/logs/${ids.red}`, { token: adminA })).payload, null, 'before its team turned capture on');
    assert.match((await ok(`/logs/${ids.redCaptured}`, { token: adminA })).payload.request_body, /from red, captured/);
  });

  test("tenant isolation: another organization's admin cannot list, export or fetch one of its records", async () => {
    const own = await ok('/logs', { token: adminB });
    assert.deepEqual(own.data.map((l: Json) => l.request_id), [ids.green]);
    await refused(`/logs?org_id=${orgA.id}`, 404, adminB);
    await refused(`/logs/export?org_id=${orgA.id}`, 404, adminB);
    await refused(`/logs/${ids.secret}`, 404, adminB);
    await refused(`/logs/${ids.secret}?org_id=${orgA.id}`, 404, adminB);
    const exported = await call('/logs/export?format=csv', { token: adminB });
    assert.deepEqual(parseCsv(exported.text).slice(1).map((r) => r[0]), [ids.green]);
    assert.equal((await ok(`/logs?key_id=${plain.id}`, { token: adminB })).data.length, 0, "another organization's key finds nothing");

    // The master key names the organization.
    await refused('/logs', 400, MASTER, 'org_id');
    assert.equal((await ok(`/logs?org_id=${orgB.id}`)).data.length, 1);

    // A team-scoped person: their teams' records only; others' are not found.
    const redAdmin = await idp.sign({ sub: randomUUID(), switchboard_role: 'team_admin', switchboard_org: orgA.id, teams: ['red'] });
    assert.deepEqual((await ok('/logs', { token: redAdmin })).data.map((l: Json) => l.request_id), [ids.redCaptured, ids.red]);
    await refused(`/logs/${ids.plain1}`, 404, redAdmin);
    await refused(`/logs?team_id=${randomUUID().slice(0, 8)}`, 403, redAdmin);
  });

  test("a request sent with its own x-request-id is logged under that id and a suffix, and found by it URL-encoded", async () => {
    await chat(greenKey, 'traced', {}, { 'x-request-id': 'client-trace-1' });
    let row: Json | undefined;
    for (let i = 0; i < 200 && !row; i++) {
      row = (await ok('/logs', { token: adminB })).data.find((l: Json) => l.request_id.startsWith('client-trace-1/'));
      if (!row) await sleep(50);
    }
    assert.ok(row, 'logged');
    const one = await ok(`/logs/${encodeURIComponent(row.request_id)}`, { token: adminB });
    assert.equal(one.request_id, row.request_id);
  });

  test('bad input is a 400 naming the parameter', async () => {
    await refused('/logs?status=abc', 400, adminA, 'status');
    await refused('/logs?status=600', 400, adminA, 'status');
    await refused('/logs?limit=5000', 400, adminA, 'limit');
    await refused('/logs?cursor=not-a-cursor', 400, adminA, 'cursor');
    await refused('/logs?from=2030-01-02&to=2030-01-01', 400, adminA, 'from');
    await refused('/logs?to=yesterday', 400, adminA, 'to');
    await refused('/logs/export?format=xml', 400, adminA, 'format');
  });
});
