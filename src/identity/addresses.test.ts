import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrProblem, ipAllowlist, isLoopback } from './addresses.ts';

test('loopback addresses, IPv4, IPv6 and mapped', () => {
  for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(ip), ip);
  for (const ip of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', 'fe80::1', '0.0.0.0']) assert.ok(!isLoopback(ip), ip);
});

test('an allowlist matches IPv4 and IPv6 CIDRs and single addresses; IPv4 clients seen as mapped IPv6 too', () => {
  const list = ipAllowlist(['10.0.0.0/8', '192.168.1.5', '2001:db8::/32', '::1', ' 172.16.0.0/12 ']);
  for (const ip of ['10.0.0.1', '10.255.255.255', '::ffff:10.9.9.9', '192.168.1.5', '2001:db8::1', '2001:db8:abcd::1', '::1', '172.20.0.1']) assert.ok(list.allows(ip), ip);
  for (const ip of ['11.0.0.1', '192.168.1.6', '2001:db9::1', '127.0.0.1', '::2', 'not-an-ip', '']) assert.ok(!list.allows(ip), ip);
  assert.ok(ipAllowlist(['0.0.0.0/0']).allows('8.8.8.8'));
  assert.ok(ipAllowlist(['::/0']).allows('2606:4700::1'));
});

test('entries that do not parse are named by cidrProblem and match nothing', () => {
  assert.equal(cidrProblem('10.0.0.0/8'), undefined);
  assert.equal(cidrProblem('2001:db8::/128'), undefined);
  assert.equal(cidrProblem('203.0.113.7'), undefined);
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', 'example.com', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8x']) assert.ok(cidrProblem(bad), bad);
  const damaged = ipAllowlist(['10.0.0.0/33', 'nonsense']);
  assert.ok(!damaged.allows('10.0.0.1'), 'a damaged list refuses rather than admits');
});
