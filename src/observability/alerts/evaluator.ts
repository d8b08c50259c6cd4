// Alert rules (config alerts.rules) at work. Requests feed this instance's accumulator through the usage stage; every
// evaluate_every_ms the instance adds what it counted to the shared minutes in the kv, and whichever instance first
// claims the interval reads the rules' windows from there and sets subjects firing or resolved. Circuit changes are
// taken at once. Every change of state is made in the kv by one atomic step that only one instance can win, and only
// that instance notifies the webhooks, so a cluster on one Redis sends each notification once; on the memory kv the
// same code serves one instance. Nothing here is on a request's path but the accumulator's increments, and a kv or a
// webhook out of reach is logged, never felt by requests.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AlertRule, Config } from '../../config/schema.ts';
import type { Kv } from '../../store/kv/index.ts';
import type { Logger } from '../logger.ts';
import { describeError, WebhookSender, type WebhookDestination, type WebhookSenderOptions } from '../webhooks.ts';
import { MINUTE_MS, TrafficAccumulator } from './accumulator.ts';
import { alertBodies, type AlertEvent } from './notify.ts';
import { OpenCircuits } from './open-circuits.ts';
import { circuitKey, observe, observeCircuits, transitions, type Observation, type Subject, type Transitions } from './rules.ts';
import { addDeltas, readMinutes, windowTotals } from './shared-minutes.ts';
import { AlertStates } from './state.ts';

export interface AlertEvaluatorOptions {
  config: Config['alerts'];
  /** Shared by every instance (Redis), or this instance's own. */
  kv: Pick<Kv, 'incrBy' | 'hincrBy' | 'hgetAll' | 'hset' | 'hsetIfAbsent' | 'hdel'>;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** The configured models routing to a "<provider>/<model>" target, for circuit_open rules naming a model. */
  routesOf?: (target: string) => readonly string[];
  /** Epoch ms. */
  now?: () => number;
  /** Named in notifications: this instance's host name by default. */
  gateway?: string;
  webhook?: Omit<WebhookSenderOptions, 'logger'>;
}

/** A rule and what is firing of it now, for the admin API. */
export interface AlertRuleStatus {
  name: string;
  kind: AlertRule['kind'];
  threshold: number | null;
  window_minutes: number | null;
  min_requests: number | null;
  model: string | null;
  provider: string | null;
  per: 'model' | 'provider' | null;
  state: 'firing' | 'ok';
  firing: { subject: Subject; value: number; since: string }[];
}

