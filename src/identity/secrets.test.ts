import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { deriveMasterKey, Keyring, SecretBox, SecretError } from './secrets.ts';

const OLD = 'old-master-secret-0123456789abcdefghijklmnop';
const NEW = 'new-master-secret-0123456789abcdefghijklmnop';
const PLAINTEXT = 'sk-provider-credential-ABCDEF';

/** Swaps one base64url character for another, changing the bytes it encodes. */
function flip(part: string, at = 0): string {
  return part.slice(0, at) + (part[at] === 'A' ? 'B' : 'A') + part.slice(at + 1);
}

function tampered(blob: string, index: number): string {
  const parts = blob.split('.');
  parts[index] = flip(parts[index]!);
  return parts.join('.');
}

const rejects = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof SecretError, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, new RegExp(`${PLAINTEXT}|master-secret`));
    return true;
  });

test('a round trip returns the plaintext, and each encryption is fresh', () => {
  const box = new SecretBox(new Keyring(NEW));
  const a = box.encrypt(PLAINTEXT);
  const b = box.encrypt(PLAINTEXT);
  assert.notEqual(a, b);
  assert.match(a, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  assert.ok(!a.includes(PLAINTEXT));
  assert.equal(box.decrypt(a), PLAINTEXT);
  assert.equal(box.decrypt(box.encrypt('')), '');
  assert.equal(box.decrypt(box.encrypt('ünïcødé 🔑')), 'ünïcødé 🔑');
});

test('a changed iv, ciphertext, tag or key id is refused without revealing anything', () => {
  const box = new SecretBox(new Keyring(NEW, [OLD]));
  const blob = box.encrypt(PLAINTEXT);
  for (const index of [2, 3, 4]) rejects(() => box.decrypt(tampered(blob, index)), /altered, or it belongs to another record/);
  const parts = blob.split('.');
  const underOldId = ['v1', deriveMasterKey(OLD).id, ...parts.slice(2)].join('.');
  rejects(() => box.decrypt(underOldId), /altered, or it belongs to another record/);
  rejects(() => box.decrypt(tampered(blob, 1)), /not in the keyring/);
});

test('malformed values are refused with the expected format', () => {
  const box = new SecretBox(new Keyring(NEW));
  const blob = box.encrypt(PLAINTEXT);
  const [, id, iv, ct, tag] = blob.split('.') as [string, string, string, string, string];
  rejects(() => box.decrypt(PLAINTEXT), /not an encrypted secret \(1 parts instead of 5\).*v1\.<keyId>/);
  rejects(() => box.decrypt(['v2', id, iv, ct, tag].join('.')), /unknown version/);
  rejects(() => box.decrypt(['v1', id, iv, `${ct}!`, tag].join('.')), /ciphertext is not base64url/);
  rejects(() => box.decrypt(['v1', id, iv, ct, tag.slice(0, 16)].join('.')), /wrong iv or tag length/);
  // 16 bytes take 22 characters, the last with 4 spare bits: another spelling of the same bytes is still refused.
  const respelled = tag.slice(0, -1) + String.fromCharCode(tag.charCodeAt(21) + 1);
  assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(tag, 'base64url'));
  rejects(() => box.decrypt(['v1', id, iv, ct, respelled].join('.')), /tag is not base64url/);
});

test('rotation: old values open with the previous secret, new ones are sealed under the new key id', () => {
  const before = new SecretBox(new Keyring(OLD));
  const sealedBefore = before.encrypt(PLAINTEXT, 'org1:cred1');

  const keyring = new Keyring(NEW, [OLD]);
  const after = new SecretBox(keyring);
  const sealedAfter = after.encrypt(PLAINTEXT, 'org1:cred1');
  assert.equal(sealedBefore.split('.')[1], deriveMasterKey(OLD).id);
  assert.equal(sealedAfter.split('.')[1], keyring.current.id);
  assert.notEqual(keyring.current.id, deriveMasterKey(OLD).id);
  assert.equal(after.decrypt(sealedBefore, 'org1:cred1'), PLAINTEXT);
  assert.equal(after.decrypt(sealedAfter, 'org1:cred1'), PLAINTEXT);
  assert.deepEqual(keyring.keys.map((k) => k.id), [keyring.current.id, deriveMasterKey(OLD).id]);

  rejects(() => new SecretBox(new Keyring(NEW)).decrypt(sealedBefore, 'org1:cred1'), new RegExp(`master key '${deriveMasterKey(OLD).id}', which is not in the keyring`));
  rejects(() => before.decrypt(sealedAfter, 'org1:cred1'), /not in the keyring/);
});

test('associated data binds a value to its record: moved to another record or org, it does not open', () => {
  const box = new SecretBox(new Keyring(NEW));
  const blob = box.encrypt(PLAINTEXT, 'provider_credential:org_a:cred_1');
  assert.equal(box.decrypt(blob, 'provider_credential:org_a:cred_1'), PLAINTEXT);
  for (const elsewhere of ['provider_credential:org_a:cred_2', 'provider_credential:org_b:cred_1', '']) {
    rejects(() => box.decrypt(blob, elsewhere), /belongs to another record/);
  }
  rejects(() => box.decrypt(box.encrypt(PLAINTEXT), 'provider_credential:org_a:cred_1'), /belongs to another record/);
});

test('master keys: derived deterministically, distinct per secret, too-short secrets refused, nothing printable', () => {
  assert.equal(deriveMasterKey(NEW).id, deriveMasterKey(NEW).id);
  assert.notEqual(deriveMasterKey(NEW).id, deriveMasterKey(OLD).id);
  assert.throws(() => new Keyring('short-secret'), (e: Error) => e instanceof SecretError && /at least 32 characters/.test(e.message) && !e.message.includes('short-secret'));
  const key = deriveMasterKey(randomBytes(32).toString('base64url'));
  const printed = inspect(key, { depth: 5 }) + JSON.stringify(key);
  assert.ok(!printed.includes(key.encryption.export().toString('hex')));
  assert.ok(!printed.includes(key.pepper.export().toString('base64url')));
  assert.deepEqual(new Keyring(NEW, [NEW, OLD, OLD]).keys.length, 2);
});
