// Budget alerts against a local HTTP server standing in for the webhooks: which thresholds go out, that two instances
// sharing one kv send each once (MemoryKv on one MemoryStore; Redis on 127.0.0.1:6379 too, skipped saying why when
// none answers), the Slack body, and retries.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MemoryKv, MemoryStore } from '../store/kv/memory.ts';
import { RedisKv } from '../store/kv/redis.ts';
import type { Kv } from '../store/kv/index.ts';
import { BudgetAlerts, type BudgetAlertsOptions } from './alerts.ts';
import type { BudgetRule } from './rules.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

let server: Server;
let base = '';
const received: Received[] = [];
/** Statuses to answer with, per path, in turn; 200 once they run out. */
const script = new Map<string, number[]>();

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) });
      res.statusCode = script.get((req.url ?? '').split('?')[0]!)?.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const kvs: Kv[] = [];
after(() => Promise.all(kvs.map((kv) => kv.close())));

function memoryKv(store = new MemoryStore()): MemoryKv {
  const kv = new MemoryKv({ store, namespace: `alerts-${randomUUID()}` });
  kvs.push(kv);
  return kv;
}

const warnings: { fields: Record<string, unknown>; message: string }[] = [];
const logger = { warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }) } as BudgetAlertsOptions['logger'];

function alerts(options: Partial<BudgetAlertsOptions> = {}): BudgetAlerts {
  return new BudgetAlerts({ kv: memoryKv(), webhooks: [], logger, backoffMs: 1, now: () => Date.parse('2030-01-15T12:00:00Z'), ...options });
}

/** A fresh path per test, so what one test's server saw is told apart from another's. */
const path = (label: string) => `/${label}-${randomUUID()}`;
const at = (p: string) => received.filter((r) => r.path === p || r.path.startsWith(`${p}?`));

function budget(fields: Partial<BudgetRule> = {}): BudgetRule {
  return {
    id: `bud_${randomUUID()}`,
    org_id: 'org_1',
    scope: 'team',
    subject_id: 'team_1',
    amount_usd: 10,
    period: 'monthly',
    window: 'calendar',
    enforcement: 'hard',
    alert_thresholds: [50, 80, 100],
    webhook_url: null,
    webhook_format: 'json',
    ...fields,
  };
}

const JAN = Date.parse('2030-01-01T00:00:00Z');
const FEB = Date.parse('2030-02-01T00:00:00Z');

