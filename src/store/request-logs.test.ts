// The request log's repository, run like store.test.ts against SQLite (in memory, and in a file, where records are
// inserted by the usage insert thread) and PostgreSQL (a fresh schema, dropped after; skipped with the reason when no
// server answers on 127.0.0.1:5432): the detail and captured bodies written with the usage records, filters, the
// cursor through ties in time, exports, tenant isolation, and pruning by age and by count.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { storeBackends } from '../../test/helpers/store-backends.ts';
import { usageRecordFixture } from '../../test/helpers/usage-record.ts';
import { parseCsv } from '../../test/helpers/csv.ts';
import { exportText, CSV_COLUMNS } from '../request-logs/export.ts';
import { parseRecord } from '../usage/ledger/journal.ts';
import type { UsageRecord } from '../usage/record.ts';
import { openDatabase, type Database } from './db.ts';
import { migrate } from './migrate.ts';
import type { LogQuery, RequestLog } from './repositories/request-logs.ts';
import { Store, type TenantStore } from './store.ts';

const BACKENDS = await storeBackends('request-logs');

const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

/** A record of `org` with the request log's detail, at `time`. */
function logged(org: string, time: string, extra: Partial<UsageRecord> = {}): UsageRecord {
  return usageRecordFixture({
    org_id: org,
    time,
    operation: 'chat',
    stream: false,
    error_type: null,
    error_code: null,
    error_message: null,
    strategy: 'fallback',
    failed_attempts: null,
    client_ip: '127.0.0.1',
    client_metadata: null,
    metadata_header: null,
    payload: null,
    ...extra,
  });
}

const RANGE = { from: '2030-01-01T00:00:00.000Z', to: '2030-02-01T00:00:00.000Z' };

