import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientAbortedError } from '../http/client.ts';
import { Coalescer, coalescingKey } from './coalescer.ts';

/** A call the test finishes by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('identical requests in flight share the first one\'s call; each follower is told the leader', async () => {
  const c = new Coalescer();
  const call = deferred<string>();
  let calls = 0;
  const work = () => {
    calls++;
    return call.promise;
  };
  const joined: string[] = [];
  const results = [c.run('k', 'a', work, (l) => joined.push(`a<-${l}`)), c.run('k', 'b', work, (l) => joined.push(`b<-${l}`)), c.run('k', 'c', work, (l) => joined.push(`c<-${l}`))];
  assert.equal(c.size, 1);
  call.resolve('answer');
  assert.deepEqual(await Promise.all(results), ['answer', 'answer', 'answer']);
  assert.equal(calls, 1);
  assert.deepEqual(joined, ['b<-a', 'c<-a']);
  assert.equal(c.size, 0, 'a finished flight is forgotten');
  await c.run('k', 'd', async () => 'again', () => assert.fail('nothing in flight to join'));
});

test('different keys never share; a provider failure is shared like an answer', async () => {
  const c = new Coalescer();
  let calls = 0;
  const failing = async () => {
    calls++;
    throw new Error('upstream 500');
  };
  const [one, two, other] = await Promise.allSettled([c.run('k', 1, failing, () => {}), c.run('k', 2, failing, () => {}), c.run('j', 3, async () => 'j', () => {})]);
  assert.equal(one.status, 'rejected');
  assert.equal(two.status, 'rejected');
  assert.equal((two as PromiseRejectedResult).reason.message, 'upstream 500');
  assert.deepEqual(other, { status: 'fulfilled', value: 'j' });
  assert.equal(calls, 1);
});

test('a leader whose client left does not fail its followers: one of them makes the call again', async () => {
  const c = new Coalescer();
  const first = deferred<string>();
  let calls = 0;
  const leader = c.run('k', 'leader', () => (calls++, first.promise), () => {});
  const followers = [1, 2].map((n) => c.run('k', `f${n}`, async () => (calls++, `made by f${n}`), () => {}));
  first.reject(new ClientAbortedError());
  await assert.rejects(leader, ClientAbortedError);
  const answers = await Promise.all(followers);
  assert.equal(calls, 2, 'one new call for both followers');
  assert.equal(answers[0], answers[1]);
});

test('the key tells tenants, surfaces and bodies apart, and ignores nothing else', () => {
  const base = coalescingKey(['org_1', 'openai', 'chat', 'smart'], { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(base, coalescingKey(['org_1', 'openai', 'chat', 'smart'], { messages: [{ role: 'user', content: 'hi' }] }));
  assert.notEqual(base, coalescingKey(['org_2', 'openai', 'chat', 'smart'], { messages: [{ role: 'user', content: 'hi' }] }));
  assert.notEqual(base, coalescingKey(['org_1', 'anthropic', 'chat', 'smart'], { messages: [{ role: 'user', content: 'hi' }] }));
  assert.notEqual(base, coalescingKey(['org_1', 'openai', 'chat', 'smart'], { messages: [{ role: 'user', content: 'hi!' }] }));
  // Parts are delimited: moving a character across a boundary changes the key.
  assert.notEqual(coalescingKey(['ab', 'c'], {}), coalescingKey(['a', 'bc'], {}));
  assert.equal(coalescingKey([undefined], {}), coalescingKey([''], {}), 'no organization is one tenant (master and local requests)');
});
