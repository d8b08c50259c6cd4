// The GatewayError a call throws, for tests that go on to check its status, code and message.

import assert from 'node:assert/strict';
import { GatewayError } from '../../src/core/errors.ts';

export function thrownGatewayError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a GatewayError');
}
