// The public configuration contract (shared/DESIGN.md). Field names are snake_case because users write them in YAML.

import { z } from 'zod';
import { LIMIT_SCOPES, limitValuesSchema } from '../limits/rules.ts';
import { conditionSchema } from '../routing/conditions.ts';
import { RETRY_CLASSES, type RetryClass } from '../routing/retry.ts';

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A byte size: a number of bytes, or a string such as "20mb" / "512kb". */
const byteSize = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+$/).transform(Number),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)\s*$/i, 'expected a size such as 20mb, 512kb or a number of bytes')
    .transform((s) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i.exec(s)!;
      return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
    }),
]);

// Numbers and booleans may arrive as strings from ${VAR} references, so those fields coerce.
const durationMs = z.coerce.number<unknown>().int().positive();
const flag = z.union([z.boolean(), z.stringbool()]);

export const timeoutsSchema = z
  .object({
    connect_ms: durationMs.default(10_000),
    first_byte_ms: durationMs.default(600_000),
    idle_ms: durationMs.default(120_000),
    total_ms: durationMs.default(900_000),
  })
  .strict();

export const providerSchema = z
  .object({
    type: z.string().min(1, 'a provider needs a type'),
    api_key: z.string().optional(),
    // A pool of keys spread by weight instead of one api_key: a key the provider answers 429 rests for key_cooldown_ms
    // (or as long as the provider's Retry-After asks) while the others carry on.
    api_keys: z
      .array(z.union([z.string().min(1).transform((key) => ({ key, weight: 1 })), z.object({ key: z.string().min(1), weight: z.coerce.number<unknown>().positive().default(1) }).strict()]))
      .min(1)
      .optional(),
    key_cooldown_ms: durationMs.default(60_000),
    base_url: z.url({ protocol: /^https?$/, error: 'base_url must be an absolute http(s) URL' }).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    timeouts: timeoutsSchema.prefault({}),
    models: z.array(z.string().min(1)).default([]),
    api_version: z.string().optional(),
  })
  // Fields only some provider types have (region, project, deployments, …) are checked against that type's own
  // options schema when the config is resolved (src/config/load.ts), so a typo is still an error.
  .catchall(z.unknown());

/** The fields every provider type shares; the rest of a provider entry are the type's options. */
export const COMMON_PROVIDER_FIELDS = new Set(Object.keys(providerSchema.shape));

