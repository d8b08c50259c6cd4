// Encryption at rest for the secrets the gateway stores (provider credentials). Every value carries the id of the key
// that sealed it, `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url), so the master secret can be replaced while values
// sealed under the old one still open: the old secret stays in the keyring as a previous secret.

import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

export const MIN_SECRET_LENGTH = 32;
export const SECRET_RULE = `at least ${MIN_SECRET_LENGTH} characters of random data (for example: openssl rand -base64 32)`;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'switchboard';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A problem with the master secret or a sealed value. Its message never contains secret material. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** What one master secret yields. Held as KeyObjects, which print without their bytes. */
export interface MasterKey {
  /** A fingerprint of the master secret, safe to show: names the key inside sealed values. */
  readonly id: string;
  readonly encryption: KeyObject;
  /** Keys the HMAC of virtual API keys (identity/keys.ts), so a stolen database alone cannot test guesses. */
  readonly pepper: KeyObject;
}

const derive = (secret: string, purpose: string, bytes: number): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, SALT, `switchboard ${VERSION} ${purpose}`, bytes));

export function deriveMasterKey(secret: string): MasterKey {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new SecretError(`a master secret must be ${SECRET_RULE}`);
  }
  return {
    id: derive(secret, 'key id', 6).toString('base64url'),
    encryption: createSecretKey(derive(secret, 'credential encryption', 32)),
    pepper: createSecretKey(derive(secret, 'api key pepper', 32)),
  };
}

/** The current master key, which seals, and the previous ones, which still open what they sealed. */
export class Keyring {
  readonly current: MasterKey;
  /** The current key first. */
  readonly keys: readonly MasterKey[];
  private readonly byId: Map<string, MasterKey>;

  constructor(current: string, previous: readonly string[] = []) {
    this.current = deriveMasterKey(current);
    this.byId = new Map([this.current, ...previous.map(deriveMasterKey)].map((key) => [key.id, key]));
    this.keys = [...this.byId.values()];
  }

  find(id: string): MasterKey | undefined {
    return this.byId.get(id);
  }
}

function decode(part: string, what: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  // Node's decoder skips what is not base64url and ignores spare bits; only the canonical spelling is accepted.
  if (!BASE64URL.test(part) || bytes.toString('base64url') !== part) throw malformed(`its ${what} is not base64url`);
  return bytes;
}

const malformed = (why: string) => new SecretError(`not an encrypted secret (${why}); expected ${VERSION}.<keyId>.<iv>.<ciphertext>.<tag>`);

/** The version and key id are authenticated along with the caller's associated data (the record the value belongs to). */
const associated = (keyId: string, aad: string): Buffer => Buffer.from(`${VERSION}.${keyId}.${aad}`, 'utf8');

export class SecretBox {
  constructor(private readonly keyring: Keyring) {}

  /**
   * `aad` binds the value to where it is stored (e.g. `provider_credential:<org id>:<credential id>`): a value copied
   * to another record does not open there.
   */
  encrypt(plaintext: string, aad = ''): string {
    const key = this.keyring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associated(key.id, aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, key.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(blob: string, aad = ''): string {
    const parts = blob.split('.');
    if (parts.length !== 5) throw malformed(`${parts.length} parts instead of 5`);
    const [version, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
    if (version !== VERSION) throw malformed(`unknown version '${version.slice(0, 8)}'`);
    const iv = decode(ivText, 'iv');
    const ciphertext = decode(ciphertextText, 'ciphertext');
    const tag = decode(tagText, 'tag');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw malformed('wrong iv or tag length');
    const key = this.keyring.find(keyId);
    if (!key) {
      throw new SecretError(
        `this secret was encrypted with master key '${keyId.slice(0, 16)}', which is not in the keyring (current: '${this.keyring.current.id}'): add the master secret it was encrypted with to the previous secrets`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key.encryption, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associated(keyId, aad));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError(`cannot decrypt a secret sealed with master key '${keyId}': it was altered, or it belongs to another record`);
    }
  }
}
