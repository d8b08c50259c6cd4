// One suite for both key-value stores: the memory store, and Redis on 127.0.0.1:6379 (skipped, saying so, when no
// Redis answers there). Each run works under its own random namespace, so parallel and repeated runs never meet.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createKv } from './index.ts';
import { MemoryKv, MemoryStore } from './memory.ts';
import { RedisKv } from './redis.ts';
import { KvClosedError, type Kv, type KvOptions } from './types.ts';
import { REDIS_URL, redisSkipReason } from '../../../test/helpers/redis.ts';

const namespace = `kvtest-${randomUUID()}`;


/** Collects messages and waits for the next one. */
function inbox() {
  const messages: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    messages,
    handler: (message: string) => {
      messages.push(message);
      waiters.splice(0).forEach((wake) => wake());
    },
    async waitFor(count: number, timeoutMs = 2_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) assert.fail(`expected ${count} message(s), got ${JSON.stringify(messages)}`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), sleep(50)]);
      }
      return messages;
    },
  };
}

/** The contract every store meets. `connect` opens another client of the same store, as a second instance would. */
function kvSuite(connect: (options?: KvOptions) => Promise<Kv>) {
  const clients: Kv[] = [];
  const open = async (options: KvOptions = {}) => {
    const kv = await connect(options);
    clients.push(kv);
    return kv;
  };
  after(() => Promise.all(clients.map((kv) => kv.close())));

  test('get, set and del', async () => {
    const kv = await open();
    assert.equal(await kv.get('missing'), undefined);
    await kv.set('k', 'v1');
    assert.equal(await kv.get('k'), 'v1');
    await kv.set('k', 'v2');
    assert.equal(await kv.get('k'), 'v2');
    assert.equal(await kv.del('k'), true);
    assert.equal(await kv.del('k'), false);
    assert.equal(await kv.get('k'), undefined);
  });

  test('a key set with a TTL expires; setting it again without one keeps it', async () => {
    const kv = await open();
    await kv.set('short', 'x', 60);
    await kv.set('kept', 'y', 60);
    await kv.set('kept', 'z');
    assert.equal(await kv.get('short'), 'x');
    await sleep(200);
    assert.equal(await kv.get('short'), undefined);
    assert.equal(await kv.del('short'), false);
    assert.equal(await kv.get('kept'), 'z');
  });

  test('incrBy counts from zero, and its TTL applies only when it creates the key', async () => {
    const kv = await open();
    assert.equal(await kv.incrBy('n', 5), 5);
    assert.equal(await kv.incrBy('n', -7), -2);
    assert.equal(await kv.get('n'), '-2');

    assert.equal(await kv.incrBy('window', 1, 150), 1);
    await sleep(50);
    assert.equal(await kv.incrBy('window', 1, 60_000), 2);
    await sleep(250);
    assert.equal(await kv.get('window'), undefined);
    assert.equal(await kv.incrBy('window', 1, 60_000), 1);
  });

  test('incrBy is atomic across clients under concurrency', async () => {
    const [a, b] = [await open(), await open()];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).incrBy('shared', 1, 60_000)));
    assert.deepEqual(
      results.sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal(await a.get('shared'), '200');
  });

  test('bad arguments and non-integer values are refused', async () => {
    const kv = await open();
    await kv.set('text', 'abc');
    await assert.rejects(kv.incrBy('text', 1));
    await assert.rejects(kv.incrBy('n2', 1.5), RangeError);
    await assert.rejects(kv.set('k', 'v', 0), RangeError);
    await assert.rejects(kv.set('k', 'v', 1.5), RangeError);
    assert.equal(await kv.get('k'), undefined);
  });

  test('hincrBy adds to several fields at once, and its TTL applies only when it creates the hash', async () => {
    const kv = await open();
    assert.deepEqual(await kv.hgetAll('h'), {});
    await kv.hincrBy('h', {});
    assert.deepEqual(await kv.hgetAll('h'), {}, 'no increments create nothing');
    await kv.hincrBy('h', { a: 2, 'b\u001fc': -3 }, 150);
    await sleep(50);
    await kv.hincrBy('h', { a: 5, d: 1 }, 60_000);
    assert.deepEqual(await kv.hgetAll('h'), { a: '7', 'b\u001fc': '-3', d: '1' });
    await sleep(250);
    assert.deepEqual(await kv.hgetAll('h'), {});
  });

  test('hincrBy is atomic across clients under concurrency', async () => {
    const [a, b] = [await open(), await open()];
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hincrBy('counts', { x: 1, y: 2 }, 60_000)));
    assert.deepEqual(await a.hgetAll('counts'), { x: '100', y: '200' });
  });

  test('hsetIfAbsent and hdel: of racing clients exactly one wins; a hash with no fields left is gone', async () => {
    const [a, b] = [await open(), await open()];
    const set = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).hsetIfAbsent('state', 'f', `v${i}`)));
    assert.equal(set.filter(Boolean).length, 1);
    const winner = `v${set.indexOf(true)}`;
    assert.deepEqual(await b.hgetAll('state'), { f: winner });
    await a.hset('state', 'g', 'one');
    await b.hset('state', 'g', 'two');
    assert.deepEqual(await a.hgetAll('state'), { f: winner, g: 'two' });
    const deleted = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).hdel('state', 'f')));
    assert.equal(deleted.filter(Boolean).length, 1);
    assert.equal(await a.hdel('state', 'g'), true);
    assert.equal(await a.hdel('state', 'g'), false);
    assert.equal(await a.del('state'), false);
    assert.equal(await a.hsetIfAbsent('state', 'f', 'again'), true);
    assert.equal(await a.del('state'), true);
  });

  test('hset keeps the expiry hincrBy gave the hash', async () => {
    const kv = await open();
    await kv.hincrBy('expiring', { n: 1 }, 150);
    await kv.hset('expiring', 'label', 'x');
    assert.deepEqual(await kv.hgetAll('expiring'), { n: '1', label: 'x' });
    await sleep(250);
    assert.deepEqual(await kv.hgetAll('expiring'), {});
  });

  test('hash operations refuse bad increments and keys of another kind', async () => {
    const kv = await open();
    await kv.set('plain', 'abc');
    await assert.rejects(kv.hincrBy('plain', { a: 1 }));
    await assert.rejects(kv.hgetAll('plain'));
    await assert.rejects(kv.hincrBy('h2', { a: 1.5 }), RangeError);
    await assert.rejects(kv.hincrBy('h2', { a: 1 }, 0), RangeError);
    await kv.hset('h2', 'text', 'abc');
    await assert.rejects(kv.hincrBy('h2', { text: 1 }));
    await assert.rejects(kv.get('h2'));
    await assert.rejects(kv.incrBy('h2', 1));
    assert.deepEqual(await kv.hgetAll('h2'), { text: 'abc' });
  });

  test('pub/sub reaches subscribers on another client, and the publisher’s own', async () => {
    const [a, b] = [await open(), await open()];
    const onA = inbox();
    const onB = inbox();
    await a.subscribe('events', onA.handler);
    await b.subscribe('events', onB.handler);
    await a.publish('events', 'one');
    await b.publish('events', 'two');
    assert.deepEqual(await onB.waitFor(2), ['one', 'two']);
    assert.deepEqual(await onA.waitFor(2), ['one', 'two']);
  });

  test('unsubscribe stops one subscription and leaves the others', async () => {
    const [a, b] = [await open(), await open()];
    const gone = inbox();
    const stays = inbox();
    const unsubscribe = await b.subscribe('topic', gone.handler);
    await b.subscribe('topic', stays.handler);
    await a.publish('topic', 'before');
    await gone.waitFor(1);
    await stays.waitFor(1);
    await unsubscribe();
    await unsubscribe();
    await a.publish('topic', 'after');
    assert.deepEqual(await stays.waitFor(2), ['before', 'after']);
    assert.deepEqual(gone.messages, ['before']);
  });

  test('namespaces keep keys and channels apart', async () => {
    const [a, other] = [await open(), await open({ namespace: `${namespace}-other` })];
    await a.set('same', 'mine');
    assert.equal(await other.get('same'), undefined);
    const onOther = inbox();
    const onA = inbox();
    await other.subscribe('chan', onOther.handler);
    await a.subscribe('chan', onA.handler);
    await a.publish('chan', 'for a');
    await onA.waitFor(1);
    await other.publish('chan', 'for other');
    await onOther.waitFor(1);
    assert.deepEqual([onA.messages, onOther.messages], [['for a'], ['for other']]);
  });

  test('a throwing subscriber goes to onError and does not stop the others', async () => {
    const errors: Error[] = [];
    const [a, b] = [await open(), await open({ onError: (error) => errors.push(error) })];
    const fine = inbox();
    await b.subscribe('boom', () => {
      throw new Error('subscriber failed');
    });
    await b.subscribe('boom', fine.handler);
    await a.publish('boom', 'm');
    await fine.waitFor(1);
    assert.deepEqual(
      errors.map((e) => e.message),
      ['subscriber failed'],
    );
  });

  test('close stops delivery, later calls reject, and a second close is harmless', async () => {
    const [a, b] = [await open(), await open()];
    const closing = inbox();
    const witness = inbox();
    await b.subscribe('bye', closing.handler);
    await a.subscribe('bye', witness.handler);
    await b.close();
    await b.close();
    await a.publish('bye', 'after close');
    await witness.waitFor(1);
    assert.deepEqual(closing.messages, []);
    await assert.rejects(b.get('k'), KvClosedError);
    await assert.rejects(b.publish('bye', 'x'), KvClosedError);
    await assert.rejects(b.subscribe('bye', () => {}), KvClosedError);
  });
}