export const STRATEGIES = ['fallback', 'weighted', 'round-robin', 'least-busy', 'latency', 'cost'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const capabilitiesSchema = z
  .object({
    // Prompt plus output tokens; unset: the price table's figure for the model, if it has one.
    context_window: z.coerce.number<unknown>().int().positive().optional(),
    tools: flag.optional(),
    vision: flag.optional(),
    json_schema: flag.optional(),
  })
  .strict();

export const targetSchema = z
  .object({
    // A provider and the model id it is sent ...
    provider: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    // ... or another configured model name, whose own strategy picks among its targets (a nested group).
    group: z.string().min(1).optional(),
    weight: z.coerce.number<unknown>().positive().optional(),
    // What the model cannot do (tools: false, vision: false, json_schema: false) or hold: requests needing it skip it.
    capabilities: capabilitiesSchema.optional(),
    // Tighter (or looser) limits for this model than its provider's: a small model that should answer fast. The fields
    // left out keep the provider's values (partial() would fill them with the defaults).
    timeouts: z
      .object({ connect_ms: durationMs.optional(), first_byte_ms: durationMs.optional(), idle_ms: durationMs.optional(), total_ms: durationMs.optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.group !== undefined ? t.provider !== undefined || t.model !== undefined : t.provider === undefined || t.model === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a target is { provider, model } or { group: <model name> }' });
    }
    if (t.group !== undefined && (t.timeouts || t.capabilities)) {
      ctx.addIssue({ code: 'custom', message: "a group's timeouts and capabilities are its own targets': set them there" });
    }
  });

const retryFields = {
  // Attempts on one target, the first included; then the next target is tried.
  max_attempts: z.coerce.number<unknown>().int().min(1).max(10),
  initial_backoff_ms: z.coerce.number<unknown>().int().nonnegative(),
  max_backoff_ms: z.coerce.number<unknown>().int().nonnegative(),
  retry_on: z
    .array(z.union([z.enum(RETRY_CLASSES), z.coerce.number<unknown>().int().min(400).max(599)]), {
      error: `expected a list of statuses (429, 503, …) and ${RETRY_CLASSES.join(', ')}`,
    })
    .transform((list) => ({
      statuses: new Set(list.filter((x): x is number => typeof x === 'number')),
      classes: new Set(list.filter((x): x is RetryClass => typeof x === 'string')),
    })),
};

/** Defaults: one attempt per target (fallback only), as before retries existed; operators opt in to waiting. */
export const retrySchema = z
  .object({
    max_attempts: retryFields.max_attempts.default(1),
    initial_backoff_ms: retryFields.initial_backoff_ms.default(200),
    max_backoff_ms: retryFields.max_backoff_ms.default(10_000),
    retry_on: retryFields.retry_on.prefault([429, '5xx', 'timeout', 'connection']),
  })
  .strict();

export const FALLBACK_REASONS = ['context_window_exceeded', 'content_filter'] as const;

export const modelSchema = z
  .object({
    name: z.string().min(1),
    strategy: z.enum(STRATEGIES).default('fallback'),
    targets: z.array(targetSchema).min(1, 'a model needs at least one target'),
    // Fields set here replace routing.retry's for this model.
    retry: z.object(retryFields).partial().strict().optional(),
    // Answers that are failures of one model, not of the request, and that another target may not give.
    fallback_on: z.array(z.enum(FALLBACK_REASONS)).default([]),
    // Checked in order before the strategy: the first whose condition holds sends the request to its `use`, a
    // configured model name or "<provider>/<model>".
    rules: z.array(z.object({ when: conditionSchema, use: z.string().min(1) }).strict()).default([]),
    // Keeps a conversation on the target that first answered it, keyed by a field of the request
    // (headers.x-session-id, params.user, metadata.session_id), while that target is healthy.
    sticky: z
      .object({
        key: z.string().regex(/^(headers|params|metadata)\.[^.]+(\.[^.]+)*$/, 'expected headers.<name>, params.<name> or metadata.<key>'),
        ttl_ms: durationMs.default(3_600_000),
      })
      .strict()
      .optional(),
    // Identical non-streaming requests of one organization in flight at the same time share one upstream call.
    coalesce: z.boolean().default(false),
    // Mirrors a share of the model's chat traffic to another model or "<provider>/<model>" after the client has its
    // answer, and records both sides for GET /admin/v1/shadow/<name>.
    shadow: z
      .object({
        use: z.string().min(1),
        share: z.number().min(0).max(1),
        // Shadow calls in flight at once; a sampled request over the cap is skipped (and counted), never queued.
        max_in_flight: z.number().int().min(1).default(8),
        // Characters of each answer kept with a sample, for reading side by side; 0 keeps none.
        keep_output_chars: z.number().int().min(0).default(2_000),
      })
      .strict()
      .optional(),
    // Active probes: a one-token chat request to each of the model's targets every interval, apart from live traffic.
    health_check: z
      .object({
        interval_ms: durationMs.default(30_000),
        timeout_ms: durationMs.default(10_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export const circuitBreakerSchema = z
  .object({
    enabled: flag.default(true),
    // Opens after this many failures in a row (0: rule off) ...
    consecutive_failures: z.coerce.number<unknown>().int().nonnegative().default(5),
    // ... or once failures reach this share of the window's requests (0: rule off), with at least min_requests in it.
    error_rate: z.coerce.number<unknown>().min(0).max(1).default(0.5),
    min_requests: z.coerce.number<unknown>().int().positive().default(20),
    window_ms: durationMs.default(60_000),
    // How long an open circuit skips its target before letting half_open_requests probes through.
    cooldown_ms: durationMs.default(30_000),
    half_open_requests: z.coerce.number<unknown>().int().positive().default(1),
  })
  .strict();

const pricePerMtok = z.coerce.number<unknown>().nonnegative();

/** A model's price in USD per million tokens; cached input and cache writes default to the input price. */
export const modelPriceSchema = z
  .object({
    input_per_mtok: pricePerMtok,
    output_per_mtok: pricePerMtok,
    cached_input_per_mtok: pricePerMtok.optional(),
    cache_write_per_mtok: pricePerMtok.optional(),
  })
  .strict();

/** A limit the config declares: for everything (global), per model group or target, or for each key/team/user/org. */
export const limitRuleSchema = z
  .object({
    scope: z.enum(LIMIT_SCOPES),
    match: z.string().min(1).optional(),
    limits: limitValuesSchema,
  })
  .strict()
  .refine((r) => r.match === undefined || r.scope === 'model' || r.scope === 'target', {
    message: 'match applies to scope model (a model group name or glob) or target (<provider> or <provider>/<model>) only',
    path: ['match'],
  });

const percent = z.coerce.number<unknown>().positive().max(1000);

export const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'a webhook url must be an absolute http(s) URL' }),
    // slack: a Slack-compatible {"text": ...} body (Slack, Mattermost, Rocket.Chat, Teams' Slack connector).
    format: z.enum(['json', 'slack']).default('json'),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/**
 * An alert rule: fires when its condition holds over the last window_minutes (for a model or provider, or each one
 * separately when neither is named), and resolves when it no longer does.
 */
export const alertRuleSchema = z
  .object({
    name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _ . - (at most 64)'),
    // error_rate: failed requests (5xx and 429, not a client's own 4xx) over threshold percent; p95_latency: of
    // answered requests, over threshold ms; spend: over threshold USD within the window; circuit_open: a target's
    // circuit opened (threshold, window and min_requests unused).
    kind: z.enum(['error_rate', 'p95_latency', 'spend', 'circuit_open']),
    threshold: z.coerce.number<unknown>().nonnegative().default(0),
    window_minutes: z.coerce.number<unknown>().int().positive().max(1440).default(5),
    // Fewer requests in the window than this never fire a rate or a percentile.
    min_requests: z.coerce.number<unknown>().int().positive().default(20),
    // The model name clients send; for circuit_open, the target's model id or a configured model routing to it.
    model: z.string().min(1).optional(),
    provider: z.string().min(1).optional(),
    // Every model (or provider) on its own: one alert per model that breaks the rule.
    per: z.enum(['model', 'provider']).optional(),
  })
  .strict()
  .refine((r) => r.kind === 'circuit_open' || r.threshold > 0, { message: 'a threshold above 0 is needed', path: ['threshold'] })
  .refine((r) => r.kind !== 'error_rate' || r.threshold < 100, { message: 'an error rate is a percentage: it cannot go over 100', path: ['threshold'] });

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.coerce.number<unknown>().int().min(0).max(65535).default(4000),
        body_limit: byteSize.default(20 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        // Human-readable, coloured lines (pino-pretty) instead of JSON: for a terminal, not for a log pipeline.
        pretty: flag.default(false),
        // One line per request at info level (request id, key id, team, model, target, status, latency, tokens, cost…).
        requests: flag.default(true),
        // More paths to censor, in pino's redact syntax (a.b, a["x-y"], *.c), beside the credentials and
        // authorization headers that are always censored.
        redact: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        // GET <path> in the Prometheus text format.
        enabled: flag.default(true),
        path: z.string().regex(/^\/[\w./-]*$/, 'expected a path such as /metrics').default('/metrics'),
        // Per-team and per-key labels multiply the series by the number of teams and keys: off unless asked for.
        team_label: flag.default(false),
        key_label: flag.default(false),
      })
      .strict()
      .prefault({}),
    tracing: z
      .object({
        // OpenTelemetry traces over OTLP/HTTP, configured by the standard OTEL_* environment variables
        // (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
        // OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER…). Unset: on when OTEL_TRACES_EXPORTER is otlp, else off.
        enabled: flag.optional(),
      })
      .strict()
      .prefault({}),
    request_logs: z
      .object({
        // Request log rows (the usage ledger) older than this many days are deleted; 0 keeps them for ever.
        retention_days: z.coerce.number<unknown>().int().min(0).default(30),
        // The newest rows kept at most; 0 for no cap.
        max_rows: z.coerce.number<unknown>().int().min(0).default(0),
        prune_every_ms: durationMs.default(3_600_000),
        // Request and response bodies of keys and teams that capture them (their log_payloads), cut at this size,
        // secrets masked.
        payload_max_bytes: byteSize.default(64 * 1024),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        evaluate_every_ms: durationMs.default(30_000),
        webhooks: z.array(webhookSchema).default([]),
        // A rule's name keys its firing state, shared by the instances.
        rules: z
          .array(alertRuleSchema)
          .default([])
          .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, { message: 'alert rule names must be unique' }),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        database: z
          .string()
          .regex(/^(sqlite:.|postgres(ql)?:\/\/)/, 'expected sqlite://./path.db, sqlite::memory: or postgres://user@host/db')
          .optional(),
        redis: z.string().optional(),
        // Prefix of every Redis key and channel: deployments (or test runs) sharing one Redis keep apart by it.
        redis_namespace: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').optional(),
      })
      .strict()
      .optional(),
    auth: z
      .object({
        // Clients send it as Authorization: Bearer <key> (or x-api-key / api-key, as their SDK does).
        master_key: z.string().min(16, 'the master key must be at least 16 characters').optional(),
        // Seals stored provider credentials and keys the hashes of virtual keys; previous secrets keep what older
        // ones sealed readable after a rotation. Unset: SWITCHBOARD_SECRET, then (embedded) a generated file.
        secret: z.string().optional(),
        previous_secrets: z.array(z.string()).optional(),
      })
      .strict()
      .prefault({}),
    admin: z
      .object({
        // Admin API sign-in through an identity provider: bearer JWTs verified against the issuer's published keys.
        oidc: z
          .object({
            issuer: z.url({ error: 'issuer must be the identity provider\'s URL, exactly as its tokens name it (iss)' }),
            audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
            // Unset: the jwks_uri of the issuer's /.well-known/openid-configuration.
            jwks_url: z.url({ protocol: /^https?$/, error: 'jwks_url must be an absolute http(s) URL' }).optional(),
            role_claim: z.string().min(1).default('switchboard_role'),
            org_claim: z.string().min(1).default('switchboard_org'),
            team_claim: z.string().min(1).optional(),
            user_claim: z.string().min(1).default('email'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    providers: z.record(z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'provider names may use letters, digits, _ . -'), providerSchema).default({}),
    models: z.array(modelSchema).default([]),
    routing: z
      .object({
        retry: retrySchema.prefault({}),
        circuit_breaker: circuitBreakerSchema.prefault({}),
        // Shadow samples (models[].shadow) older than this are deleted.
        shadow_retention_days: z.number().positive().default(30),
      })
      .strict()
      .prefault({}),
    pricing: z
      .object({
        // Keyed "<provider>/<model>" with the configured provider name (openai/gpt-4o, local/llama-3-70b), as clients
        // address models: self-hosted and fine-tuned models the bundled price data lacks, and negotiated prices that
        // differ from list prices. These win over the bundled data.
        models: z.record(z.string().regex(/^[^/]+\/.+$/, 'expected "<provider>/<model>"'), modelPriceSchema).default({}),
      })
      .strict()
      .prefault({}),
    usage: z
      .object({
        // The usage ledger's write-ahead journal, relative to the working directory. Unset: usage-journal beside the
        // SQLite database file, ./.switchboard/usage-journal with PostgreSQL, none with sqlite::memory:. One gateway
        // per directory.
        journal_dir: z.string().min(1).optional(),
        // Under load, journal writes start at least this far apart: the most a record waits to reach the page cache
        // (a quiet journal writes at the end of the turn). 0: a write every event-loop turn.
        journal_write_ms: z.coerce.number<unknown>().int().min(0).max(1000).default(5),
        // Records per database insert, and how long a partial batch waits for more.
        batch_size: z.coerce.number<unknown>().int().positive().max(10_000).default(500),
        flush_ms: durationMs.default(200),
        // Records held in memory while the database is slow or away; past it they wait in the journal only.
        max_queued: z.coerce.number<unknown>().int().positive().default(100_000),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        // Where counters live: memory (this instance only) or redis (shared by every instance). Unset: redis when
        // storage.redis is set, else memory.
        backend: z.enum(['memory', 'redis']).optional(),
        // When the backend cannot be reached: open (admit, log, count) or closed (refuse with 503).
        on_backend_error: z.enum(['open', 'closed']).default('open'),
        // Output tokens reserved for a request that names no max_tokens, for token limits and budgets alike.
        default_max_tokens: z.coerce.number<unknown>().int().positive().default(4096),
        rules: z.array(limitRuleSchema).default([]),
      })
      .strict()
      .prefault({}),
    budgets: z
      .object({
        alerts: z
          .object({
            // Percentages of a budget: the default for budgets that name none.
            thresholds: z.array(percent).min(1).default([50, 80, 100]),
            webhooks: z.array(webhookSchema).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ModelEntry = z.output<typeof modelSchema>;
export type ModelPrice = z.output<typeof modelPriceSchema>;
export type OidcConfig = NonNullable<Config['admin']['oidc']>;
export type LimitRuleEntry = z.output<typeof limitRuleSchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;
export type AlertRule = z.output<typeof alertRuleSchema>;
