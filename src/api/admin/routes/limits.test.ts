// The rate limit and budget routes, run in process the way the CLI runs them (validation, role checks, audit records,
// cache invalidation) over a SQLite store in memory.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../../../core/errors.ts';
import { platformActor, type Actor } from '../../../identity/rbac.ts';
import { Keyring, SecretBox } from '../../../identity/secrets.ts';
import { openStore, type Store, type TenantStore } from '../../../store/store.ts';
import type { OrgRole, TeamRole } from '../../../store/types.ts';
import { invoke, type AdminDeps, type RawInput } from '../route.ts';
import { routeById } from './index.ts';

type Json = Record<string, any>;

let store: Store;
let deps: AdminDeps;
const invalidated: string[] = [];

let org: TenantStore;
let other: TenantStore;
let red: Json, blue: Json, ann: Json, redKey: Json, annKey: Json, blueKey: Json;

before(async () => {
  store = await openStore({ storage: { database: 'sqlite::memory:' } });
  const keyring = new Keyring('limits-routes-secret-0123456789abcdef', []);
  deps = {
    store,
    keyring,
    secrets: new SecretBox(keyring),
    keyAuth: {
      invalidate: async (keyId: string) => void invalidated.push(keyId),
      invalidateAll: async () => void invalidated.push('*'),
    },
    credentials: { invalidate: async () => {} },
    config: { providers: new Map() },
  };
  org = store.tenant((await store.organizations.create({ name: 'acme' })).id);
  other = store.tenant((await store.organizations.create({ name: 'other' })).id);
  red = await org.teams.create({ name: 'red' });
  blue = await org.teams.create({ name: 'blue' });
  ann = await org.users.create({ email: 'ann@acme.test', role: 'member' });
  await org.memberships.create({ team_id: red.id, user_id: ann.id, role: 'member' });
  redKey = await org.keys.create({ name: 'red', key_hash: 'h-red', key_prefix: 'sk-sb-r', team_id: red.id, created_by: 'master' });
  annKey = await org.keys.create({ name: 'ann', key_hash: 'h-ann', key_prefix: 'sk-sb-a', user_id: ann.id, created_by: 'master' });
  blueKey = await org.keys.create({ name: 'blue', key_hash: 'h-blue', key_prefix: 'sk-sb-b', team_id: blue.id, created_by: 'master' });
});
after(() => store.close());

const MASTER = platformActor('master');
const person = (role: OrgRole, teams: Record<string, TeamRole> = {}, user_id: string | null = null, orgId = org.orgId): Actor => ({
  id: user_id ?? `oidc:${role}`,
  org_id: orgId,
  role,
  user_id,
  teams: new Map(Object.entries(teams)),
});

function run(operationId: string, input: RawInput, actor: Actor = MASTER): Promise<Json> {
  return invoke(routeById(operationId), deps, actor, input, 'req-test') as Promise<Json>;
}