describe('MemoryKv', () => {
  const store = new MemoryStore();
  kvSuite(async (options) => new MemoryKv({ namespace, ...options, store }));

  test('expired keys are swept even when nobody reads them again', async () => {
    const swept = new MemoryStore(20);
    const kv = new MemoryKv({ store: swept });
    await kv.set('a', '1', 10);
    await kv.set('b', '2');
    await sleep(100);
    assert.equal(swept.size, 1);
    await kv.close();
  });

  test('createKv without storage.redis keeps state in memory', async () => {
    const kv = await createKv({});
    assert.ok(kv instanceof MemoryKv);
    await kv.close();
  });
});

const unreachable = await redisSkipReason();

describe('RedisKv', { skip: unreachable }, () => {
  after(async () => {
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${namespace}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  kvSuite((options) => RedisKv.connect(REDIS_URL, { namespace, ...options }));

  test('createKv with storage.redis connects to Redis', async () => {
    const kv = await createKv({ storage: { redis: REDIS_URL } }, { namespace });
    assert.ok(kv instanceof RedisKv);
    await kv.close();
  });

  test('an unreachable Redis fails at connect, naming the address but not the password', async () => {
    await assert.rejects(RedisKv.connect('redis://:hunter2secret@127.0.0.1:1/0'), (error: Error) => {
      assert.match(error.message, /^Redis at redis:\/\/127\.0\.0\.1:1\/0 is not reachable: .*ECONNREFUSED/);
      assert.doesNotMatch(error.message, /hunter2secret/);
      return true;
    });
  });

  test('a subscription survives a dropped connection, and onReconnect says messages may have been missed', async () => {
    const name = `${namespace}-reconnect`;
    const [a, b] = [await RedisKv.connect(REDIS_URL, { namespace }), await RedisKv.connect(REDIS_URL, { namespace, redis: { connectionName: name } })];
    const admin = new Redis(REDIS_URL);
    try {
      const messages = inbox();
      let reconnected = 0;
      await b.subscribe('survives', messages.handler, { onReconnect: () => reconnected++ });
      const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      const id = /id=(\d+) .*name=(\S+)/.exec(list.split('\n').find((line) => line.includes(`name=${name} `)) ?? '')?.[1];
      assert.ok(id, 'the subscriber connection is listed');
      await admin.call('CLIENT', 'KILL', 'ID', id);
      const deadline = Date.now() + 3_000;
      while (reconnected === 0 && Date.now() < deadline) await sleep(20);
      assert.equal(reconnected, 1);
      await a.publish('survives', 'after reconnect');
      assert.deepEqual(await messages.waitFor(1), ['after reconnect']);
    } finally {
      await Promise.all([a.close(), b.close(), admin.quit()]);
    }
  });
});
