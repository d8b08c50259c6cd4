// What the route modules need to serve a request, built once at start.

import type { GatewayConfig } from '../config/load.ts';
import { UpstreamClient } from '../http/client.ts';
import { requestLogger, type Logger } from '../observability/logger.ts';
import { ProviderCaller } from '../pipeline/call.ts';
import { Pipeline } from '../pipeline/stages.ts';
import { accessLogStage } from '../pipeline/stages/access-log.ts';
import { accessStage } from '../pipeline/stages/access.ts';
import { authStage } from '../pipeline/stages/auth.ts';
import { routeStage } from '../pipeline/stages/route.ts';
import { usageStage } from '../pipeline/stages/usage.ts';
import { Pricing } from '../usage/pricing.ts';
import { BudgetAlerts } from '../limits/alerts.ts';
import { createLimitBackend, type LimitBackend } from '../limits/index.ts';
import { Limiter } from '../limits/limiter.ts';
import { configRules } from '../limits/rules.ts';
import { limitsStage } from '../pipeline/stages/limits.ts';
import { createUsageLedger, type UsageLedger } from '../usage/ledger/index.ts';
import { Router } from '../routing/router.ts';
import { KeyAuth } from '../identity/key-auth.ts';
import { bindingsLoader } from '../identity/bindings.ts';
import { CredentialResolver } from '../identity/provider-credentials.ts';
import { loadMasterSecrets, type MasterSecrets } from '../identity/master-secret.ts';
import { Keyring, SecretBox } from '../identity/secrets.ts';
import { createKv, type Kv } from '../store/kv/index.ts';
import { openStore, type Store } from '../store/store.ts';
import { ShadowRunner } from '../shadow/runner.ts';
import { HealthProber } from '../routing/health-probe.ts';
import { shadowStage } from '../pipeline/stages/shadow.ts';
import { payloadCaptureStage } from '../pipeline/stages/payload-capture.ts';
import { RequestLogPruner } from '../request-logs/pruner.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import { openTracing, type Tracing } from '../observability/tracing.ts';
import { AlertEvaluator } from '../observability/alerts/evaluator.ts';

export interface Services {
  config: GatewayConfig;
  logger: Logger;
  router: Router;
  pipeline: Pipeline;
  caller: ProviderCaller;
  client: UpstreamClient;
  pricing: Pricing;
  /** Rate limits, quotas and budgets (limits/limiter.ts). */
  limiter: Limiter;
  /** Where every request's usage record goes: the ledger (journal, then the database); status() for health and metrics. */
  usageSink: UsageLedger;
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
  /** Runs shadow calls, when some model mirrors its traffic (models[].shadow). */
  shadow: ShadowRunner | undefined;
  /** Prometheus metrics (config metrics.enabled). */
  metrics: GatewayMetrics | undefined;
  /** OpenTelemetry traces (config tracing.enabled, or OTEL_TRACES_EXPORTER=otlp). */
  tracing: Tracing | undefined;
  /** Alert rules (config alerts.rules): counts, evaluation, webhooks; status() for the admin API. */
  alerts: AlertEvaluator;
  /** Releases what the services hold (upstream connections, the database, Redis); after the app has closed. */
  close(): Promise<void>;
}

/** What the gateway and the admin CLI both open first: the database (migrated), the kv, the master secrets. */
export interface Opened {
  store: Store;
  kv: Kv;
  secrets: MasterSecrets;
}

/**
 * What only a serving gateway needs besides: where limit and budget counters live (this process, or Redis), and the
 * tracer provider when tracing is on (its SDK is imported only then).
 */