export class AlertEvaluator {
  /** The usage stage's hook; absent when no rule looks at traffic. */
  readonly observer: TrafficAccumulator | undefined;
  readonly #rules: readonly AlertRule[];
  readonly #traffic: readonly AlertRule[];
  readonly #circuitRules: readonly AlertRule[];
  readonly #everyMs: number;
  readonly #kv: AlertEvaluatorOptions['kv'];
  readonly #logger: AlertEvaluatorOptions['logger'];
  readonly #routesOf: (target: string) => readonly string[];
  readonly #now: () => number;
  readonly #gateway: string;
  readonly #webhooks: readonly WebhookDestination[];
  readonly #sender: WebhookSender;
  readonly #states: AlertStates;
  readonly #circuits: OpenCircuits;
  /** Targets whose circuit is open on this instance. */
  readonly #open = new Set<string>();
  readonly #pending = new Set<Promise<void>>();
  /** Circuit work runs one piece at a time, so an open and the close after it reach the kv in that order. */
  #chain: Promise<void> = Promise.resolve();
  #tick: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: AlertEvaluatorOptions) {
    const { config } = options;
    this.#rules = config.rules;
    this.#traffic = config.rules.filter((r) => r.kind !== 'circuit_open');
    this.#circuitRules = config.rules.filter((r) => r.kind === 'circuit_open');
    this.#everyMs = config.evaluate_every_ms;
    this.observer = this.#traffic.length > 0 ? new TrafficAccumulator(this.#everyMs) : undefined;
    this.#kv = options.kv;
    this.#logger = options.logger;
    this.#routesOf = options.routesOf ?? (() => []);
    this.#now = options.now ?? Date.now;
    this.#gateway = options.gateway ?? hostname();
    this.#webhooks = config.webhooks.map((w) => ({ url: w.url, format: w.format, headers: w.headers }));
    this.#sender = new WebhookSender({ ...options.webhook, logger: options.logger });
    this.#states = new AlertStates(options.kv);
    // A field counts for three intervals: one late flush does not resolve a circuit that is still open.
    this.#circuits = new OpenCircuits(options.kv, `${this.#gateway}:${process.pid}:${randomUUID()}`, 3 * this.#everyMs + 1_000);
  }

  /** Starts the interval timer (unref'd: it never keeps the process up); nothing to do without rules. */
  start(): void {
    if (this.#rules.length === 0 || this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.tick(), this.#everyMs);
    this.#timer.unref();
  }

  /** The router's onCircuitChange: open and closed change what circuit_open rules see; half-open changes nothing. */
  circuitChanged(target: string, to: string): void {
    if (this.#circuitRules.length === 0 || this.#closed || (to !== 'open' && to !== 'closed')) return;
    if (to === 'open') this.#open.add(target);
    else this.#open.delete(target);
    const now = this.#now();
    const work = this.#serial(async () => {
      await (to === 'open' ? this.#circuits.open(target, now) : this.#circuits.closed(target));
      await this.#evaluateCircuits(now, circuitKey(target));
    });
    this.#track(work.catch((error: unknown) => this.#logger.warn({ target, to, err: describeError(error) }, 'alerts: circuit change not evaluated')));
  }

  /** One interval: flush, and evaluate when this instance claims the interval. A tick still running is not doubled. */
  tick(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#tick ??= this.#runTick().finally(() => (this.#tick = undefined));
    return this.#tick;
  }

  /** Every rule with its firing subjects, as the kv has them (the whole cluster's). */
  async status(): Promise<AlertRuleStatus[]> {
    return Promise.all(
      this.#rules.map(async (rule) => {
        const firing = await this.#states.firing(rule.name);
        const circuit = rule.kind === 'circuit_open';
        return {
          name: rule.name,
          kind: rule.kind,
          threshold: circuit ? null : rule.threshold,
          window_minutes: circuit ? null : rule.window_minutes,
          min_requests: circuit || rule.kind === 'spend' ? null : rule.min_requests,
          model: rule.model ?? null,
          provider: rule.provider ?? null,
          per: circuit ? null : (rule.per ?? null),
          state: firing.size > 0 ? ('firing' as const) : ('ok' as const),
          firing: [...firing.values()].map((f) => ({ subject: f.subject, value: f.value, since: new Date(f.started_at).toISOString() })),
        };
      }),
    );
  }

  /** Resolves once every notification started so far has been delivered or given up on. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Stops the timer, adds the last counts to the kv, withdraws this instance's open circuits, and waits for deliveries. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#tick;
    await this.#chain;
    try {
      await Promise.all([this.#flushTraffic(this.#now()), ...[...this.#open].map((target) => this.#circuits.closed(target))]);
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, 'alerts: the last counts did not reach the kv');
    }
    await this.settled();
  }

  async #runTick(): Promise<void> {
    const now = this.#now();
    try {
      await Promise.all([this.#flushTraffic(now), ...[...this.#open].map((target) => this.#circuits.open(target, now))]);
      if (!(await this.#claim(now))) return;
      await this.#evaluateTraffic(now);
      if (this.#circuitRules.length > 0) await this.#serial(() => this.#evaluateCircuits(now));
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, 'alerts: evaluation failed (the kv is unreachable?)');
    }
  }

  async #flushTraffic(now: number): Promise<void> {
    const deltas = this.observer?.drain(now) ?? [];
    if (deltas.length === 0) return;
    // The shared minutes are kept as long as the longest window needs them, and a little more for late flushes.
    const longest = Math.max(...this.#traffic.map((r) => r.window_minutes));
    await addDeltas(this.#kv, deltas, (longest + 2) * MINUTE_MS);
  }

  /** The first instance to count the interval evaluates it, so instances do not take turns flipping a borderline state. */
  async #claim(now: number): Promise<boolean> {
    return (await this.#kv.incrBy(`alerts:interval:${Math.floor(now / this.#everyMs)}`, 1, 2 * this.#everyMs)) === 1;
  }

  async #evaluateTraffic(now: number): Promise<void> {
    if (this.#traffic.length === 0) return;
    const longest = Math.max(...this.#traffic.map((r) => r.window_minutes));
    const current = Math.floor(now / MINUTE_MS);
    const minutes = await readMinutes(this.#kv, current - longest, current, this.#traffic.some((r) => r.kind === 'p95_latency'));
    for (const rule of this.#traffic) {
      const firing = await this.#states.firing(rule.name);
      await this.#apply(rule, transitions(observe(rule, windowTotals(minutes, now, rule.window_minutes)), firing), now);
    }
  }

  /** Every circuit_open rule, or only its subject `key`. */
  async #evaluateCircuits(now: number, key?: string): Promise<void> {
    // Firing states before open circuits: read the other way round, a circuit opened in between would look firing
    // without being open, and be resolved at once.
    const firing = await Promise.all(this.#circuitRules.map((rule) => this.#states.firing(rule.name)));
    const open = await this.#circuits.live(now);
    for (const [i, rule] of this.#circuitRules.entries()) {
      let states = firing[i]!;
      let observed: Observation[] = observeCircuits(rule, open, this.#routesOf);
      if (key !== undefined) {
        states = new Map([...states].filter(([k]) => k === key));
        observed = observed.filter((o) => o.key === key);
      }
      await this.#apply(rule, transitions(observed, states), now);
    }
  }

  async #apply(rule: AlertRule, { fire, resolve }: Transitions, now: number): Promise<void> {
    for (const o of fire) {
      if (await this.#states.fire(rule.name, o.key, { subject: o.subject, value: o.value, started_at: now })) {
        this.#notify({ rule, status: 'firing', subject: o.subject, value: o.value, startedAt: now, gateway: this.#gateway });
      }
    }
    for (const r of resolve) {
      if (await this.#states.resolve(rule.name, r.key)) {
        this.#notify({ rule, status: 'resolved', subject: r.state.subject, value: r.value, startedAt: r.state.started_at, resolvedAt: now, gateway: this.#gateway });
      }
    }
  }

  #notify(event: AlertEvent): void {
    const fields = { alert: event.rule.name, status: event.status, subject: event.subject, value: event.value };
    if (event.status === 'firing') this.#logger.warn(fields, `alert firing: ${event.rule.name}`);
    else this.#logger.info(fields, `alert resolved: ${event.rule.name}`);
    if (this.#webhooks.length === 0) return;
    this.#track(this.#sender.send(this.#webhooks, alertBodies(event), { message: 'alert webhook failed', fields: { alert: event.rule.name, status: event.status } }));
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }
}