for (const backend of BACKENDS) {
  describe(`request logs on ${backend.name}`, { skip: backend.skip }, () => {
    let database: Database;
    let store: Store;

    before(async () => {
      database = openDatabase(backend.url);
      await migrate(database);
      store = new Store(database);
    });
    after(async () => {
      await store?.close();
      await backend.cleanup();
    });

    async function newOrg(): Promise<TenantStore> {
      const org = await store.organizations.create({ name: unique('org') });
      return store.tenant(org.id);
    }

    const list = (t: TenantStore, query: Partial<LogQuery> = {}) => t.logs.list({ ...RANGE, limit: 1000, ...query });
    const ids = (logs: RequestLog[]) => logs.map((l) => l.request_id);

    test('a record is stored with its detail: failure, route, client address and metadata; captured bodies beside it', async () => {
      const t = await newOrg();
      const failed = logged(t.orgId, '2030-01-10T10:00:00.000Z', {
        status: 502,
        attempts: 3,
        provider: 'anthropic',
        provider_model: 'claude',
        stream: true,
        error_type: 'upstream_error',
        error_code: 'bad_gateway',
        error_message: `broken\0 ${'x'.repeat(5000)}`,
        failed_attempts: [
          { target: 'openai/gpt-4o', status: null, code: 'circuit_open' },
          { target: 'azure/gpt-4o', status: 429, code: 'rate_limit_exceeded' },
          { target: 'azure/gpt-4o', status: 500, code: null },
        ],
        client_ip: '10.0.0.9',
        client_metadata: { user: 'u1', note: 'nul\0 in text' },
        metadata_header: '{"trace":"t-1"}',
        payload: { request_body: '{"model":"m"}', response_body: null, request_truncated: false, response_truncated: true },
      });
      const answered = logged(t.orgId, '2030-01-10T11:00:00.000Z', { attempts: 2, failed_attempts: [{ target: 'openai/gpt-4o', status: 503, code: null }] });
      assert.equal(await store.usage.insertMany([failed, answered]), 2);
      assert.equal(await store.usage.insertMany([failed]), 0, 'a replayed record is written once, its bodies too');

      const one = await t.logs.get(failed.request_id);
      assert.ok(one);
      assert.equal(one.error_message!.length, 2000, 'the message is cut to a sane length');
      assert.ok(one.error_message!.startsWith('broken x'), 'NUL, which PostgreSQL refuses, is dropped');
      assert.deepEqual(
        { ...one, error_message: undefined },
        {
          request_id: failed.request_id,
          time: '2030-01-10T10:00:00.000Z',
          org_id: t.orgId,
          team_id: null,
          user_id: null,
          key_id: null,
          surface: 'openai',
          operation: 'chat',
          stream: true,
          model: 'smart',
          provider: 'anthropic',
          provider_model: 'claude',
          status: 502,
          attempts: 3,
          error_type: 'upstream_error',
          error_code: 'bad_gateway',
          error_message: undefined,
          route: {
            strategy: 'fallback',
            steps: [
              { target: 'openai/gpt-4o', status: null, code: 'circuit_open' },
              { target: 'azure/gpt-4o', status: 429, code: 'rate_limit_exceeded' },
              { target: 'azure/gpt-4o', status: 500, code: null },
              // Three attempts, two of them failures noted: the third failed after it began, as the record's status says.
              { target: 'anthropic/claude', status: 502, code: 'bad_gateway' },
            ],
          },
          input_tokens: 10,
          output_tokens: 5,
          cached_tokens: 0,
          cache_write_tokens: 0,
          reasoning_tokens: 0,
          cost_usd: 0.0001,
          priced: true,
          latency_ms: 12.5,
          ttft_ms: null,
          cache_hit: false,
          estimated: false,
          client_ip: '10.0.0.9',
          metadata: { user: 'u1', note: 'nul\0 in text', trace: 't-1' },
          payload: { request_body: '{"model":"m"}', response_body: null, request_truncated: false, response_truncated: true },
        },
      );
      const ok = await t.logs.get(answered.request_id);
      assert.deepEqual(ok?.route, {
        strategy: 'fallback',
        steps: [
          { target: 'openai/gpt-4o', status: 503, code: null },
          { target: 'openai/gpt-4o-mini', status: 200, code: null },
        ],
      });
      assert.equal(ok?.payload, null);
    });

    test('a record journaled by an earlier version, without the detail, is still written: its detail is null', async () => {
      const t = await newOrg();
      const old = usageRecordFixture({ org_id: t.orgId, time: '2030-01-11T00:00:00.000Z' });
      const replayed = parseRecord(JSON.stringify(old));
      assert.ok(replayed, 'the journal reads the old line');
      assert.equal(await store.usage.insertMany([replayed]), 1);
      const row = await t.logs.get(old.request_id);
      assert.deepEqual(
        [row?.operation, row?.stream, row?.error_type, row?.route, row?.client_ip, row?.metadata, row?.payload],
        [null, null, null, null, null, null, null],
      );
    });

    test('filters: key, team, user, model, provider, status and class, errors by kind, free text, time range', async () => {
      const t = await newOrg();
      const at = (h: number) => `2030-01-12T${String(h).padStart(2, '0')}:00:00.000Z`;
      const records = [
        logged(t.orgId, at(1), { key_id: 'key_a', team_id: 'team_red', model: 'fast', provider: 'openai' }),
        logged(t.orgId, at(2), { key_id: 'key_b', team_id: 'team_blue', user_id: 'usr_1', model: 'smart', provider: 'anthropic', status: 429, error_type: 'rate_limit_error', error_code: 'rate_limit_exceeded', error_message: 'Slow Down please' }),
        logged(t.orgId, at(3), { key_id: 'key_b', user_id: 'usr_1', status: 503, error_type: 'upstream_error', error_code: 'circuit_open', error_message: 'all open' }),
        logged(t.orgId, at(4), { key_id: 'key_a', client_metadata: { customer: 'ACME-42', path: '100%_done' } }),
        logged(t.orgId, at(5), { status: 400, error_type: 'invalid_request_error', error_code: null, error_message: 'bad' }),
      ];
      await store.usage.insertMany(records);
      const r = (i: number) => records[i]!.request_id;
      const expect = async (query: Partial<LogQuery>, indexes: number[]) => assert.deepEqual(ids((await list(t, query)).items), indexes.map(r), JSON.stringify(query));

      await expect({}, [4, 3, 2, 1, 0]);
      await expect({ key_id: 'key_a' }, [3, 0]);
      await expect({ team_id: 'team_blue' }, [1]);
      await expect({ user_id: 'usr_1' }, [2, 1]);
      await expect({ model: 'fast' }, [0]);
      await expect({ provider: 'anthropic' }, [1]);
      await expect({ status: { min: 429, max: 429 } }, [1]);
      await expect({ status: { min: 500, max: 599 } }, [2]);
      await expect({ status: { min: 400, max: 499 } }, [4, 1]);
      await expect({ error: true }, [4, 2, 1]);
      await expect({ error: false }, [3, 0]);
      await expect({ error: 'rate_limit_error' }, [1]);
      await expect({ error: 'circuit_open' }, [2]);
      await expect({ q: 'acme-42' }, [3]);
      await expect({ q: 'slow down' }, [1]);
      await expect({ q: '%_d' }, [3]);
      await expect({ q: '%' }, [3]);
      await expect({ q: 'nothing like it' }, []);
      await expect({ from: at(2), to: at(4) }, [2, 1]);
      await expect({ key_id: 'key_b', error: 'upstream_error' }, [2]);
      // Team-scoped callers: their teams' records and their own only; nothing at all without either.
      await expect({ visible: { team_ids: ['team_red'], user_id: 'usr_1' } }, [2, 1, 0]);
      await expect({ visible: { team_ids: [], user_id: null } }, []);
    });

    test('the cursor walks pages newest first, through ties in time, skipping and repeating nothing', async () => {
      const t = await newOrg();
      // 23 records over 4 distinct times: most pages end in the middle of a tie.
      const records = Array.from({ length: 23 }, (_, i) => logged(t.orgId, `2030-01-13T00:00:0${i % 4}.000Z`));
      await store.usage.insertMany(records);
      const expected = [...records].sort((a, b) => (a.time === b.time ? (a.request_id < b.request_id ? 1 : -1) : a.time < b.time ? 1 : -1)).map((r) => r.request_id);
      const seen: string[] = [];
      let after: LogQuery['after'];
      let pages = 0;
      do {
        const page = await list(t, { limit: 4, after });
        seen.push(...ids(page.items));
        after = page.next ?? undefined;
        pages++;
      } while (after);
      assert.equal(pages, 6);
      assert.deepEqual(seen, expected);
      const exact = await list(t, { limit: 23 });
      assert.equal(exact.next, null, 'a page that ends with the last row says there is no more');
    });

    test('an export pages through every row and writes JSON Lines or CSV that read back as the rows', async () => {
      const t = await newOrg();
      const records = Array.from({ length: 11 }, (_, i) =>
        logged(t.orgId, `2030-01-14T00:00:0${i % 3}.000Z`, { error_message: i === 0 ? 'quote " comma , and\r\nnewline' : null, client_metadata: { i } }),
      );
      await store.usage.insertMany(records);
      let reads = 0;
      const query = { ...RANGE, limit: 3 };
      const next = (after: NonNullable<LogQuery['after']>) => {
        reads++;
        return t.logs.list({ ...query, after });
      };
      const collect = async (format: 'jsonl' | 'csv') => {
        let text = '';
        for await (const piece of exportText(format, await t.logs.list(query), next)) text += piece;
        return text;
      };
      const all = (await list(t)).items;
      const jsonl = await collect('jsonl');
      assert.equal(reads, 3, 'pages of 3: the first read before, three more while writing');
      assert.deepEqual(jsonl.trimEnd().split('\n').map((line) => JSON.parse(line)), JSON.parse(JSON.stringify(all)));
      const csv = parseCsv(await collect('csv'));
      assert.equal(reads, 6, 'the CSV pages the same way');
      assert.deepEqual(csv[0], [...CSV_COLUMNS]);
      assert.equal(csv.length, 12);
      const first = all.find((l) => l.error_message !== null)!;
      const row = csv.find((r) => r[0] === first.request_id)!;
      const cell = (c: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(c)];
      assert.deepEqual([cell('error_message'), cell('metadata'), cell('stream'), cell('team_id'), JSON.parse(cell('route')!)], [first.error_message, '{"i":0}', 'false', '', first.route]);
    });

    test("tenant isolation: an organization never lists or gets another's rows or bodies", async () => {
      const a = await newOrg();
      const b = await newOrg();
      const mine = logged(a.orgId, '2030-01-15T00:00:00.000Z', { payload: { request_body: 'secret-of-a', response_body: 'x', request_truncated: false, response_truncated: false } });
      const theirs = logged(b.orgId, '2030-01-15T00:00:00.000Z');
      await store.usage.insertMany([mine, theirs]);
      assert.deepEqual(ids((await list(a)).items), [mine.request_id]);
      assert.deepEqual(ids((await list(b)).items), [theirs.request_id]);
      assert.equal(await b.logs.get(mine.request_id), undefined);
      assert.equal((await a.logs.get(mine.request_id))?.payload?.request_body, 'secret-of-a');
    });

    test('pruning by age deletes older rows and their bodies in batches, and again finds nothing', async () => {
      const t = await newOrg();
      const body = { request_body: 'b', response_body: 'r', request_truncated: false, response_truncated: false };
      const old = Array.from({ length: 7 }, (_, i) => logged(t.orgId, `2001-01-01T00:00:0${i}.000Z`, { payload: body }));
      const recent = logged(t.orgId, '2001-02-01T00:00:00.000Z', { payload: body });
      await store.usage.insertMany([...old, recent]);
      const range = { from: '2000-01-01T00:00:00.000Z', to: '2002-01-01T00:00:00.000Z' };
      assert.equal(await store.requestLogs.pruneOlderThan('2001-01-15T00:00:00.000Z', 3), 7);
      assert.deepEqual(ids((await list(t, range)).items), [recent.request_id]);
      assert.equal(await store.requestLogs.pruneOlderThan('2001-01-15T00:00:00.000Z', 3), 0, 'pruning twice is harmless');
      const payloads = await database.db.selectFrom('request_payloads').select('request_id').where('request_id', 'in', [...old, recent].map((r) => r.request_id)).execute();
      assert.deepEqual(payloads.map((p) => p.request_id), [recent.request_id], 'the bodies of deleted rows went with them');
    });

    test('pruning by count keeps the newest rows, ties in time broken by request id', async () => {
      // Across organizations: clear what the other tests left, so the count is this test's alone.
      await store.requestLogs.pruneOlderThan('9999-01-01T00:00:00.000Z');
      const t = await newOrg();
      const body = { request_body: 'b', response_body: null, request_truncated: false, response_truncated: false };
      const records = Array.from({ length: 10 }, (_, i) => logged(t.orgId, `2030-01-16T00:00:0${Math.floor(i / 3)}.000Z`, { payload: body }));
      await store.usage.insertMany(records);
      const newest = (await list(t)).items.slice(0, 4).map((l) => l.request_id);
      assert.equal(await store.requestLogs.pruneBeyond(4, 2), 6);
      assert.deepEqual(ids((await list(t)).items), newest);
      assert.equal(await store.requestLogs.pruneBeyond(4, 2), 0);
      assert.equal(await store.requestLogs.pruneBeyond(100), 0, 'fewer rows than the cap: nothing to do');
      const payloads = await database.db.selectFrom('request_payloads').select('request_id').execute();
      assert.deepEqual(payloads.map((p) => p.request_id).sort(), [...newest].sort());
    });
  });
}