export interface GatewayDependencies extends Opened {
  limitBackend: LimitBackend;
  tracing: Tracing | undefined;
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

export async function openGatewayDependencies(config: GatewayConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<GatewayDependencies> {
  const opened = await openDependencies(config, logger, env);
  try {
    // Before the limits backend, which holds a connection: an idle tracer provider holds nothing to release.
    const tracing = await openTracing(config, logger, env);
    const limitBackend = await createLimitBackend(config, {
      namespace: config.storage.redis_namespace,
      onError: (err) => logger.warn({ err: err.message }, 'limits backend connection problem'),
    });
    return { ...opened, limitBackend, tracing };
  } catch (err) {
    await opened.kv.close();
    await opened.store.close();
    throw err;
  }
}

/** `opened` comes from openGatewayDependencies, since opening is asynchronous and may fail before listening. */
export function createServices(config: GatewayConfig, logger: Logger, opened: GatewayDependencies): Services {
  const { store, kv, limitBackend, tracing } = opened;
  // First: taking the journal's lock may refuse the start, and nothing else has been set going yet.
  const usageSink = createUsageLedger(config, store.usage, logger);
  const keyring = new Keyring(opened.secrets.current, opened.secrets.previous);
  const pricing = new Pricing(config.pricing.models);
  const alerting = new AlertEvaluator({ config: config.alerts, kv, logger, routesOf: (id) => router.health().find((t) => t.id === id)?.routes ?? [] });
  const router = new Router(config, undefined, {
    pricing,
    onCircuitChange: (target, from, to) => {
      logger[to === 'open' ? 'warn' : 'info']({ target, from, to }, `circuit ${to}: ${target}`);
      alerting.circuitChanged(target, to);
    },
  });
  const client = new UpstreamClient();
  const secrets = new SecretBox(keyring);
  const credentials = new CredentialResolver({ store, kv, secrets, logger });
  const keyAuth = new KeyAuth({
    masterKey: config.auth.master_key,
    store,
    kv,
    peppers: keyring.keys.map((key) => key.pepper),
    bindings: bindingsLoader(store, { alertThresholds: config.budgets.alerts.thresholds }),
    onError: (err) => logger.warn({ err: err.message }, 'key auth: could not reach the database or the kv'),
  });
  const alerts = new BudgetAlerts({ kv, webhooks: config.budgets.alerts.webhooks, logger });
  const limiter = new Limiter({
    backend: limitBackend,
    rules: configRules(config.limits.rules),
    defaultMaxTokens: config.limits.default_max_tokens,
    onBackendError: config.limits.on_backend_error,
    pricing,
    router,
    ledgerTotals: (filter, fromMs, bucketMs) => store.usage.totals(filter, fromMs, bucketMs),
    alerts,
    logger,
  });
  const caller = new ProviderCaller(client, credentials);
  const plans = router.probePlans();
  const prober = plans.length > 0 ? new HealthProber(plans, client, logger) : undefined;
  prober?.start();
  const logs = config.request_logs;
  const logPruner = new RequestLogPruner({ retention: store.requestLogs, retentionDays: logs.retention_days, maxRows: logs.max_rows, everyMs: logs.prune_every_ms, logger });
  logPruner.start();
  alerting.start();
  const shadow = config.models.some((m) => m.shadow)
    ? new ShadowRunner({ router, caller, pricing, usage: usageSink, samples: store.shadow, logger, retentionDays: config.routing.shadow_retention_days })
    : undefined;
  const metrics = config.metrics.enabled ? new GatewayMetrics(config.metrics, { router, usage: usageSink, limitsBackendErrors: () => limiter.backendErrors }) : undefined;
  return {
    config,
    logger,
    metrics,
    tracing,
    limiter,
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
    caller,
    shadow,
    alerts: alerting,
    pipeline: new Pipeline([
      // First, so that its `after` runs last and the request span sees the outcome, usage and cost.
      ...(tracing ? [tracing.stage] : []),
      ...(config.logging.requests ? [accessLogStage(requestLogger(logger, config.logging))] : []),
      ...(metrics ? [metrics.stage()] : []),
      usageStage(pricing, usageSink, alerting.observer),
      authStage(keyAuth),
      payloadCaptureStage(config.request_logs.payload_max_bytes),
      routeStage(router),
      ...(shadow ? [shadowStage(shadow)] : []),
      accessStage(),
      limitsStage(limiter),
    ]),
    close: async () => {
      // Settlements and alerts still in flight, while the backend and the kv are there to take them.
      prober?.stop();
      await limiter.flush();
      await alerts.settled();
      await alerting.close();
      // Shadow calls under way still write their usage records and samples.
      await shadow?.settled();
      await limitBackend.close();
      // Before the database: it writes what is still queued, or leaves it in the journal.
      await usageSink.close();
      // The spans of the last requests, exported before the process exits.
      await tracing?.shutdown();
      await client.close();
      await keyAuth.close();
      await credentials.close();
      await kv.close();
      // A pruning pass under way ends before the database closes.
      await logPruner.stop();
      await store.close();
    },
  };
}
