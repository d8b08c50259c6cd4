// Bring your own key: provider credentials an organization stores through the admin API, put to use without a database
// round trip in steady state.
//
// - A credential stored in organization O for provider P (a name under `providers:`) replaces P's configured api_key
//   on requests made with O's virtual keys. The master key, keyless local requests and other organizations keep the
//   configured key. When O has several credentials for P, the most recently updated one wins.
// - An organization's credentials are read with one query and decrypted on the first request that needs them
//   (concurrent first requests share the query). Each becomes a ProviderConfig built once per configured provider
//   object and reused, so a request allocates nothing, and the adapters' caches keyed by that object (Entra tokens,
//   SigV4 signers) keep working. A configuration reload hands in new provider objects, which rebuilds them.
// - Changes reach the cache like KeyAuth's: invalidate(orgId) drops the organization here and publishes on the kv, so
//   every instance sharing the Redis drops it too; a lost Redis connection drops everything. Entries older than `ttlMs`
//   are refreshed in the background while still served, and entries unused for twice that are read again, which
//   bounds staleness where no message arrives.
// - A credential that does not decrypt (its master secret rotated out of the keyring, or an altered value) is logged
//   once, without the secret, and every request it would serve is refused with a 500 naming the provider and the
//   credential. Falling back to the configured key instead would silently bill the operator for the tenant's traffic.

import { GatewayError } from '../core/errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProviderConfig } from '../providers/types.ts';
import type { Kv, Unsubscribe } from '../store/kv/index.ts';
import type { SealedCredential } from '../store/repositories/credentials.ts';
import type { Store } from '../store/store.ts';
import { SecretError, type SecretBox } from './secrets.ts';

/** The kv channel credential invalidations travel on; a message is an organization id, or `*` for every one. */
export const CREDENTIALS_CHANNEL = 'credentials:invalidate';
const ALL = '*';

/** What a credential's sealed value is bound to, so a value copied to another record does not open there. */
export const credentialAad = (orgId: string, id: string): string => `provider_credential:${orgId}:${id}`;

export interface CredentialResolverOptions {
  store: Pick<Store, 'tenant'>;
  kv: Pick<Kv, 'publish' | 'subscribe'>;
  secrets: Pick<SecretBox, 'decrypt'>;
  /** Credentials that do not decrypt (error), and problems with no request to answer (warn). Never given a secret. */
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Epoch milliseconds; tests move it. */
  now?: () => number;
  /** 30 s by default, as for keys. */
  ttlMs?: number;
  /** Organizations cached; 10 000 by default, the oldest read dropped first. */
  maxOrgs?: number;
}

/** The credential an organization uses for one provider: its secret, or the refusal when it does not decrypt. */
interface Slot {
  secret: string | undefined;
  refusal: GatewayError | undefined;
  /** The configured provider that `config` was built from. */
  base: ProviderConfig | undefined;
  config: ProviderConfig | undefined;
}

interface OrgEntry {
  /** By provider name; providers without a credential of the organization have none. */
  slots: Map<string, Slot>;
  fetchedAt: number;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const UNAVAILABLE = new GatewayError(
  503,
  'api_error',
  "The gateway cannot read this organization's provider credentials right now: its database is not answering. Retry shortly.",
  { code: 'credentials_unavailable' },
);

/** The provider as the organization has it: its own credential in place of the configured key, when it stored one. */
function effective(entry: OrgEntry, provider: ProviderConfig): ProviderConfig {
  const slot = entry.slots.get(provider.name);
  if (slot === undefined) return provider;
  if (slot.refusal !== undefined) throw slot.refusal;
  if (slot.base !== provider) {
    slot.config = { ...provider, api_key: slot.secret };
    slot.base = provider;
  }
  return slot.config!;
}

export class CredentialResolver {
  readonly #store: CredentialResolverOptions['store'];
  readonly #kv: CredentialResolverOptions['kv'];
  readonly #secrets: CredentialResolverOptions['secrets'];
  readonly #logger: CredentialResolverOptions['logger'];
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxOrgs: number;

  /** By organization id, oldest read first. */
  readonly #orgs = new Map<string, OrgEntry>();
  readonly #inFlight = new Map<string, Promise<OrgEntry>>();
  /** Credential versions (`<id>@<updated_at>`) already logged as undecryptable. */
  readonly #reported = new Set<string>();
  #subscription: Promise<Unsubscribe> | undefined;

  constructor(options: CredentialResolverOptions) {
    this.#store = options.store;
    this.#kv = options.kv;
    this.#secrets = options.secrets;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxOrgs = options.maxOrgs ?? 10_000;
  }

