// The `switchboard` command as a user runs it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { runCli, startGateway, writeConfig } from '../helpers/gateway.ts';

test('config check: a valid file passes with exit 0; an unset variable fails with its path and line', async () => {
  const file = writeConfig('providers:\n  openai: { type: openai, api_key: ${SB_TEST_KEY} }\nstorage: { database: "sqlite::memory:" }\n');
  const ok = await runCli(['config', 'check', '--config', file], { SB_TEST_KEY: 'sk-x' });
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /OK \(1 provider\(s\), 0 model\(s\)\)/);
  const unset = await runCli(['config', 'check', '--config', file]);
  assert.equal(unset.code, 1);
  assert.match(unset.stdout, /providers\.openai\.api_key \(line 2\): environment variable SB_TEST_KEY is not set/);
});

test('config check: every problem with its YAML path and line, exit 1', async () => {
  const file = writeConfig('server:\n  port: http\nproviders:\n  a: { type: nope }\n');
  const { code, stdout } = await runCli(['config', 'check', '--config', file]);
  assert.equal(code, 1);
  assert.match(stdout, /server\.port \(line 2\): /);
  const semantic = await runCli(['config', 'check', '--config', writeConfig('providers:\n  a: { type: nope }\nmodels:\n  - name: m\n    targets: [{ provider: b, model: x }]\n')]);
  assert.equal(semantic.code, 1);
  assert.match(semantic.stdout, /providers\.a\.type \(line 2\): unknown provider type 'nope'/);
  assert.match(semantic.stdout, /models\[0\]\.targets\[0\]\.provider \(line 5\): no provider named 'b'/);
});

test('config check on a missing file says so', async () => {
  const { code, stdout } = await runCli(['config', 'check', '--config', '/nonexistent/switchboard.yaml']);
  assert.equal(code, 1);
  assert.match(stdout, /cannot read the file: ENOENT/);
});

test('start with no file: the embedded default takes providers from the environment and says so', async () => {
  const gateway = await startGateway({ env: { OPENAI_API_KEY: 'sk-secret-value', ANTHROPIC_API_KEY: 'sk-ant-secret' } });
  try {
    const out = gateway.output();
    assert.match(out, /Switchboard listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /config: embedded default/);
    assert.match(out, /openai \(openai\) https:\/\/api\.openai\.com\/v1/);
    assert.match(out, /anthropic \(anthropic\) https:\/\/api\.anthropic\.com/);
    assert.ok(!out.includes('sk-secret-value') && !out.includes('sk-ant-secret'), 'keys never printed');
    const ready = await request(`${gateway.url}/ready`);
    assert.deepEqual(((await ready.body.json()) as { providers: string[] }).providers, ['openai', 'anthropic']);
  } finally {
    await gateway.stop();
  }
});

test('start with a bad file exits 1 with the problems', async () => {
  const { code, stderr } = await runCli(['start', '--config', writeConfig('providers:\n  a: { type: nope }\n'), '--port', '0']);
  assert.equal(code, 1);
  assert.match(stderr, /providers\.a\.type \(line 2\)/);
});

test('SIGTERM shuts down cleanly', async () => {
  const gateway = await startGateway({});
  await gateway.stop();
  assert.match(gateway.output(), /shutting down/);
});
