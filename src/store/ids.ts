// Prefixed ids (`key_01j9…`) that sort by creation time, so one indexed column gives pages a stable order.
// ULID layout in lowercase Crockford base32: 10 characters of milliseconds, then 16 random ones.

import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

export type IdPrefix = 'org' | 'team' | 'usr' | 'mem' | 'key' | 'cred' | 'pol' | 'aud' | 'lim' | 'bud' | 'shd';

let lastTime = -1;
let lastRandom: number[] = [];

/** Random digits for a new millisecond, or the previous ones plus one, so ids made in one millisecond keep their order. */
function randomDigits(time: number): number[] {
  if (time === lastTime) {
    const next = [...lastRandom];
    let i = next.length - 1;
    while (i >= 0 && next[i] === 31) next[i--] = 0;
    if (i >= 0) next[i]! += 1;
    return next;
  }
  // 256 is a multiple of 32, so masking keeps every digit uniform.
  return [...randomBytes(RANDOM_CHARS)].map((b) => b & 31);
}

export function newId(prefix: IdPrefix, now: Date): string {
  // A clock that steps back (or a test clock) must not make a later id sort before an earlier one.
  const time = Math.max(now.getTime(), lastTime);
  const random = randomDigits(time);
  lastTime = time;
  lastRandom = random;
  let encoded = '';
  for (let i = 0, t = time; i < TIME_CHARS; i++, t = Math.floor(t / 32)) encoded = ALPHABET[t % 32] + encoded;
  for (const d of random) encoded += ALPHABET[d];
  return `${prefix}_${encoded}`;
}
