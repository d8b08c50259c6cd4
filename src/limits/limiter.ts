// Which counters a request touches, and what happens when one is full. Every limit that applies (the config's rules,
// and the key's, team's, user's and organization's from the database) and every budget of the caller becomes one
// backend op; they are admitted together in one backend call (one Redis round trip), so no scope can be overshot by
// requests racing each other across instances. Token limits and budgets reserve the most the request can consume
// (its prompt estimate plus its max output tokens) and settle with the provider's real usage afterwards.

import { randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import type { Usage } from '../core/types.ts';
import type { UsageFilter } from '../store/repositories/usage.ts';
import { sleepUnlessAborted } from '../http/abort.ts';
import type { Identity } from '../identity/identity.ts';
import { checkModel, globToRegExp } from '../identity/model-access.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { Route, Router } from '../routing/router.ts';
import { costOf } from '../usage/cost.ts';
import { estimateTokens } from '../usage/estimate-tokens.ts';
import type { Pricing } from '../usage/pricing.ts';
import type { Admission, LimitBackend, LimitOp, OpResult, Settlement } from './backend.ts';
import type { BudgetRule, LimitMetric, LimitRule } from './rules.ts';
import { budgetWindow, calendarWindow, type Window } from './windows.ts';

/** The ledger's columns a counter can be seeded by. */
export type SeedFilter = UsageFilter;

/** Totals per bucket from the usage ledger, for counters that do not exist yet (first use, or Redis restarted). */
export type LedgerTotals = (filter: SeedFilter, fromMs: number, bucketMs: number | undefined) => Promise<Map<number, { cost_nano_usd: number; tokens: number }>>;

export interface BudgetAlerter {
  crossed(budget: BudgetRule, periodStartMs: number, spentBeforeUsd: number, spentAfterUsd: number): void;
}

export interface LimiterOptions {
  backend: LimitBackend;
  /** The config file's rules (already given ids); the database's come with each identity. */
  rules: readonly LimitRule[];
  defaultMaxTokens: number;
  onBackendError: 'open' | 'closed';
  pricing: Pricing;
  router: Router;
  ledgerTotals: LedgerTotals;
  alerts: BudgetAlerter | undefined;
  logger: Logger;
  now?: () => number;
}

/** One counter a request was admitted through, with what it took. */
interface Counted {
  op: LimitOp;
  /** The rule it enforces (limits) or the budget. */
  rule: LimitRule | undefined;
  budget: BudgetRule | undefined;
  metric: LimitMetric | 'budget';
  window: Window | undefined;
  seed: SeedFilter | undefined;
}

export interface Reservation {
  counted: Counted[];
  /** Tokens taken from every token counter. */
  tokens: number;
  /** Nano-USD taken from every budget. */
  costNano: number;
  /** Each budget's spend right after the reservation, in nano-USD, for threshold alerts. */
  budgetSpend: number[];
}

const MINUTE = 60_000;
const NANO = 1e9;
/** A soft budget counts spend but never refuses: its counter's limit is out of reach. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
/** A concurrency lease outlives any request (the longest total timeout is 15 minutes by default). */
const LEASE_TTL = 30 * MINUTE;
const TOKEN_METRICS = new Set<string>(['tokens_per_minute', 'tokens_per_day', 'tokens_per_month']);
const REQUEST_METRICS = new Set<string>(['requests_per_second', 'requests_per_minute']);

interface Estimate {
  prompt: number;
  output: number;
  total: number;
}

export class Limiter {
  /** Leases must be unique across instances even when clients reuse request ids. */
  private readonly instance = randomBytes(6).toString('hex');
  private leaseSeq = 0;
  private readonly now: () => number;
  private readonly matchers = new Map<string, RegExp>();
  /** Counted for the metric and the log when the backend was unreachable and requests went through unchecked. */
  backendErrors = 0;
  private unsettled: Settlement[] = [];
  private lastFailureLog = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: LimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The config file's rules. */
  get rules(): readonly LimitRule[] {
    return this.opts.rules;
  }

  get backendName(): LimitBackend['name'] {
    return this.opts.backend.name;
  }

  /** Whether anything could apply to this identity: the stage skips the limiter entirely when not. */
  applies(identity: Identity | undefined): boolean {
    return this.opts.rules.length > 0 || (identity !== undefined && (identity.limits.length > 0 || identity.budgets.length > 0));
  }

  /**
   * Admits the request through every counter that applies, or throws the 429 the first refusing one calls for; a
   * rule may instead queue the request for a while, or serve it with a cheaper model (ctx.route changes).
   */
  async reserve(ctx: RequestContext): Promise<void> {
    const started = this.now();
    let downgraded = false;
    for (;;) {
      const plan = this.plan(ctx);
      if (plan.counted.length === 0) return;
      let admission: Admission;
      try {
        admission = await this.admit(plan.counted);
      } catch (err) {
        if (this.opts.onBackendError === 'closed') {
          throw new GatewayError(503, 'api_error', 'Rate limits cannot be checked right now (the limits backend is unreachable); retry shortly.', {
            code: 'limits_unavailable',
            headers: { 'retry-after': '1' },
          });
        }
        this.backendFailed(err, 'requests admitted unchecked');
        return;
      }
      if (admission.admitted) {
        ctx.reservation = {
          counted: plan.counted,
          tokens: plan.tokens,
          costNano: plan.costNano,
          budgetSpend: plan.counted.map((c, i) => (c.budget ? c.op.limit - admission.results[i]!.remaining : 0)),
        };
        this.headers(ctx, plan.counted, admission.results);
        return;
      }
      const refusing = plan.counted
        .map((c, i) => ({ c, r: this.withWindowTimes(c, admission.results[i]!) }))
        .filter(({ r }) => !r.allowed && !r.missing);
      const budget = refusing.find(({ c }) => c.budget);
      if (budget) {
        this.alertRefusal(budget.c, budget.r);
        throw budgetExceeded(budget.c, budget.r, plan.costNano);
      }
      const rules = refusing.map(({ c }) => c.rule!);
      const wait = Math.max(...refusing.map(({ r }) => r.retryAfterMs));
      const first = refusing[0]!;
      const downgrade = rules.find((r) => r.on_limit === 'downgrade');
      if (!rules.some((r) => r.on_limit === 'reject') && downgrade && !downgraded) {
        downgraded = true;
        this.downgrade(ctx, downgrade.downgrade_to!);
        continue;
      }
      if (rules.every((r) => r.on_limit === 'queue') && wait > 0) {
        const deadline = started + Math.min(...rules.map((r) => r.queue_ms!));
        if (this.now() + wait <= deadline) {
          await sleepUnlessAborted(ctx.abort, wait);
          continue;
        }
      }
      throw rateLimited(first.c, refusing.length > 1 ? wait : first.r.retryAfterMs, plan.tokens, this.headerValues(plan.counted, admission.results));
    }
  }

  /** Gives back (or takes more of) what the request reserved, now that its usage is known; releases its leases. */
  settle(ctx: RequestContext): void {
    const reservation = ctx.reservation;
    if (!reservation) return;
    ctx.reservation = undefined;
    const reached = ctx.attempts > 0;
    const usage = ctx.usage;
    // A request that never reached a provider consumed nothing; one that did but reported nothing keeps its
    // reservation, since what it really cost cannot be known.
    const tokens = !reached ? 0 : usage ? usedTokens(usage) : reservation.tokens;
    const cost = costOf(ctx, this.opts.pricing);
    const costNano = !reached ? 0 : usage && cost ? Math.round(cost.usd * NANO) : reservation.costNano;
    const items: Settlement[] = [];
    reservation.counted.forEach((c, i) => {
      const op = c.op;
      if (op.kind === 'concurrency') items.push({ kind: 'release', key: op.key, lease: op.lease });
      else if (c.budget) {
        const delta = costNano - reservation.costNano;
        if (delta !== 0 && op.kind === 'window') items.push({ kind: 'window', key: op.key, bucketStartMs: op.bucketStartMs, delta, ttlMs: op.ttlMs });
        const before = reservation.budgetSpend[i]! - reservation.costNano;
        this.opts.alerts?.crossed(c.budget, c.window!.alertPeriodMs, before / NANO, (before + costNano) / NANO);
      } else if (TOKEN_METRICS.has(c.metric) && tokens !== reservation.tokens) {
        const delta = tokens - reservation.tokens;
        if (op.kind === 'rate') items.push({ kind: 'rate', key: op.key, limit: op.limit, periodMs: op.periodMs, burst: op.burst, delta });
        else if (op.kind === 'window') items.push({ kind: 'window', key: op.key, bucketStartMs: op.bucketStartMs, delta, ttlMs: op.ttlMs });
      }
    });
    if (items.length === 0) return;
    for (const item of items) this.unsettled.push(item);
    // Settlements of every request that ends in the same event-loop turn go in one backend call (one Redis round trip).
    if (this.unsettled.length === items.length) setImmediate(() => void this.flush());
  }

  /** Sends what is waiting to be settled; on close, so nothing taken is kept. */
  async flush(): Promise<void> {
    const items = this.unsettled;
    if (items.length === 0) return;
    this.unsettled = [];
    try {
      await this.opts.backend.settle(items, this.now());
    } catch (err) {
      this.backendFailed(err, 'settlements lost');
    }
  }

  /** Counted every time, logged at most every 10 s: an outage under load must not become a log flood. */
  private backendFailed(err: unknown, consequence: string): void {
    this.backendErrors++;
    const now = this.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.opts.logger.warn({ err: (err as Error).message, failures: this.backendErrors }, `limits backend unreachable: ${consequence}`);
  }

  /** A counter's current total (budgets: spend in nano-USD; quotas: tokens), seeding it from the ledger if needed. */
  private async current(c: Pick<Counted, 'op' | 'window' | 'seed'>): Promise<number> {
    const op = c.op as Extract<LimitOp, { kind: 'window' }>;
    const value = await this.opts.backend.peek(op.key, op.windowStartMs);
    if (value !== undefined) return value;
    await this.seed(c as Counted);
    return (await this.opts.backend.peek(op.key, op.windowStartMs)) ?? 0;
  }

  /** A budget's spend in its current window, for the key's own view (GET /v1/key/info). */
  async budgetStatus(budget: BudgetRule): Promise<{ spentUsd: number; startMs: number; resetsAtMs: number }> {
    const c = this.budgetCounted(budget, this.now(), 0);
    return { spentUsd: (await this.current(c)) / NANO, startMs: c.window!.startMs, resetsAtMs: c.window!.resetAtMs };
  }

  private async admit(counted: Counted[]): Promise<Admission> {
    const ops = counted.map((c) => c.op);
    let admission = await this.opts.backend.admit(ops, this.now());
    // Counters that do not exist yet start from what the ledger has already recorded in their window; then once more.
    if (!admission.admitted && admission.results.some((r) => r.missing)) {
      await Promise.all(counted.filter((_, i) => admission.results[i]!.missing).map((c) => this.seed(c)));
      admission = await this.opts.backend.admit(ops, this.now());
    }
    return admission;
  }

  private async seed(c: Counted): Promise<void> {
    const op = c.op as Extract<LimitOp, { kind: 'window' }>;
    const totals = await this.opts.ledgerTotals(c.seed!, c.window!.startMs, c.window!.bucketMs);
    const buckets = new Map<number, number>();
    for (const [start, total] of totals) buckets.set(start, c.budget ? total.cost_nano_usd : total.tokens);
    await this.opts.backend.seed(op.key, buckets, op.ttlMs);
  }

  private plan(ctx: RequestContext): { counted: Counted[]; tokens: number; costNano: number } {
    const identity = ctx.identity;
    const rules = identity && identity.limits.length > 0 ? [...this.opts.rules, ...identity.limits] : this.opts.rules;
    const budgets = identity?.budgets ?? [];
    const counted: Counted[] = [];
    if (rules.length === 0 && budgets.length === 0) return { counted, tokens: 0, costNano: 0 };
    const now = this.now();
    let estimate: Estimate | undefined;
    const sized = () => (estimate ??= this.estimate(ctx));
    const tokensNeeded = () => sized().total;
    for (const rule of rules) {
      const subject = this.subject(rule, identity, ctx);
      if (subject === undefined) continue;
      const base = `l:${rule.id}:${subject.key}`;
      const rate = (metric: LimitMetric, periodMs: number, limit: number, cost: number, burst: number) =>
        counted.push({ op: { kind: 'rate', key: `${base}:${metric}`, limit, periodMs, burst, cost }, rule, budget: undefined, metric, window: undefined, seed: undefined });
      if (rule.requests_per_second) rate('requests_per_second', 1000, rule.requests_per_second, 1, rule.burst ?? rule.requests_per_second);
      if (rule.requests_per_minute) rate('requests_per_minute', MINUTE, rule.requests_per_minute, 1, rule.burst ?? rule.requests_per_minute);
      if (rule.tokens_per_minute) rate('tokens_per_minute', MINUTE, rule.tokens_per_minute, tokensNeeded(), rule.tokens_per_minute);
      for (const metric of QUOTA_METRICS) {
        if (rule[metric]) counted.push(quotaCounted(rule, metric, base, subject.seed, now, tokensNeeded()));
      }
      if (rule.max_concurrent) {
        const lease = `${this.instance}:${this.leaseSeq++}`;
        counted.push({ op: { kind: 'concurrency', key: `${base}:max_concurrent`, limit: rule.max_concurrent, lease, ttlMs: LEASE_TTL }, rule, budget: undefined, metric: 'max_concurrent', window: undefined, seed: undefined });
      }
    }
    let costNano = 0;
    if (budgets.length > 0) {
      costNano = this.maxCostNano(ctx, sized());
      for (const budget of budgets) counted.push(this.budgetCounted(budget, now, costNano));
    }
    return { counted, tokens: estimate?.total ?? 0, costNano };
  }

  /** The key's token quotas now (GET /v1/key/info): the config's rules for every key, team, user, org, and its own. */
  async quotas(identity: Identity): Promise<{ rule: LimitRule; metric: QuotaMetric; limit: number; used: number; resetsAtMs: number }[]> {
    const now = this.now();
    const out = [];
    for (const rule of [...this.opts.rules, ...identity.limits]) {
      const subject = this.subject(rule, identity, undefined);
      if (!subject) continue;
      for (const metric of QUOTA_METRICS) {
        if (!rule[metric]) continue;
        const c = quotaCounted(rule, metric, `l:${rule.id}:${subject.key}`, subject.seed, now, 0);
        out.push({ rule, metric, limit: c.op.limit, used: await this.current(c), resetsAtMs: c.window!.resetAtMs });
      }
    }
    return out;
  }

  private budgetCounted(budget: BudgetRule, now: number, costNano: number): Counted {
    const window = budgetWindow(budget.period, budget.window, now);
    const limit = budget.enforcement === 'hard' ? Math.round(budget.amount_usd * NANO) : UNBOUNDED;
    // Calendar periods get a counter each; a rolling window is one counter whose buckets age out.
    const key = budget.window === 'calendar' ? `b:${budget.id}:${window.startMs}` : `b:${budget.id}`;
    return {
      op: { kind: 'window', key, limit, windowStartMs: window.startMs, bucketStartMs: window.bucketStartMs, cost: costNano, ttlMs: window.ttlMs },
      rule: undefined,
      budget,
      metric: 'budget',
      window,
      seed: { [`${budget.scope}_id`]: budget.subject_id },
    };
  }

  /**
   * What the rule counts this request under (its counter's key and the ledger filter that seeds it), or undefined when
   * the rule does not apply: a subject the caller lacks, a model or target the rule does not match.
   */
  private subject(rule: LimitRule, identity: Identity | undefined, ctx: RequestContext | undefined): { key: string; seed: SeedFilter } | undefined {
    switch (rule.scope) {
      case 'global':
        return { key: 'all', seed: {} };
      case 'org':
      case 'team':
      case 'user':
      case 'key': {
        const id = identity?.[`${rule.scope}_id`];
        if (id === undefined || (rule.subject_id !== undefined && rule.subject_id !== id)) return undefined;
        return { key: id, seed: { [`${rule.scope}_id`]: id } };
      }
      case 'model': {
        if (!ctx) return undefined;
        const model = ctx.route?.name ?? ctx.model;
        if (rule.match !== undefined && !this.matcher(rule.match).test(model)) return undefined;
        return { key: model, seed: { model } };
      }
      case 'target': {
        // The route's first choice: the target a request is meant for (routing strategies pick among the rest).
        const target = ctx?.route?.targets[0];
        if (!target) return undefined;
        const name = `${target.provider.name}/${target.model}`;
        if (rule.match !== undefined && rule.match !== target.provider.name && !this.matcher(rule.match).test(name)) return undefined;
        return { key: name, seed: { provider: target.provider.name, provider_model: target.model } };
      }
    }
  }

  private matcher(glob: string): RegExp {
    let re = this.matchers.get(glob);
    if (!re) this.matchers.set(glob, (re = globToRegExp(glob)));
    return re;
  }

  private estimate(ctx: RequestContext): Estimate {
    const sizing = ctx.sizing;
    const prompt = sizing ? estimateTokens(sizing.prompt) : 0;
    const output = sizing ? (sizing.maxOutputTokens ?? this.opts.defaultMaxTokens) : 0;
    return { prompt, output, total: prompt + output };
  }

  /** The most the request can cost on any of its route's targets (a fallback may land on the dearest). */
  private maxCostNano(ctx: RequestContext, { prompt, output }: Estimate): number {
    const usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
    let max = 0;
    for (const target of ctx.route?.targets ?? []) {
      max = Math.max(max, this.opts.pricing.cost(target.provider, target.model, usage).usd);
    }
    return Math.ceil(max * NANO);
  }

  private downgrade(ctx: RequestContext, model: string): void {
    const route: Route = this.opts.router.resolve(model);
    if (ctx.identity) checkModel(ctx.identity, model, route);
    ctx.route = route;
    ctx.response?.setHeader('x-switchboard-downgraded-to', model);
  }

  /**
   * The backend cannot know when a window moves on; the limiter does: a full quota or budget has room again once its
   * period ends (calendar) or its oldest bucket leaves (rolling). A request larger than the whole limit never has.
   */
  private withWindowTimes(c: Counted, r: OpResult): OpResult {
    if (!c.window || r.allowed) return r;
    const resetMs = Math.max(0, c.window.resetAtMs - this.now());
    const never = c.op.kind === 'window' && c.op.cost > c.op.limit;
    return { ...r, resetMs, retryAfterMs: never || !Number.isFinite(resetMs) ? 0 : resetMs };
  }

  private alertRefusal(c: Counted, r: OpResult): void {
    // A hard budget refuses before it is reached, so "100 %" is announced when a request is refused for want of it.
    const spent = c.op.limit - r.remaining;
    this.opts.alerts?.crossed(c.budget!, c.window!.alertPeriodMs, spent / NANO, c.budget!.amount_usd);
  }

  private headers(ctx: RequestContext, counted: Counted[], results: OpResult[]): void {
    const response = ctx.response;
    if (!response) return;
    for (const [name, value] of Object.entries(this.headerValues(counted, results))) response.setHeader(name, value);
  }

  /** OpenAI's x-ratelimit-* headers, from the tightest request counter and the tightest token counter. */
  private headerValues(counted: Counted[], results: OpResult[]): Record<string, string> {
    const headers: Record<string, string> = {};
    const tightest = (metrics: Set<string>) => {
      let best: number | undefined;
      counted.forEach((c, i) => {
        if (metrics.has(c.metric) && (best === undefined || results[i]!.remaining < results[best]!.remaining)) best = i;
      });
      return best;
    };
    const write = (suffix: string, i: number | undefined) => {
      if (i === undefined) return;
      const c = counted[i]!;
      const r = results[i]!;
      const resetMs = c.window ? Math.max(0, c.window.resetAtMs - this.now()) : r.resetMs;
      headers[`x-ratelimit-limit-${suffix}`] = String(c.op.limit);
      headers[`x-ratelimit-remaining-${suffix}`] = String(Math.max(0, Math.floor(r.remaining)));
      headers[`x-ratelimit-reset-${suffix}`] = duration(resetMs);
    };
    write('requests', tightest(REQUEST_METRICS));
    write('tokens', tightest(TOKEN_METRICS));
    return headers;
  }
}

const QUOTA_METRICS = ['tokens_per_day', 'tokens_per_month'] as const;
type QuotaMetric = (typeof QUOTA_METRICS)[number];

function quotaCounted(rule: LimitRule, metric: QuotaMetric, base: string, seed: SeedFilter, now: number, cost: number): Counted {
  const window = calendarWindow(metric === 'tokens_per_day' ? 'daily' : 'monthly', now);
  return {
    op: { kind: 'window', key: `${base}:${metric}:${window.startMs}`, limit: rule[metric]!, windowStartMs: window.startMs, bucketStartMs: window.bucketStartMs, cost, ttlMs: window.ttlMs },
    rule,
    budget: undefined,
    metric,
    window,
    seed,
  };
}

function usedTokens(usage: Usage): number {
  return usage.prompt_tokens + usage.completion_tokens;
}

/** OpenAI's reset format: 1s, 6m0s, 20ms, 1h2m3s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

const METRIC_TEXT: Record<LimitMetric, string> = {
  requests_per_second: 'requests per second',
  requests_per_minute: 'requests per minute',
  tokens_per_minute: 'tokens per minute',
  tokens_per_day: 'tokens per day',
  tokens_per_month: 'tokens per month',
  max_concurrent: 'concurrent requests',
};

function scopeText(rule: LimitRule): string {
  return rule.scope === 'global' ? 'the gateway' : `this ${rule.scope === 'target' ? 'provider target' : rule.scope}`;
}

function rateLimited(c: Counted, retryAfterMs: number, tokens: number, headers: Record<string, string>): GatewayError {
  const rule = c.rule!;
  const metric = c.metric as LimitMetric;
  const limit = `${c.op.limit} ${METRIC_TEXT[metric]}`;
  const never = retryAfterMs <= 0 && TOKEN_METRICS.has(metric) && tokens > c.op.limit;
  const message = never
    ? `This request needs about ${tokens} tokens (prompt estimate plus max_tokens), more than the limit of ${limit} for ${scopeText(rule)} allows at once; lower max_tokens or shorten the prompt.`
    : `Rate limit reached for ${scopeText(rule)}: ${limit}. Retry after ${duration(Math.max(retryAfterMs, 1))}.`;
  return new GatewayError(429, 'rate_limit_error', message, {
    code: never ? 'request_too_large_for_limit' : 'rate_limit_exceeded',
    headers: {
      ...headers,
      ...(retryAfterMs > 0 ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)), 'retry-after-ms': String(Math.ceil(retryAfterMs)) } : { 'x-should-retry': 'false' }),
    },
  });
}

function budgetExceeded(c: Counted, r: OpResult, costNano: number): GatewayError {
  const budget = c.budget!;
  const left = Math.max(0, r.remaining) / NANO;
  const resetMs = r.retryAfterMs;
  const period = budget.period === 'total' ? 'total' : `${budget.window === 'rolling' ? 'rolling ' : ''}${budget.period}`;
  return new GatewayError(
    429,
    'insufficient_quota',
    `Budget exceeded: the ${period} budget of $${budget.amount_usd} for this ${budget.scope} has $${left.toFixed(6)} left, and this request could cost up to $${(costNano / NANO).toFixed(6)} (lower max_tokens to fit).`,
    {
      code: 'budget_exceeded',
      // Retrying before the budget resets cannot succeed: the SDKs' automatic retries are told not to.
      headers: { 'x-should-retry': 'false', ...(resetMs > 0 ? { 'retry-after': String(Math.ceil(resetMs / 1000)) } : {}) },
    },
  );
}
