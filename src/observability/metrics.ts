// Prometheus metrics (prom-client), served at GET /metrics (config metrics.path). Names are the ones operators search
// for (llm_gateway_*). Labels stay bounded: the route name (never a client's unknown model), the provider, the status
// class; per-team and per-key labels only when configured, and past MAX_MODELS distinct models the rest count as
// "other". Gauges that mirror state the gateway already keeps (circuits, in-flight, the usage ledger, the limits
// backend) are read at scrape time, so they cost nothing per request.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayError } from '../core/errors.ts';
import type { Config } from '../config/schema.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { Stage } from '../pipeline/stages.ts';
import type { Router } from '../routing/router.ts';
import type { UsageLedger } from '../usage/ledger/index.ts';

const PREFIX = 'llm_gateway_';
/** Past this many distinct model labels, further models are counted as "other": a bound on the series a scrape holds. */
const MAX_MODELS = 500;
const CIRCUIT_STATES = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Seconds, from sub-millisecond gateway work to the minutes a long generation takes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

type Labels = Record<string, string>;

/** One label set's children, looked up once per request instead of once per metric. */
interface Series {
  requests: Counter.Internal;
  duration: Histogram.Internal<string>;
  errors: Counter<string>;
  errorLabels: Labels;
  ttft: Histogram.Internal<string>;
  upstream: Histogram.Internal<string>;
  input: Counter.Internal;
  output: Counter.Internal;
  cached: Counter.Internal;
  cost: Counter.Internal;
  hits: Counter.Internal;
  misses: Counter.Internal;
  retries: Counter.Internal;
  fallbacks: Counter.Internal;
}

