import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestAbort } from '../http/abort.ts';
import { newContext } from '../pipeline/context.ts';
import type { Route, Target } from './router.ts';
import { StickyTable } from './sticky.ts';

const target = (id: string) => ({ id }) as Target;
const route: Route = { name: 'r', strategy: 'round-robin', targets: [target('a'), target('b'), target('c')], policy: { retry: undefined!, fallbackOn: new Set() } };
const ctx = (headers: Record<string, string>, body: unknown = {}) =>
  newContext({ id: '1', surface: 'openai', operation: 'chat', model: 'r', stream: false, abort: new RequestAbort(), credential: undefined, clientIp: '', headers, body });

test('a pinned conversation gets its target first until the pin expires; others keep the strategy\'s order', () => {
  let now = 0;
  const table = new StickyTable('headers.X-Session-Id', 1000, () => now);
  assert.equal(table.apply(route, ctx({ 'x-session-id': 's1' })), route);
  table.remember(ctx({ 'x-session-id': 's1' }), 'c');
  assert.deepEqual(table.apply(route, ctx({ 'x-session-id': 's1' })).targets.map((t) => t.id), ['c', 'a', 'b']);
  assert.equal(table.apply(route, ctx({ 'x-session-id': 's2' })), route);
  assert.equal(table.apply(route, ctx({})), route);
  now = 1001;
  assert.equal(table.apply(route, ctx({ 'x-session-id': 's1' })), route, 'expired');
});

test('a pin to a target not on this request\'s list is ignored; body fields key conversations too', () => {
  const table = new StickyTable('metadata.conversation.id', 1000);
  const c = ctx({}, { metadata: { conversation: { id: 42 } } });
  table.remember(c, 'gone');
  assert.equal(table.apply(route, c), route);
  table.remember(c, 'b');
  assert.deepEqual(table.apply(route, c).targets.map((t) => t.id), ['b', 'a', 'c']);
  const byUser = new StickyTable('params.user', 1000);
  byUser.remember(ctx({}, { user: 'u1' }), 'c');
  assert.equal(byUser.apply(route, ctx({}, { user: 'u1' })).targets[0]!.id, 'c');
});
