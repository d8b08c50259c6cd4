// Who may use the proxy surfaces, decided without a database round trip in steady state.
//
// - auth.master_key (constant-time) is the master identity.
// - A virtual key (`sk-sb-…`) is hashed with the current pepper and looked up in an in-process LRU cache; a miss asks
//   the store once (concurrent misses share the query), also under previous peppers, since rotating the master secret
//   changes every hash. Unknown hashes are remembered briefly, so a client repeating a bad key does not reach the
//   database on every request.
// - Changes reach the cache through `invalidate(keyId)` / `invalidateAll()`, which drop entries here and publish on the
//   kv so every instance sharing the Redis drops them too. A lost Redis connection may have lost messages, so the
//   whole cache is dropped when it comes back. Entries older than `ttlMs` are refreshed in the background while still
//   served, and entries unused for twice that are looked up again, which bounds staleness where no message arrives
//   (several instances without Redis, or a change made by another process on the same SQLite file).
// - Without a master key and without any virtual key (the embedded quick start), requests from this machine are
//   served with no key at all and other hosts are refused. Once a virtual key exists, every request needs a key, from
//   this machine too: a gateway that hands out keys is one whose operator wants to know who is calling.

import type { KeyObject } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import type { Kv, Unsubscribe } from '../store/kv/index.ts';
import type { Store } from '../store/store.ts';
import type { VirtualKey } from '../store/types.ts';
import { ipAllowlist, isLoopback, type IpAllowlist } from './addresses.ts';
import type { BindingsLoader } from './bindings.ts';
import { keyIdentity, LOCAL_IDENTITY, MASTER_IDENTITY, NO_BINDINGS, type Identity, type KeyBindings } from './identity.ts';
import { constantTimeMatcher, hashKey, looksLikeVirtualKey } from './keys.ts';

/** The kv channel invalidations travel on; a message is a key id, or `*` for everything. */
export const INVALIDATION_CHANNEL = 'auth:invalidate';
const ALL = '*';

/** How the gateway admits requests, for the start banner. */
export type AuthMode = 'master_key' | 'virtual_keys' | 'local_only';

export interface KeyAuthOptions {
  masterKey: string | undefined;
  store: Pick<Store, 'findKeyByHash' | 'hasKeys'>;
  kv: Pick<Kv, 'publish' | 'subscribe'>;
  /** Peppers of the master secrets, current first (Keyring.keys). */
  peppers: readonly KeyObject[];
  /** The policies, limits and budgets binding a key, read with it on a cache miss; none when absent. */
  bindings?: BindingsLoader;
  /** Problems with no request to answer: a failed publish, a background refresh that could not reach the database. */
  onError?: (error: Error) => void;
  /** Epoch milliseconds; tests move it. */
  now?: () => number;
  /** Cached keys (LRU); 10 000 by default. Unknown hashes are bounded by the same number. */
  maxEntries?: number;
  /** 30 s by default. */
  ttlMs?: number;
  /** How long an unknown hash is refused without asking the database: 5 s by default. */
  negativeTtlMs?: number;
}

interface Entry {
  identity: Identity;
  /** Set for a revoked or disabled key: every request gets it. */
  refusal: GatewayError | undefined;
  /** Epoch ms; Infinity when the key does not expire. */
  expiresAt: number;
  name: string;
  expiresAtText: string | null;
  allowlist: IpAllowlist | undefined;
  fetchedAt: number;
}

const KEY_HEADERS = 'Authorization: Bearer <key> (or x-api-key / api-key)';

const unauthorized = (message: string, code = 'invalid_api_key') => new GatewayError(401, 'authentication_error', message, { code });

const MISSING = unauthorized(`Missing API key: send a virtual key (sk-sb-…) or the gateway's master key as ${KEY_HEADERS}.`);
const INVALID = unauthorized('Invalid API key: this gateway does not know it. Check the key, or ask an admin for a new one.');
const KEY_REQUIRED = unauthorized(`This gateway has virtual keys, so every request needs one, from this machine too: send it as ${KEY_HEADERS}.`);
const LOCAL_ONLY = new GatewayError(
  403,
  'permission_error',
  'This gateway has no auth.master_key and no virtual keys yet, so it only serves requests from its own machine. Set auth.master_key or create a virtual key to serve other hosts.',
  { code: 'local_only' },
);
const UNAVAILABLE = new GatewayError(503, 'api_error', 'The gateway cannot check API keys right now: its database is not answering. Retry shortly.', {
  code: 'auth_unavailable',
});