  /**
   * The configured `provider` as organization `orgId` uses it. Synchronous when the organization is cached, which is
   * the steady state. Throws (or rejects with) a GatewayError: 500 `provider_credential_unusable` when the
   * organization's credential for the provider does not decrypt, 503 `credentials_unavailable` when the database
   * cannot be read and nothing is cached.
   */
  resolve(orgId: string, provider: ProviderConfig): ProviderConfig | Promise<ProviderConfig> {
    const entry = this.#orgs.get(orgId);
    if (entry !== undefined) {
      const age = this.#now() - entry.fetchedAt;
      if (age < 2 * this.#ttlMs) {
        // Failures are reported by the load; the entry is served meanwhile.
        if (age >= this.#ttlMs) this.#load(orgId).catch(() => {});
        return effective(entry, provider);
      }
    }
    return this.#load(orgId).then(
      (loaded) => effective(loaded, provider),
      (error: unknown) => {
        // The database is out of reach: what was read before is still the organization's intent.
        if (entry !== undefined && error === UNAVAILABLE) return effective(entry, provider);
        throw error;
      },
    );
  }

  /** Drops what this instance and every other one sharing the kv cached for the organization: after its credentials change. */
  async invalidate(orgId: string): Promise<void> {
    this.#apply(orgId);
    try {
      await this.#kv.publish(CREDENTIALS_CHANNEL, orgId);
    } catch (error) {
      // The change is made and this instance has dropped it; others catch up within ttlMs, or at once on reconnect.
      this.#logger.warn({ err: messageOf(error) }, 'provider credentials: could not announce a change on the kv');
    }
  }

  async close(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    const unsubscribe = await subscription?.catch(() => undefined);
    await unsubscribe?.();
  }

  /** One read per organization at a time; kept only if no invalidation of the organization came while it ran. */
  #load(orgId: string): Promise<OrgEntry> {
    const pending = this.#inFlight.get(orgId);
    if (pending !== undefined) return pending;
    const loading: Promise<OrgEntry> = this.#fetch(orgId).then(
      (entry) => {
        if (this.#inFlight.get(orgId) === loading) {
          this.#inFlight.delete(orgId);
          this.#keep(orgId, entry);
        }
        return entry;
      },
      (error: unknown) => {
        if (this.#inFlight.get(orgId) === loading) this.#inFlight.delete(orgId);
        throw error;
      },
    );
    this.#inFlight.set(orgId, loading);
    return loading;
  }

  async #fetch(orgId: string): Promise<OrgEntry> {
    let sealed: SealedCredential[];
    try {
      // Subscribed before the first read, so no change announced after it can be missed.
      await this.#subscribe();
      sealed = await this.#store.tenant(orgId).credentials.listSealed();
    } catch (error) {
      this.#logger.warn({ err: messageOf(error), org_id: orgId }, 'provider credentials: could not read them from the database or subscribe on the kv');
      throw UNAVAILABLE;
    }
    const slots = new Map<string, Slot>();
    // Most recently updated first: the first credential seen for a provider is the one used.
    for (const credential of sealed) if (!slots.has(credential.provider)) slots.set(credential.provider, this.#open(orgId, credential));
    return { slots, fetchedAt: this.#now() };
  }

  #open(orgId: string, credential: SealedCredential): Slot {
    try {
      const secret = this.#secrets.decrypt(credential.ciphertext, credentialAad(orgId, credential.id));
      return { secret, refusal: undefined, base: undefined, config: undefined };
    } catch (error) {
      // SecretError messages name master key ids, never secret material; anything else is not repeated at all.
      const reason = error instanceof SecretError ? error.message : 'decryption failed';
      const version = `${credential.id}@${credential.updated_at}`;
      if (!this.#reported.has(version)) {
        this.#reported.add(version);
        this.#logger.error(
          { org_id: orgId, credential_id: credential.id, provider: credential.provider, reason },
          "provider credentials: a stored credential cannot be decrypted; the organization's requests to this provider are refused until an admin sets its secret again",
        );
      }
      const refusal = new GatewayError(
        500,
        'api_error',
        `${credential.provider}: this organization's stored credential '${credential.id}' for the provider cannot be decrypted by the gateway, so nothing was sent. ` +
          'An admin should set its secret again, or restore the master secret it was encrypted with.',
        { code: 'provider_credential_unusable', provider: credential.provider },
      );
      return { secret: undefined, refusal, base: undefined, config: undefined };
    }
  }

  #keep(orgId: string, entry: OrgEntry): void {
    this.#orgs.delete(orgId);
    this.#orgs.set(orgId, entry);
    if (this.#orgs.size > this.#maxOrgs) this.#orgs.delete(this.#orgs.keys().next().value!);
  }

  #subscribe(): Promise<Unsubscribe> {
    this.#subscription ??= this.#kv
      .subscribe(CREDENTIALS_CHANNEL, (message) => this.#apply(message), { onReconnect: () => this.#apply(ALL) })
      .catch((error: unknown) => {
        this.#subscription = undefined;
        throw error;
      });
    return this.#subscription;
  }

  /** What an invalidation message means here: an organization (or every one) is read again on its next request. */
  #apply(message: string): void {
    if (message === ALL) {
      this.#orgs.clear();
      this.#inFlight.clear();
    } else {
      this.#orgs.delete(message);
      this.#inFlight.delete(message);
    }
  }
}
