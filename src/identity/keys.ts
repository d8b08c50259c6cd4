// Virtual API keys: `sk-sb-` and 43 base62 characters (32 random bytes). The key is shown once; the database keeps
// only an HMAC of it under a server pepper (derived from the master secret, identity/secrets.ts), and a short prefix to
// show in listings.

import { createHash, createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

export const VIRTUAL_KEY_PREFIX = 'sk-sb-';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62^43 > 2^256, so 43 digits hold any 32 bytes. */
const BODY_LENGTH = 43;
const SHOWN_LENGTH = 6;
const SHAPE = new RegExp(`^${VIRTUAL_KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH}}$`);

function base62(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < BODY_LENGTH; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export interface GeneratedKey {
  /** The whole key: give it to the client once, never store it. */
  key: string;
  /** `sk-sb-` and the first characters of the key, enough to tell keys apart in a listing. */
  prefix: string;
}

export function generateKey(): GeneratedKey {
  const key = VIRTUAL_KEY_PREFIX + base62(randomBytes(32));
  return { key, prefix: displayPrefix(key) };
}

export function displayPrefix(key: string): string {
  return key.slice(0, VIRTUAL_KEY_PREFIX.length + SHOWN_LENGTH);
}

/** Whether a credential has the shape of a virtual key, so others (the master key) skip the key lookup. */
export function looksLikeVirtualKey(credential: string): boolean {
  return SHAPE.test(credential);
}

/** The stored form of a key (base64url, 43 characters). */
export function hashKey(key: string, pepper: KeyObject | Buffer): string {
  return createHmac('sha256', pepper).update(key).digest('base64url');
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * A check against one secret (the master key) in constant time: both sides are hashed to fixed-length digests first,
 * so neither the content nor the length of the expected value leaks through timing.
 */
export function constantTimeMatcher(expected: string): (candidate: string | undefined) => boolean {
  const want = digest(expected);
  return (candidate) => candidate !== undefined && timingSafeEqual(digest(candidate), want);
}
