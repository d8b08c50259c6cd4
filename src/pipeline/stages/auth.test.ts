import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import { authenticator, isLoopback } from './auth.ts';

test('loopback addresses, IPv4, IPv6 and mapped', () => {
  for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(ip), ip);
  for (const ip of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', 'fe80::1', '0.0.0.0']) assert.ok(!isLoopback(ip), ip);
});

test('without a master key only this machine is served', () => {
  const authenticate = authenticator({});
  assert.doesNotThrow(() => authenticate(undefined, '127.0.0.1'));
  assert.throws(() => authenticate('anything', '10.1.2.3'), (e: GatewayError) => e.status === 403 && e.code === 'local_only');
});

test('with a master key every caller must present it, from anywhere', () => {
  const authenticate = authenticator({ master_key: 'sb-master-0123456789' });
  assert.doesNotThrow(() => authenticate('sb-master-0123456789', '10.1.2.3'));
  for (const wrong of [undefined, '', 'sb-master-012345678', 'sb-master-0123456789x']) {
    assert.throws(() => authenticate(wrong, '127.0.0.1'), (e: GatewayError) => e.status === 401 && e.type === 'authentication_error' && !e.message.includes('sb-master'));
  }
});