function entryOf(key: VirtualKey, bindings: KeyBindings, fetchedAt: number): Entry {
  const named = `This API key ('${key.name}')`;
  const refusal = key.revoked_at
    ? unauthorized(`${named} was revoked at ${key.revoked_at}; ask an admin for a new key.`, 'key_revoked')
    : key.enabled
      ? undefined
      : unauthorized(`${named} is disabled; an admin can enable it again.`, 'key_disabled');
  return {
    identity: keyIdentity(key, bindings),
    refusal,
    expiresAt: key.expires_at === null ? Infinity : Date.parse(key.expires_at),
    name: key.name,
    expiresAtText: key.expires_at,
    allowlist: key.ip_allowlist.length > 0 ? ipAllowlist(key.ip_allowlist) : undefined,
    fetchedAt,
  };
}

export class KeyAuth {
  readonly #isMasterKey: ((candidate: string | undefined) => boolean) | undefined;
  readonly #masterLooksVirtual: boolean;
  readonly #store: KeyAuthOptions['store'];
  readonly #kv: KeyAuthOptions['kv'];
  readonly #peppers: readonly KeyObject[];
  readonly #bindings: BindingsLoader | undefined;
  readonly #report: (error: unknown) => void;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;

  /** By the hash under the current pepper, least recently used first. */
  readonly #entries = new Map<string, Entry>();
  /**
   * Presented keys → their hash under the current pepper, least recently added first. The HMAC on every request was a
   * few percent of the gateway's CPU; the key is in this process's memory for the request anyway, and this holds it
   * no longer than the bounded map keeps it.
   */
  readonly #hashes = new Map<string, string>();
  /** Unknown hashes, until when they are refused without a lookup. */
  readonly #unknown = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<Entry | undefined>>();
  /** Bumped by every invalidation: a lookup that started before one must not cache what it read. */
  #generation = 0;
  /** Whether any virtual key exists; undefined until start() has asked. */
  #keysExist: boolean | undefined;
  #keysCheck = 0;
  #starting: Promise<void> | undefined;
  #unsubscribe: Unsubscribe | undefined;

  constructor(options: KeyAuthOptions) {
    if (options.peppers.length === 0) throw new Error('KeyAuth needs at least one pepper');
    this.#isMasterKey = options.masterKey ? constantTimeMatcher(options.masterKey) : undefined;
    this.#masterLooksVirtual = options.masterKey !== undefined && looksLikeVirtualKey(options.masterKey);
    this.#store = options.store;
    this.#kv = options.kv;
    this.#peppers = options.peppers;
    this.#bindings = options.bindings;
    const onError = options.onError;
    this.#report = (error) => onError?.(error instanceof Error ? error : new Error(String(error)));
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
  }

