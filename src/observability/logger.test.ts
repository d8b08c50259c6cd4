import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, requestLogger } from './logger.ts';

test('credentials are redacted wherever they sit in a logged object', () => {
  let out = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
  const logger = createLogger({ level: 'info' }, sink);
  logger.info(
    {
      api_key: 'sk-1',
      headers: { authorization: 'Bearer sk-2', 'x-api-key': 'sk-3', 'x-goog-api-key': 'g-4' },
      provider: { api_key: 'sk-5', options: { entra: { client_secret: 'e-6' }, aws: { secret_access_key: 'a-7', session_token: 't-8' }, azure_ad_token: 'z-9' } },
      vertex: { credentials: '{"private_key":"p-10"}' },
      request: { headers: { 'api-key': 'sk-11' } },
    },
    'config',
  );
  for (const secret of ['sk-1', 'sk-2', 'sk-3', 'g-4', 'sk-5', 'e-6', 'a-7', 't-8', 'z-9', 'p-10', 'sk-11']) {
    assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  }
  assert.match(out, /\[redacted\]/);
});

test('paths named in logging.redact are censored too', () => {
  let out = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
  createLogger({ level: 'info', redact: ['customer.email', 'metadata["x-tenant-token"]'] }, sink).info({ customer: { email: 'a@b.c', plan: 'pro' }, metadata: { 'x-tenant-token': 'tok-1' } }, 'line');
  assert.ok(!out.includes('a@b.c') && !out.includes('tok-1'), out);
  assert.match(out, /"plan":"pro"/);
});

test('the request-line logger censors top-level credentials and the configured paths', () => {
  let out = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
  const options = { level: 'info', redact: ['user_id'] };
  requestLogger(createLogger(options, sink), options).info({ request_id: 'r1', user_id: 'u-1', api_key: 'sk-9' }, 'request');
  assert.ok(!out.includes('u-1') && !out.includes('sk-9'), out);
  assert.match(out, /"request_id":"r1"/);
});