describe('budget alerts', () => {
  test('each threshold goes out once per period, when spend passes it, with the full JSON body', async () => {
    const hook = path('json');
    const a = alerts({ webhooks: [{ url: base + hook, format: 'json', headers: { authorization: 'Bearer hook-token' } }] });
    const b = budget();
    a.crossed(b, JAN, 0, 4.99);
    a.crossed(b, JAN, 4.99, 5);
    await a.settled();
    assert.deepEqual(at(hook).map((r) => r.body.threshold_percent), [50], 'exactly at 50% counts as past it');
    a.crossed(b, JAN, 5, 10.5);
    await a.settled();
    assert.deepEqual(at(hook).map((r) => r.body.threshold_percent).sort(), [100, 50, 80]);
    // Spend given back and taken again (a reservation settled lower, then another request) does not repeat them.
    a.crossed(b, JAN, 7, 9);
    a.crossed(b, JAN, 9.5, 12);
    await a.settled();
    assert.equal(at(hook).length, 3);
    a.crossed(b, FEB, 0, 6);
    await a.settled();
    assert.equal(at(hook).length, 4, 'a new period alerts again');

    const first = at(hook)[0]!;
    assert.equal(first.headers.authorization, 'Bearer hook-token', "the configured webhook's headers are sent");
    assert.equal(first.headers['content-type'], 'application/json');
    assert.deepEqual(first.body, {
      type: 'budget.threshold',
      budget_id: b.id,
      org_id: 'org_1',
      scope: 'team',
      subject_id: 'team_1',
      period: 'monthly',
      window: 'calendar',
      period_start: '2030-01-01T00:00:00.000Z',
      threshold_percent: 50,
      amount_usd: 10,
      spent_usd: 5,
      enforcement: 'hard',
      time: '2030-01-15T12:00:00.000Z',
    });
  });

  test('two instances sharing one kv send one alert per threshold between them', async () => {
    const hook = path('shared');
    const store = new MemoryStore();
    const namespace = `alerts-${randomUUID()}`;
    const [kv1, kv2] = [new MemoryKv({ store, namespace }), new MemoryKv({ store, namespace })];
    kvs.push(kv1, kv2);
    const webhooks = [{ url: base + hook, format: 'json' as const, headers: {} }];
    const [one, two] = [alerts({ kv: kv1, webhooks }), alerts({ kv: kv2, webhooks })];
    const b = budget();
    one.crossed(b, JAN, 0, 9);
    two.crossed(b, JAN, 0, 9);
    two.crossed(b, JAN, 8.5, 10);
    one.crossed(b, JAN, 8.5, 10);
    await Promise.all([one.settled(), two.settled()]);
    assert.deepEqual(at(hook).map((r) => r.body.threshold_percent).sort(), [100, 50, 80]);
  });

  test("the budget's own webhook gets its format (slack: one readable line), besides the configured ones", async () => {
    const configured = path('configured');
    const own = path('own');
    const a = alerts({ webhooks: [{ url: base + configured, format: 'json', headers: {} }] });
    const b = budget({ amount_usd: 200, period: 'daily', enforcement: 'soft', alert_thresholds: [75], webhook_url: `${base}${own}?token=s3cr3t`, webhook_format: 'slack' });
    a.crossed(b, Date.parse('2030-01-15T00:00:00Z'), 149, 150.25);
    await a.settled();
    assert.equal(at(configured)[0]?.body.type, 'budget.threshold');
    const slack = at(own);
    assert.equal(slack.length, 1);
    assert.deepEqual(Object.keys(slack[0]!.body), ['text']);
    assert.equal(
      slack[0]!.body.text,
      `Switchboard budget alert: team team_1 has spent $150.25 this day (since 2030-01-15 UTC), past 75% of its $200.00 daily budget ${b.id} (soft budget: alerts only).`,
    );
  });

  test('a 5xx is retried with backoff until it goes through; a 4xx is not retried; failures are logged with the origin only', async () => {
    const flaky = path('flaky');
    const refusing = path('refusing');
    const down = path('down');
    script.set(flaky, [500, 503]);
    script.set(refusing, [404]);
    script.set(down, [500, 500, 500]);
    const a = alerts({
      retries: 2,
      webhooks: [
        { url: base + flaky, format: 'json', headers: {} },
        { url: base + refusing, format: 'json', headers: {} },
      ],
    });
    const b = budget({ alert_thresholds: [100], webhook_url: `${base}${down}?token=s3cr3t` });
    warnings.length = 0;
    a.crossed(b, JAN, 9, 11);
    await a.settled();
    assert.equal(at(flaky).length, 3, 'two failures, then delivered');
    assert.equal(at(refusing).length, 1);
    assert.equal(at(down).length, 3, 'one attempt and two retries');
    const failures = warnings.filter((w) => w.message === 'budget alert webhook failed');
    assert.deepEqual(failures.map((w) => [w.fields.problem, w.fields.attempts]).sort(), [
      ['HTTP 404', 1],
      ['HTTP 500', 3],
    ]);
    for (const w of failures) assert.equal(w.fields.webhook, base);
    assert.ok(!JSON.stringify(warnings).includes('s3cr3t'), 'no token in the log');
    assert.ok(!JSON.stringify(warnings).includes(down), 'no path in the log');
  });

  test('an unreachable webhook is retried, then logged; crossed() itself never throws', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const a = alerts({ retries: 1, webhooks: [{ url: `http://127.0.0.1:${port}/hook?key=s3cr3t`, format: 'json', headers: {} }] });
    warnings.length = 0;
    assert.doesNotThrow(() => a.crossed(budget({ alert_thresholds: [10] }), JAN, 0, 5));
    assert.doesNotThrow(() => a.crossed(budget({ alert_thresholds: [10] }), Number.NaN, 0, 5));
    await a.settled();
    const failed = warnings.find((w) => w.message === 'budget alert webhook failed');
    assert.equal(failed?.fields.attempts, 2);
    assert.match(String(failed?.fields.problem), /ECONNREFUSED/);
    assert.ok(warnings.some((w) => w.message === 'budget alert not sent'), 'an alert that cannot even be built is logged');
    assert.ok(!JSON.stringify(warnings).includes('s3cr3t'));
  });

  test('a kv that fails does not stop the alert (sent without deduplication, and logged)', async () => {
    const hook = path('nokv');
    const broken = { incrBy: async () => Promise.reject(new Error('kv down')) };
    const a = alerts({ kv: broken, webhooks: [{ url: base + hook, format: 'json', headers: {} }] });
    warnings.length = 0;
    a.crossed(budget({ alert_thresholds: [50] }), JAN, 0, 6);
    await a.settled();
    assert.equal(at(hook).length, 1);
    assert.ok(warnings.some((w) => /kv is unreachable/.test(w.message)));
  });
});

const REDIS_URL = 'redis://127.0.0.1:6379';
async function redisKv(namespace: string): Promise<RedisKv | string> {
  try {
    return await RedisKv.connect(REDIS_URL, { namespace, redis: { retryStrategy: () => null } });
  } catch (error) {
    return `Redis not reachable on 127.0.0.1:6379: ${(error as Error).message}`;
  }
}

describe('budget alerts on Redis', () => {
  test('two instances on one Redis send one alert per threshold between them', async (t) => {
    const namespace = `alerts-${randomUUID()}`;
    const [kv1, kv2] = [await redisKv(namespace), await redisKv(namespace)];
    for (const kv of [kv1, kv2]) if (typeof kv !== 'string') kvs.push(kv);
    if (typeof kv1 === 'string' || typeof kv2 === 'string') {
      t.skip(String(typeof kv1 === 'string' ? kv1 : kv2));
      return;
    }
    const hook = path('redis');
    const webhooks = [{ url: base + hook, format: 'json' as const, headers: {} }];
    const [one, two] = [alerts({ kv: kv1, webhooks }), alerts({ kv: kv2, webhooks })];
    const b = budget();
    for (let i = 0; i < 5; i++) {
      one.crossed(b, JAN, 0, 10);
      two.crossed(b, JAN, 0, 10);
    }
    await Promise.all([one.settled(), two.settled()]);
    assert.deepEqual(at(hook).map((r) => r.body.threshold_percent).sort(), [100, 50, 80]);
    // The marks outlive the period by design; this run's are of no use to anyone after it.
    for (const threshold of b.alert_thresholds) assert.equal(await kv1.del(`budget-alert:${b.id}:${JAN}:${threshold}`), true);
  });
});