async function refused(promise: Promise<unknown>, status: number, message?: RegExp): Promise<GatewayError> {
  const err = await promise.then(
    () => assert.fail(`expected ${status}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayError, String(err));
  assert.equal(err.status, status, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

const params = (extra: Json = {}) => ({ org_id: org.orgId, ...extra });

describe('rate limit routes', () => {
  test('create for each scope (org without subject_id), one per subject, PATCH replaces the values, DELETE; audited, caches dropped', async () => {
    invalidated.length = 0;
    const orgLimit = await run('createLimit', { params: params(), body: { scope: 'org', limits: { requests_per_minute: 600 } } });
    assert.deepEqual([orgLimit.scope, orgLimit.subject_id, orgLimit.limits], ['org', org.orgId, { requests_per_minute: 600, on_limit: 'reject' }]);
    const keyLimit = await run('createLimit', {
      params: params(),
      body: { scope: 'key', subject_id: redKey.id, limits: { tokens_per_minute: 10_000, on_limit: 'queue', queue_ms: 500 } },
    });
    const teamLimit = await run('createLimit', { params: params(), body: { scope: 'team', subject_id: red.id, limits: { max_concurrent: 4 } } });
    assert.deepEqual(invalidated, ['*', redKey.id, '*'], "a key's limit drops that key; others drop every key");

    await refused(run('createLimit', { params: params(), body: { scope: 'team', subject_id: red.id, limits: { max_concurrent: 5 } } }), 409, /already exists/);
    const list = await run('listLimits', { params: params(), query: { scope: 'key' } });
    assert.deepEqual(list.items.map((l: Json) => l.id), [keyLimit.id]);
    assert.deepEqual((await run('listLimits', { params: params(), query: { subject_id: red.id } })).items.map((l: Json) => l.id), [teamLimit.id]);

    invalidated.length = 0;
    const patched = await run('updateLimit', { params: params({ limit_id: keyLimit.id }), body: { limits: { requests_per_second: 3 } } });
    assert.deepEqual(patched.limits, { requests_per_second: 3, on_limit: 'reject' }, 'the values are replaced as a whole');
    assert.equal(patched.subject_id, redKey.id);
    assert.deepEqual(await run('getLimit', { params: params({ limit_id: keyLimit.id }) }), patched);
    assert.deepEqual(await run('deleteLimit', { params: params({ limit_id: orgLimit.id }) }), { id: orgLimit.id, deleted: true });
    await refused(run('getLimit', { params: params({ limit_id: orgLimit.id }) }), 404);
    assert.deepEqual(invalidated, [redKey.id, '*']);

    const audit = (await org.audit.list({ target_type: 'limit' })).items;
    assert.deepEqual(audit.map((r) => r.action).sort(), ['limit.create', 'limit.create', 'limit.create', 'limit.delete', 'limit.update']);
    const update = audit.find((r) => r.action === 'limit.update')!;
    assert.deepEqual([(update.before as Json).limits.tokens_per_minute, (update.after as Json).limits.requests_per_second, update.request_id], [10_000, 3, 'req-test']);
    await run('deleteLimit', { params: params({ limit_id: keyLimit.id }) });
    await run('deleteLimit', { params: params({ limit_id: teamLimit.id }) });
  });

  test('bodies are validated: at least one metric, queue needs queue_ms, a subject of the scope in this organization', async () => {
    const create = (body: Json) => run('createLimit', { params: params(), body });
    await refused(create({ scope: 'org', limits: { on_limit: 'reject' } }), 400, /at least one of requests_per_second/);
    await refused(create({ scope: 'org', limits: { requests_per_minute: 5, on_limit: 'queue' } }), 400, /queue_ms/);
    await refused(create({ scope: 'org', limits: { requests_per_minute: -1 } }), 400, /limits.requests_per_minute/);
    await refused(create({ scope: 'org', limits: { requests_per_hour: 5 } }), 400);
    await refused(create({ scope: 'team', limits: { requests_per_minute: 5 } }), 400, /subject_id/);
    await refused(create({ scope: 'team', subject_id: ann.id, limits: { requests_per_minute: 5 } }), 400, /subject_id must name a team, user or virtual key/);
    await refused(create({ scope: 'org', subject_id: other.orgId, limits: { requests_per_minute: 5 } }), 400, /organization's id/);
    const foreignTeam = await other.teams.create({ name: 'foreign' });
    await refused(create({ scope: 'team', subject_id: foreignTeam.id, limits: { requests_per_minute: 5 } }), 400);
    await refused(run('updateLimit', { params: params({ limit_id: 'lim_missing' }), body: { limits: { requests_per_minute: 5 } } }), 404);
    assert.deepEqual((await org.rateLimits.list()).items, []);
  });

  test('roles: admins write; viewers read everything; team members read their teams\', their own and their keys\' only, and write none', async () => {
    const made: Json = {};
    for (const [name, scope, subject_id] of [
      ['org', 'org', undefined],
      ['red', 'team', red.id],
      ['blue', 'team', blue.id],
      ['ann', 'user', ann.id],
      ['redKey', 'key', redKey.id],
      ['annKey', 'key', annKey.id],
      ['blueKey', 'key', blueKey.id],
    ] as const) {
      made[name] = await run('createLimit', { params: params(), body: { scope, subject_id, limits: { requests_per_minute: 10 } } }, person('admin'));
    }
    const nameOf = (id: string) => Object.keys(made).find((n) => made[n].id === id);
    const listed = async (actor: Actor) => (await run('listLimits', { params: params() }, actor)).items.map((l: Json) => nameOf(l.id)).sort();

    assert.deepEqual(await listed(person('viewer')), Object.keys(made).sort());
    const annActor = person('member', { [red.id]: 'member' }, ann.id);
    assert.deepEqual(await listed(annActor), ['ann', 'annKey', 'red', 'redKey']);
    assert.deepEqual(await listed(person('member')), [], 'no teams and no user record: nothing');
    assert.equal((await run('getLimit', { params: params({ limit_id: made.redKey.id }) }, annActor)).id, made.redKey.id);
    await refused(run('getLimit', { params: params({ limit_id: made.org.id }) }, annActor), 404);
    await refused(run('getLimit', { params: params({ limit_id: made.blueKey.id }) }, annActor), 404);
    await refused(run('updateLimit', { params: params({ limit_id: made.red.id }), body: { limits: { requests_per_minute: 1000 } } }, person('team_admin', { [red.id]: 'team_admin' })), 403);
    await refused(run('deleteLimit', { params: params({ limit_id: made.ann.id }) }, annActor), 403);
    await refused(run('createLimit', { params: params(), body: { scope: 'user', subject_id: ann.id, limits: { requests_per_minute: 1 } } }, annActor), 403);
    await refused(run('updateLimit', { params: params({ limit_id: made.org.id }), body: { limits: { requests_per_minute: 1 } } }, person('viewer')), 403);
    await refused(run('listLimits', { params: params() }, person('admin', {}, null, other.orgId)), 404, /organization/);
    for (const limit of Object.values(made)) await run('deleteLimit', { params: params({ limit_id: (limit as Json).id }) });
  });
});

describe('budget routes', () => {
  const WEBHOOK = 'https://hooks.example.test/services/T0/B0/very-secret-token?channel=x';

  test('create, get, list, patch and delete; the webhook URL is write-only (its origin in answers and the audit log)', async () => {
    invalidated.length = 0;
    const created = await run('createBudget', {
      params: params(),
      body: { scope: 'key', subject_id: annKey.id, amount_usd: 25.5, period: 'monthly', alert_thresholds: [50, 100], webhook_url: WEBHOOK, webhook_format: 'slack' },
    });
    assert.deepEqual(
      [created.amount_usd, created.period, created.window, created.enforcement, created.alert_thresholds, created.webhook_origin, created.webhook_format],
      [25.5, 'monthly', 'calendar', 'hard', [50, 100], 'https://hooks.example.test', 'slack'],
    );
    assert.equal('webhook_url' in created, false);
    assert.equal((await org.budgets.get(created.id))?.webhook_url, WEBHOOK, 'stored whole, for the alerts');
    const daily = await run('createBudget', { params: params(), body: { scope: 'team', subject_id: red.id, amount_usd: 1, period: 'daily', window: 'rolling', enforcement: 'soft' } });
    assert.deepEqual([daily.alert_thresholds, daily.webhook_origin, daily.webhook_format], [null, null, 'json']);
    const second = await run('createBudget', { params: params(), body: { scope: 'team', subject_id: red.id, amount_usd: 20, period: 'monthly' } });
    assert.deepEqual(invalidated, [annKey.id, '*', '*']);

    assert.deepEqual((await run('listBudgets', { params: params(), query: { subject_id: red.id } })).items.map((b: Json) => b.id), [daily.id, second.id]);
    assert.deepEqual(await run('getBudget', { params: params({ budget_id: created.id }) }), created);
    const patched = await run('updateBudget', { params: params({ budget_id: created.id }), body: { amount_usd: 30, alert_thresholds: null, webhook_url: null } });
    assert.deepEqual([patched.amount_usd, patched.alert_thresholds, patched.webhook_origin, patched.period], [30, null, null, 'monthly']);
    await run('deleteBudget', { params: params({ budget_id: daily.id }) });
    await run('deleteBudget', { params: params({ budget_id: second.id }) });
    await run('deleteBudget', { params: params({ budget_id: created.id }) });

    const audit = (await org.audit.list({ target_type: 'budget' })).items;
    assert.equal(audit.length, 7);
    assert.ok(!JSON.stringify(audit).includes('very-secret-token'), 'the token is not in the audit log');
    assert.ok(JSON.stringify(audit).includes('"webhook_origin":"https://hooks.example.test"'));
  });

  test('bodies are validated: amount above 0, enums, thresholds 1-1000, http(s) webhooks, no rolling total (also after a patch)', async () => {
    const create = (body: Json) => run('createBudget', { params: params(), body: { scope: 'org', period: 'daily', amount_usd: 5, ...body } });
    await refused(create({ amount_usd: 0 }), 400, /amount_usd/);
    await refused(create({ amount_usd: '5' }), 400, /amount_usd/);
    await refused(create({ period: 'hourly' }), 400, /period/);
    await refused(create({ window: 'sliding' }), 400, /window/);
    await refused(create({ enforcement: 'strict' }), 400, /enforcement/);
    await refused(create({ alert_thresholds: [0.5] }), 400, /alert_thresholds/);
    await refused(create({ alert_thresholds: [1001] }), 400, /alert_thresholds/);
    await refused(create({ alert_thresholds: [] }), 400, /alert_thresholds/);
    await refused(create({ alert_thresholds: [50, 50] }), 400, /differ/);
    await refused(create({ webhook_url: 'ftp://hooks.example.test/x' }), 400, /webhook_url/);
    await refused(create({ webhook_url: 'not a url' }), 400, /webhook_url/);
    await refused(create({ period: 'total', window: 'rolling' }), 400, /rolling window needs a period that ends/);
    await refused(create({ scope: 'user', subject_id: red.id }), 400, /subject_id/);
    const total = await create({ period: 'total', alert_thresholds: [1, 1000] });
    await refused(run('updateBudget', { params: params({ budget_id: total.id }), body: { window: 'rolling' } }), 400, /rolling window/);
    assert.equal((await run('updateBudget', { params: params({ budget_id: total.id }), body: { window: 'rolling', period: 'weekly' } })).window, 'rolling');
    await run('deleteBudget', { params: params({ budget_id: total.id }) });
  });

  test('roles: team members see their teams\' and their own budgets only, and change none', async () => {
    const orgBudget = await run('createBudget', { params: params(), body: { scope: 'org', amount_usd: 100, period: 'monthly' } }, person('owner'));
    const redBudget = await run('createBudget', { params: params(), body: { scope: 'team', subject_id: red.id, amount_usd: 10, period: 'monthly' } }, person('admin'));
    const blueBudget = await run('createBudget', { params: params(), body: { scope: 'key', subject_id: blueKey.id, amount_usd: 10, period: 'monthly' } }, person('admin'));
    const annActor = person('member', { [red.id]: 'member' }, ann.id);
    assert.deepEqual((await run('listBudgets', { params: params() }, annActor)).items.map((b: Json) => b.id), [redBudget.id]);
    assert.equal((await run('listBudgets', { params: params() }, person('viewer'))).items.length, 3);
    await refused(run('getBudget', { params: params({ budget_id: blueBudget.id }) }, annActor), 404);
    await refused(run('updateBudget', { params: params({ budget_id: redBudget.id }), body: { amount_usd: 1000 } }, person('team_admin', { [red.id]: 'team_admin' })), 403);
    await refused(run('createBudget', { params: params(), body: { scope: 'org', amount_usd: 1, period: 'daily' } }, person('viewer')), 403);
    for (const b of [orgBudget, redBudget, blueBudget]) await run('deleteBudget', { params: params({ budget_id: b.id }) });
  });
});