export interface MetricsSources {
  router: Router;
  usage: Pick<UsageLedger, 'status'>;
  /** Requests the limits backend could not check (admitted unchecked, or refused when it fails closed). */
  limitsBackendErrors: () => number;
}

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #options: Config['metrics'];
  readonly #labelNames: string[];
  readonly #series = new Map<string, Series>();
  readonly #models = new Set<string>();
  #inFlight = 0;

  readonly #requests: Counter<string>;
  readonly #errors: Counter<string>;
  readonly #duration: Histogram<string>;
  readonly #ttft: Histogram<string>;
  readonly #upstream: Histogram<string>;
  readonly #tokens: Counter<string>;
  readonly #cost: Counter<string>;
  readonly #hits: Counter<string>;
  readonly #misses: Counter<string>;
  readonly #retries: Counter<string>;
  readonly #fallbacks: Counter<string>;
  readonly #rejections: Counter<string>;

  constructor(options: Config['metrics'], sources: MetricsSources) {
    this.#options = options;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const owner = [...(options.team_label ? ['team'] : []), ...(options.key_label ? ['key'] : [])];
    this.#labelNames = ['model', 'provider', 'status_class', ...owner];
    const routeLabels = ['model', 'provider', ...owner];
    this.#requests = new Counter({ name: `${PREFIX}requests_total`, help: 'Requests answered, by route, provider and status class.', labelNames: this.#labelNames, registers });
    this.#errors = new Counter({ name: `${PREFIX}errors_total`, help: 'Requests that ended in an error, by error type.', labelNames: [...this.#labelNames, 'error_type'], registers });
    this.#duration = new Histogram({ name: `${PREFIX}request_duration_seconds`, help: 'Time from arrival to the last byte of the answer.', labelNames: this.#labelNames, buckets: DURATION_BUCKETS, registers });
    this.#ttft = new Histogram({ name: `${PREFIX}time_to_first_token_seconds`, help: 'Streams: time from arrival to the first chunk sent.', labelNames: routeLabels, buckets: DURATION_BUCKETS, registers });
    this.#upstream = new Histogram({ name: `${PREFIX}upstream_duration_seconds`, help: "Time spent waiting on providers (a stream's up to its first chunk), backoff between attempts included.", labelNames: routeLabels, buckets: DURATION_BUCKETS, registers });
    this.#tokens = new Counter({ name: `${PREFIX}token_usage_total`, help: 'Tokens, by direction: input (the whole prompt), output, cached (prompt tokens read from the provider cache).', labelNames: [...routeLabels, 'direction'], registers });
    this.#cost = new Counter({ name: `${PREFIX}cost_usd_total`, help: 'What the answers cost at the configured or bundled prices, in USD.', labelNames: routeLabels, registers });
    this.#hits = new Counter({ name: `${PREFIX}cache_hits_total`, help: 'Requests answered without a provider call of their own (an identical request in flight shared its answer).', labelNames: routeLabels, registers });
    this.#misses = new Counter({ name: `${PREFIX}cache_misses_total`, help: 'Requests that made their own provider call.', labelNames: routeLabels, registers });
    this.#retries = new Counter({ name: `${PREFIX}retries_total`, help: 'Upstream attempts beyond the first.', labelNames: routeLabels, registers });
    this.#fallbacks = new Counter({ name: `${PREFIX}fallbacks_total`, help: 'Requests answered by a target other than the first one tried.', labelNames: routeLabels, registers });
    this.#rejections = new Counter({ name: `${PREFIX}limit_rejections_total`, help: 'Requests refused by a rate limit, quota or budget.', labelNames: ['kind'], registers });

    const inFlight = () => this.#inFlight;
    new Gauge({
      name: `${PREFIX}in_flight_requests`,
      help: 'Requests being served now.',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    new Gauge({
      name: `${PREFIX}circuit_state`,
      help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.router.health()) if (t.circuit) this.set({ target: t.id }, CIRCUIT_STATES[t.circuit.state]);
      },
    });
    new Gauge({
      name: `${PREFIX}upstream_in_flight_requests`,
      help: 'Calls in flight per target.',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.router.health()) this.set({ target: t.id }, t.in_flight);
      },
    });
    new Gauge({
      name: `${PREFIX}usage_records_pending`,
      help: 'Usage records not yet in the database: held in memory (queued) or only in the journal (journaled).',
      labelNames: ['where'],
      registers,
      collect() {
        const status = sources.usage.status();
        this.set({ where: 'queued' }, status.queued);
        this.set({ where: 'journaled' }, status.journaled);
      },
    });
    new Counter({
      name: `${PREFIX}limits_backend_errors_total`,
      help: 'Times the limits backend could not be reached (requests admitted unchecked, or refused when it fails closed).',
      registers,
      collect() {
        this.reset();
        this.inc(sources.limitsBackendErrors());
      },
    });
  }

  /** Counts the request while it runs, and records its outcome once it ended. */
  stage(): Stage {
    return {
      name: 'metrics',
      before: () => {
        this.#inFlight++;
      },
      after: (ctx) => {
        this.#inFlight--;
        this.record(ctx);
      },
    };
  }

  /** A request refused before any pipeline ran (a malformed body, an unknown route). */
  refused(status: number): void {
    this.#requests.inc(this.#owned({ model: '', provider: '', status_class: statusClass(status) }, undefined));
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private record(ctx: RequestContext): void {
    const error = ctx.error;
    const status = error?.status ?? 200;
    const s = this.#seriesOf(ctx, status);
    const seconds = (performance.now() - ctx.startedAt) / 1000;
    s.requests.inc();
    s.duration.observe(seconds);
    if (error) this.#failed(s, error);
    if (ctx.ttftMs !== undefined) s.ttft.observe(ctx.ttftMs / 1000);
    if (ctx.attempts > 0) {
      s.upstream.observe(ctx.upstreamMs / 1000);
      if (ctx.attempts > 1) s.retries.inc(ctx.attempts - 1);
      if (ctx.route && ctx.target && ctx.route.targets[0]?.id !== ctx.target.id) s.fallbacks.inc();
    }
    if (ctx.coalesced) s.hits.inc();
    else if (ctx.attempts > 0) s.misses.inc();
    const usage = ctx.usage;
    if (usage) {
      if (usage.prompt_tokens) s.input.inc(usage.prompt_tokens);
      if (usage.completion_tokens) s.output.inc(usage.completion_tokens);
      const cached = usage.prompt_tokens_details?.cached_tokens;
      if (cached) s.cached.inc(cached);
    }
    if (ctx.cost?.usd) s.cost.inc(ctx.cost.usd);
  }

  #failed(s: Series, error: GatewayError): void {
    s.errors.inc({ ...s.errorLabels, error_type: error.type });
    if (error.code === 'rate_limit_exceeded' || error.code === 'request_too_large_for_limit') this.#rejections.inc({ kind: 'rate_limit' });
    else if (error.code === 'budget_exceeded') this.#rejections.inc({ kind: 'budget' });
  }

  #seriesOf(ctx: RequestContext, status: number): Series {
    // Routes are configured or resolved names; a request refused before routing keeps no model of its own.
    let model = ctx.route?.name ?? '';
    if (model !== '' && !this.#models.has(model)) {
      if (this.#models.size < MAX_MODELS) this.#models.add(model);
      else model = 'other';
    }
    const provider = ctx.target?.provider.name ?? '';
    const cls = statusClass(status);
    const identity = ctx.identity;
    const team = this.#options.team_label ? (identity?.team_id ?? '') : '';
    const key = this.#options.key_label ? (identity?.key_id ?? '') : '';
    const id = `${model}\u0000${provider}\u0000${cls}\u0000${team}\u0000${key}`;
    let s = this.#series.get(id);
    if (!s) {
      const labels = this.#owned({ model, provider, status_class: cls }, identity && { team, key });
      const route = this.#owned({ model, provider }, identity && { team, key });
      s = {
        requests: this.#requests.labels(labels),
        duration: this.#duration.labels(labels),
        errors: this.#errors,
        errorLabels: labels,
        ttft: this.#ttft.labels(route),
        upstream: this.#upstream.labels(route),
        input: this.#tokens.labels({ ...route, direction: 'input' }),
        output: this.#tokens.labels({ ...route, direction: 'output' }),
        cached: this.#tokens.labels({ ...route, direction: 'cached' }),
        cost: this.#cost.labels(route),
        hits: this.#hits.labels(route),
        misses: this.#misses.labels(route),
        retries: this.#retries.labels(route),
        fallbacks: this.#fallbacks.labels(route),
      };
      this.#series.set(id, s);
    }
    return s;
  }

  #owned(labels: Labels, owner: { team: string; key: string } | undefined): Labels {
    if (this.#options.team_label) labels.team = owner?.team ?? '';
    if (this.#options.key_label) labels.key = owner?.key ?? '';
    return labels;
  }
}
