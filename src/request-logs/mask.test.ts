import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASK, maskSecrets } from './mask.ts';

test('API keys and tokens in free text are masked wherever they stand', () => {
  const cases: [string, string][] = [
    ['my key is sk-proj-abcdefghijklmnop1234 ok', `my key is ${MASK} ok`],
    ['sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA', MASK],
    ['gateway key sk-sb-0123456789abcdefghijkl.', `gateway key ${MASK}.`],
    ['stripe sk_live_0123456789abcdefABCD', `stripe ${MASK}`],
    ['AKIAIOSFODNN7EXAMPLE is an access key id', `${MASK} is an access key id`],
    ['google AIzaSyA-0123456789abcdefghijklmnopqrstu', `google ${MASK}`],
    ['ghp_0123456789abcdefghijklmnopqrstuvwxyz', MASK],
    ['xoxb-123456789012-abcdefghij', MASK],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', `jwt ${MASK}`],
  ];
  for (const [input, expected] of cases) assert.equal(maskSecrets(input), expected, input);
});

test('an Authorization header keeps its scheme; the credential goes', () => {
  assert.equal(maskSecrets('Authorization: Bearer abc.def-ghi_123456'), `Authorization: Bearer ${MASK}`);
  assert.equal(maskSecrets('curl -H "authorization: bearer 0123456789abcdef"'), `curl -H "authorization: bearer ${MASK}"`);
  assert.equal(maskSecrets('Authorization: Basic dXNlcjpwYXNzd29yZA=='), `Authorization: Basic ${MASK}`);
});

test('values of fields named like secrets are masked in JSON, in JSON quoted inside JSON, and in key=value text', () => {
  assert.equal(
    maskSecrets('{"api_key": "abc123", "password":"p\\"w", "token": "t", "model": "gpt"}'),
    `{"api_key": "${MASK}", "password":"${MASK}", "token": "${MASK}", "model": "gpt"}`,
  );
  assert.equal(maskSecrets('{"Client-Secret":"x","apiKey":"y"}'), `{"Client-Secret":"${MASK}","apiKey":"${MASK}"}`);
  // A prompt holding JSON: its quotes arrive escaped.
  const prompt = JSON.stringify({ messages: [{ role: 'user', content: 'config: {"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG"}' }] });
  const masked = maskSecrets(prompt);
  assert.ok(!masked.includes('wJalrXUtnFEMI'), masked);
  assert.deepEqual(JSON.parse(masked), { messages: [{ role: 'user', content: `config: {"aws_secret_access_key": "${MASK}"}` }] }, 'still valid JSON');
  assert.equal(maskSecrets('export OPENAI_API_KEY=abc123 && password: hunter2; x'), `export OPENAI_API_KEY=${MASK} && password: ${MASK}; x`);
  assert.equal(maskSecrets('https://x.test/?token=abc&q=1'), `https://x.test/?token=${MASK}&q=1`);
});

test('private key blocks are masked whole', () => {
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----';
  assert.equal(maskSecrets(`key:\n${pem}\nend`), `key:\n${MASK}\nend`);
  assert.equal(maskSecrets(JSON.stringify(pem)), JSON.stringify(MASK));
});

test('ordinary text and token counts are left alone', () => {
  const text = '{"max_tokens": 100, "usage": {"prompt_tokens": 5, "total_tokens": 9}, "messages": [{"content": "Tokens: 5, the secret of success is skill"}]}';
  assert.equal(maskSecrets(text), text);
  assert.equal(maskSecrets('ask-me-anything about risk-free tasks'), 'ask-me-anything about risk-free tasks');
});
