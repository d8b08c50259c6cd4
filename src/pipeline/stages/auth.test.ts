import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import { RequestAbort } from '../../http/abort.ts';
import { MASTER_IDENTITY, type Identity } from '../../identity/identity.ts';
import { newContext } from '../context.ts';
import { authStage } from './auth.ts';

const context = () =>
  newContext({ id: 'r', surface: 'openai', operation: 'chat', model: 'm', stream: false, abort: new RequestAbort(), credential: 'k', clientIp: '127.0.0.1' });

test('a synchronous answer is put on the context without a promise', () => {
  const ctx = context();
  assert.equal(ctx.identity, undefined);
  const pending = authStage({ authenticate: () => MASTER_IDENTITY }).before!(ctx);
  assert.equal(pending, undefined);
  assert.equal(ctx.identity, MASTER_IDENTITY);
});

test('an asynchronous answer is put on the context once it arrives; a refusal propagates', async () => {
  const ctx = context();
  await authStage({ authenticate: async () => MASTER_IDENTITY as Identity }).before!(ctx);
  assert.equal(ctx.identity, MASTER_IDENTITY);
  const refused = new GatewayError(401, 'authentication_error', 'no', { code: 'invalid_api_key' });
  assert.throws(() =>
    authStage({
      authenticate: () => {
        throw refused;
      },
    }).before!(context()),
  );
  await assert.rejects(async () => authStage({ authenticate: () => Promise.reject(refused) }).before!(context()), refused);
});
