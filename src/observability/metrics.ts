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

/** Counts each label set keeps as plain numbers: indexes into Series.counts. */
const REQUESTS = 0;
const INPUT = 1;
const OUTPUT = 2;
const CACHED = 3;
const COST = 4;
const HITS = 5;
const MISSES = 6;
const RETRIES = 7;
const FALLBACKS = 8;
const COUNTS = 9;

/**
 * One label set's figures. Counters are plain numbers added to on the request path and handed to prom-client when
 * scraped: a prom-client counter hashes its labels on every inc, even through a child, and the eight of them cost
 * more than the rest of the metrics together. Histograms are observed as requests end.
 */
interface Series {
  labels: Labels;
  route: Labels;
  counts: Float64Array;
  /** Failed requests by error type. */
  errors: Map<string, number>;
  duration: Histogram.Internal<string>;
  ttft: Histogram.Internal<string>;
  upstream: Histogram.Internal<string>;
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

  readonly #duration: Histogram<string>;
  readonly #ttft: Histogram<string>;
  readonly #upstream: Histogram<string>;
  readonly #rejections: Counter<string>;

  constructor(options: Config['metrics'], sources: MetricsSources) {
    this.#options = options;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const owner = [...(options.team_label ? ['team'] : []), ...(options.key_label ? ['key'] : [])];
    this.#labelNames = ['model', 'provider', 'status_class', ...owner];
    const routeLabels = ['model', 'provider', ...owner];
    const series = this.#series;
    /** A counter filled at scrape time from each series' counts (`pick` hands over each label set and its value). */
    const counted = (name: string, help: string, labelNames: string[], pick: (s: Series, add: (labels: Labels, value: number) => void) => void) =>
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of series.values()) {
            pick(s, (labels, value) => {
              if (value > 0) this.inc(labels, value);
            });
          }
        },
      });
    const count = (index: number, labels: 'labels' | 'route') => (s: Series, add: (labels: Labels, value: number) => void) => add(s[labels], s.counts[index]!);
    counted('requests_total', 'Requests answered, by route, provider and status class.', this.#labelNames, count(REQUESTS, 'labels'));
    counted('errors_total', 'Requests that ended in an error, by error type.', [...this.#labelNames, 'error_type'], (s, add) => {
      for (const [type, n] of s.errors) add({ ...s.labels, error_type: type }, n);
    });
    counted('token_usage_total', 'Tokens, by direction: input (the whole prompt), output, cached (prompt tokens read from the provider cache).', [...routeLabels, 'direction'], (s, add) => {
      add({ ...s.route, direction: 'input' }, s.counts[INPUT]!);
      add({ ...s.route, direction: 'output' }, s.counts[OUTPUT]!);
      add({ ...s.route, direction: 'cached' }, s.counts[CACHED]!);
    });
    counted('cost_usd_total', 'What the answers cost at the configured or bundled prices, in USD.', routeLabels, count(COST, 'route'));
    counted('cache_hits_total', 'Requests answered without a provider call of their own (an identical request in flight shared its answer).', routeLabels, count(HITS, 'route'));
    counted('cache_misses_total', 'Requests that made their own provider call.', routeLabels, count(MISSES, 'route'));
    counted('retries_total', 'Upstream attempts beyond the first.', routeLabels, count(RETRIES, 'route'));
    counted('fallbacks_total', 'Requests answered by a target other than the first one tried.', routeLabels, count(FALLBACKS, 'route'));
    this.#duration = new Histogram({ name: `${PREFIX}request_duration_seconds`, help: 'Time from arrival to the last byte of the answer.', labelNames: this.#labelNames, buckets: DURATION_BUCKETS, registers });
    this.#ttft = new Histogram({ name: `${PREFIX}time_to_first_token_seconds`, help: 'Streams: time from arrival to the first chunk sent.', labelNames: routeLabels, buckets: DURATION_BUCKETS, registers });
    this.#upstream = new Histogram({ name: `${PREFIX}upstream_duration_seconds`, help: "Time spent waiting on providers (a stream's up to its first chunk), backoff between attempts included.", labelNames: routeLabels, buckets: DURATION_BUCKETS, registers });
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
    this.#seriesFor('', '', statusClass(status), undefined).counts[REQUESTS]!++;
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
    const s = this.#seriesOf(ctx, error?.status ?? 200);
    const counts = s.counts;
    counts[REQUESTS]!++;
    s.duration.observe((performance.now() - ctx.startedAt) / 1000);
    if (error) this.#failed(s, error);
    if (ctx.ttftMs !== undefined) s.ttft.observe(ctx.ttftMs / 1000);
    if (ctx.attempts > 0) {
      s.upstream.observe(ctx.upstreamMs / 1000);
      counts[RETRIES]! += ctx.attempts - 1;
      if (ctx.route && ctx.target && ctx.route.targets[0]?.id !== ctx.target.id) counts[FALLBACKS]!++;
    }
    if (ctx.coalesced) counts[HITS]!++;
    else if (ctx.attempts > 0) counts[MISSES]!++;
    const usage = ctx.usage;
    if (usage) {
      counts[INPUT]! += usage.prompt_tokens || 0;
      counts[OUTPUT]! += usage.completion_tokens || 0;
      counts[CACHED]! += usage.prompt_tokens_details?.cached_tokens || 0;
    }
    counts[COST]! += ctx.cost?.usd || 0;
  }

  #failed(s: Series, error: GatewayError): void {
    s.errors.set(error.type, (s.errors.get(error.type) ?? 0) + 1);
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
    return this.#seriesFor(model, ctx.target?.provider.name ?? '', statusClass(status), ctx.identity);
  }

  #seriesFor(model: string, provider: string, cls: string, identity: RequestContext['identity']): Series {
    const team = this.#options.team_label ? (identity?.team_id ?? '') : '';
    const key = this.#options.key_label ? (identity?.key_id ?? '') : '';
    const id = `${model}\u0000${provider}\u0000${cls}\u0000${team}\u0000${key}`;
    let s = this.#series.get(id);
    if (!s) {
      const owner = identity && { team, key };
      const labels = this.#owned({ model, provider, status_class: cls }, owner);
      const route = this.#owned({ model, provider }, owner);
      s = {
        labels,
        route,
        counts: new Float64Array(COUNTS),
        errors: new Map(),
        duration: this.#duration.labels(labels),
        ttft: this.#ttft.labels(route),
        upstream: this.#upstream.labels(route),
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
