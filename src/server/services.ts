// What the route modules need to serve a request, built once at start.

import type { GatewayConfig } from '../config/load.ts';
import { UpstreamClient } from '../http/client.ts';
import type { Logger } from '../observability/logger.ts';
import { ProviderCaller } from '../pipeline/call.ts';
import { Pipeline } from '../pipeline/stages.ts';
import { accessLogStage } from '../pipeline/stages/access-log.ts';
import { accessStage } from '../pipeline/stages/access.ts';
import { authStage } from '../pipeline/stages/auth.ts';
import { routeStage } from '../pipeline/stages/route.ts';
import { usageStage } from '../pipeline/stages/usage.ts';
import { Pricing } from '../usage/pricing.ts';
import { CountingSink, type UsageSink } from '../usage/sink.ts';
import { Router } from '../routing/router.ts';
import { KeyAuth } from '../identity/key-auth.ts';
import { policyLoader } from '../identity/policies.ts';
import { CredentialResolver } from '../identity/provider-credentials.ts';
import { loadMasterSecrets, type MasterSecrets } from '../identity/master-secret.ts';
import { Keyring, SecretBox } from '../identity/secrets.ts';
import { createKv, type Kv } from '../store/kv/index.ts';
import { openStore, type Store } from '../store/store.ts';

export interface Services {
  config: GatewayConfig;
  logger: Logger;
  router: Router;
  pipeline: Pipeline;
  caller: ProviderCaller;
  client: UpstreamClient;
  pricing: Pricing;
  /** Where every request's usage record goes. */
  usageSink: UsageSink;
  /** Who is calling on the proxy surfaces; invalidate(keyId) / invalidateAll() after changing keys or their owners. */
  keyAuth: KeyAuth;
  /** Organizations' own provider credentials, used for their keys' requests; invalidate(orgId) after changing them. */
  credentials: CredentialResolver;
  store: Store;
  /** Shared state between instances (Redis when storage.redis is set, else in-process): auth and credential cache invalidation. */
  kv: Kv;
  /** The master secrets' derived keys: peppers for virtual key hashes (current first), and the credential cipher. */
  keyring: Keyring;
  secrets: SecretBox;
  /** Where the master secret came from, for the banner (never the secret). */
  secretSource: Pick<MasterSecrets, 'source' | 'created'>;
  /** Releases what the services hold (upstream connections, the database, Redis); after the app has closed. */
  close(): Promise<void>;
}

/** What opening takes before the gateway can listen: the database (migrated), the kv, the master secrets. */
export interface Opened {
  store: Store;
  kv: Kv;
  secrets: MasterSecrets;
}

export async function openDependencies(config: GatewayConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Opened> {
  const store = await openStore(config, { logger });
  try {
    // One instance on its own SQLite file may keep its own secret; instances sharing PostgreSQL must share one.
    const secrets = await loadMasterSecrets({ configured: config.auth, env, embedded: store.dialect === 'sqlite' });
    const kv = await createKv(config, {
      namespace: config.storage.redis_namespace,
      onError: (err) => logger.warn({ err: err.message }, 'kv connection problem'),
    });
    return { store, kv, secrets };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** `opened` comes from openDependencies, since opening is asynchronous and may fail before listening. */
export function createServices(config: GatewayConfig, logger: Logger, opened: Opened): Services {
  const { store, kv } = opened;
  const keyring = new Keyring(opened.secrets.current, opened.secrets.previous);
  const router = new Router(config);
  const client = new UpstreamClient();
  const secrets = new SecretBox(keyring);
  const pricing = new Pricing(config.pricing.models);
  const usageSink = new CountingSink();
  const credentials = new CredentialResolver({ store, kv, secrets, logger });
  const keyAuth = new KeyAuth({
    masterKey: config.auth.master_key,
    store,
    kv,
    peppers: keyring.keys.map((key) => key.pepper),
    policies: policyLoader(store),
    onError: (err) => logger.warn({ err: err.message }, 'key auth: could not reach the database or the kv'),
  });
  return {
    config,
    logger,
    router,
    client,
    pricing,
    usageSink,
    keyAuth,
    credentials,
    store,
    kv,
    keyring,
    secrets,
    secretSource: { source: opened.secrets.source, created: opened.secrets.created },
    caller: new ProviderCaller(client, credentials),
    pipeline: new Pipeline([accessLogStage(logger), usageStage(pricing, usageSink), authStage(keyAuth), routeStage(router), accessStage()]),
    close: async () => {
      await client.close();
      await keyAuth.close();
      await credentials.close();
      await kv.close();
      await store.close();
    },
  };
}