  /** Subscribes to invalidations and learns whether any key exists. Idempotent; authenticate() calls it when needed. */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#unsubscribe ??= await this.#kv.subscribe(INVALIDATION_CHANNEL, (message) => this.#apply(message), {
      onReconnect: () => this.#apply(ALL),
    });
    // With a master key, a request never goes keyless, so whether virtual keys exist does not matter.
    if (this.#isMasterKey) return;
    const check = ++this.#keysCheck;
    const exists = await this.#store.hasKeys();
    // A newer answer wins, but start() always leaves one: authenticate() waits on it to decide.
    if (check === this.#keysCheck || this.#keysExist === undefined) this.#keysExist = exists;
  }

  get mode(): AuthMode {
    if (this.#isMasterKey) return 'master_key';
    return this.#keysExist ? 'virtual_keys' : 'local_only';
  }

  /**
   * The caller's identity, or a GatewayError: 401 for a missing, unknown, revoked, disabled or expired key, 403 for an
   * address outside the key's IP allowlist (or, in the keyless quick start, any other host). Synchronous when the
   * answer is cached, which is the steady state.
   */
  authenticate(credential: string | undefined, ip: string): Identity | Promise<Identity> {
    if (credential === '') credential = undefined;
    const virtual = credential !== undefined && looksLikeVirtualKey(credential);
    // A master key of another shape cannot equal a virtual-key-shaped credential, so that comparison (a hash) is skipped.
    if ((!virtual || this.#masterLooksVirtual) && this.#isMasterKey?.(credential)) return MASTER_IDENTITY;
    if (virtual) return this.#virtualKey(credential!, ip);
    if (this.#isMasterKey) throw credential === undefined ? MISSING : INVALID;
    if (this.#keysExist === undefined) {
      return this.start().then(
        () => this.authenticate(credential, ip),
        (error: unknown) => {
          this.#report(error);
          throw UNAVAILABLE;
        },
      );
    }
    if (this.#keysExist) throw credential === undefined ? KEY_REQUIRED : INVALID;
    if (!isLoopback(ip)) throw LOCAL_ONLY;
    return LOCAL_IDENTITY;
  }

  /** Drops what this instance and every other one sharing the kv cached about the key: after any change to it. */
  async invalidate(keyId: string): Promise<void> {
    this.#apply(keyId);
    await this.#publish(keyId);
  }

  /** Drops every cached key everywhere: after changes that touch many keys (an organization, team or user deleted). */
  async invalidateAll(): Promise<void> {
    this.#apply(ALL);
    await this.#publish(ALL);
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  #hashOf(credential: string): string {
    let hash = this.#hashes.get(credential);
    if (hash === undefined) {
      hash = hashKey(credential, this.#peppers[0]!);
      this.#hashes.set(credential, hash);
      if (this.#hashes.size > this.#maxEntries) this.#hashes.delete(this.#hashes.keys().next().value!);
    }
    return hash;
  }

  #virtualKey(credential: string, ip: string): Identity | Promise<Identity> {
    const hash = this.#hashOf(credential);
    const now = this.#now();
    const entry = this.#entries.get(hash);
    if (entry !== undefined) {
      const age = now - entry.fetchedAt;
      if (age < 2 * this.#ttlMs) {
        this.#entries.delete(hash);
        this.#entries.set(hash, entry);
        if (age >= this.#ttlMs) this.#load(credential, hash).catch(() => {});
        return this.#admit(entry, ip, now);
      }
    } else {
      const until = this.#unknown.get(hash);
      if (until !== undefined) {
        if (until > now) throw INVALID;
        this.#unknown.delete(hash);
      }
    }
    return this.#load(credential, hash).then(
      (found) => {
        if (found === undefined) throw INVALID;
        return this.#admit(found, ip, this.#now());
      },
      (error: unknown) => {
        // The database is out of reach: a key known before is still served rather than every caller refused.
        if (entry !== undefined && error === UNAVAILABLE) return this.#admit(entry, ip, this.#now());
        throw error;
      },
    );
  }

  #admit(entry: Entry, ip: string, now: number): Identity {
    if (entry.refusal !== undefined) throw entry.refusal;
    if (now >= entry.expiresAt) {
      throw unauthorized(`This API key ('${entry.name}') expired at ${entry.expiresAtText}; ask an admin to extend it or for a new key.`, 'key_expired');
    }
    if (entry.allowlist !== undefined && !entry.allowlist.allows(ip)) {
      throw new GatewayError(403, 'permission_error', `This API key ('${entry.name}') may not be used from ${ip}: the address is not in the key's IP allowlist.`, {
        code: 'ip_not_allowed',
      });
    }
    return entry.identity;
  }

  /** One lookup per hash at a time, however many requests are waiting for it. */
  #load(credential: string, hash: string): Promise<Entry | undefined> {
    let pending = this.#inFlight.get(hash);
    if (pending === undefined) {
      const loading = this.#fetch(credential, hash);
      const settle = () => {
        if (this.#inFlight.get(hash) === loading) this.#inFlight.delete(hash);
      };
      loading.then(settle, settle);
      this.#inFlight.set(hash, loading);
      pending = loading;
    }
    return pending;
  }

  async #fetch(credential: string, hash: string): Promise<Entry | undefined> {
    const generation = this.#generation;
    let key: VirtualKey | undefined;
    let bindings = NO_BINDINGS;
    try {
      key = await this.#store.findKeyByHash(hash);
      for (let i = 1; key === undefined && i < this.#peppers.length; i++) key = await this.#store.findKeyByHash(hashKey(credential, this.#peppers[i]!));
      if (key !== undefined && this.#bindings) bindings = await this.#bindings(key);
    } catch (error) {
      this.#report(error);
      throw UNAVAILABLE;
    }
    const now = this.#now();
    const entry = key && entryOf(key, bindings, now);
    if (key !== undefined) this.#sawKey();
    if (generation !== this.#generation) return entry;
    if (entry === undefined) {
      this.#entries.delete(hash);
      this.#unknown.delete(hash);
      this.#unknown.set(hash, now + this.#negativeTtlMs);
      if (this.#unknown.size > this.#maxEntries) this.#unknown.delete(this.#unknown.keys().next().value!);
    } else {
      this.#unknown.delete(hash);
      this.#entries.delete(hash);
      this.#entries.set(hash, entry);
      if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry;
  }

  #sawKey(): void {
    this.#keysCheck++;
    this.#keysExist = true;
  }

  /** What an invalidation message means here. Any change may be a new key, so unknown hashes are forgotten too. */
  #apply(message: string): void {
    this.#generation++;
    this.#inFlight.clear();
    this.#unknown.clear();
    if (message === ALL) this.#entries.clear();
    else for (const [hash, entry] of this.#entries) if (entry.identity.key_id === message) this.#entries.delete(hash);
    if (!this.#isMasterKey) this.#checkKeys();
  }

  /** A key created or deleted anywhere may end or start the keyless quick start. */
  #checkKeys(): void {
    const check = ++this.#keysCheck;
    this.#store.hasKeys().then((exists) => {
      if (check === this.#keysCheck) this.#keysExist = exists;
    }, this.#report);
  }

  async #publish(message: string): Promise<void> {
    try {
      await this.#kv.publish(INVALIDATION_CHANNEL, message);
    } catch (error) {
      // The change is made and this instance has dropped it; others catch up within ttlMs, or at once on reconnect.
      this.#report(error);
    }
  }
}
