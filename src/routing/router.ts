// Resolves the model name a client sends into the targets that can serve it. Built once per configuration, so a
// lookup on the hot path is a Map get.

import type { GatewayConfig } from '../config/load.ts';
import { modelNotFound } from '../core/errors.ts';
import type { ModelObject } from '../core/types.ts';
import { PROVIDER_TYPES } from '../providers/registry.ts';
import type { ProviderAdapter, ProviderConfig } from '../providers/types.ts';
import { Pricing } from '../usage/pricing.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { KeyPool } from './key-pool.ts';
import type { RetryPolicy } from './retry.ts';
import { newTargetStats, orderer, type Orderer, type TargetStats } from './strategies.ts';
import type { FALLBACK_REASONS } from '../config/schema.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { Capabilities } from './capabilities.ts';
import { compileCondition, type Matcher, type RoutingFacts } from './conditions.ts';
import { StickyTable } from './sticky.ts';
import type { ProbePlan, ProbeResult } from './health-probe.ts';
import { Coalescer } from './coalescer.ts';
import { ShadowMirror } from '../shadow/mirror.ts';

export interface Target {
  /** "<provider>/<model>": what responses, logs and the admin API call it. */
  id: string;
  provider: ProviderConfig;
  adapter: ProviderAdapter;
  /** The model id sent upstream. */
  model: string;
  /**
   * Live figures the strategies choose by (in flight, latency), and the circuit that skips the target while it fails:
   * shared by every route with the same provider and model, and by tenant copies of the target.
   */
  stats: TargetStats;
  circuit?: CircuitBreaker | undefined;
  /** The provider's key pool, and this target's provider (its timeouts included) with each of the pool's keys. */
  keys?: { pool: KeyPool; providers: ProviderConfig[] } | undefined;
  /** What the model can do and hold, where known: requests it cannot serve skip it (routing/capabilities.ts). */
  capabilities?: Capabilities | undefined;
  /**
   * Set on the stand-in for a nested group among a route's targets while its strategy orders them; pick() replaces the
   * stand-in by the group's own targets, so the caller never sees one.
   */
  group?: string | undefined;
}

export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** How a route treats failures: retries on one target, and answers that move on to the next. */
export interface RoutePolicy {
  retry: RetryPolicy;
  fallbackOn: ReadonlySet<FallbackReason>;
}

export interface Route {
  /** The name the client used. */
  name: string;
  strategy: string;
  /** In the order they are tried: configured order, or (from pick) the strategy's order for one request. */
  targets: Target[];
  policy: RoutePolicy;
  /** Conversations pinned to the target that answered them, when the route is sticky. */
  sticky?: StickyTable | undefined;
  /** Identical requests in flight share one call, when the route coalesces. */
  coalesce?: Coalescer | undefined;
  /** Where a share of the route's chat traffic is mirrored. */
  shadow?: ShadowMirror | undefined;
}

interface Entry {
  route: Route;
  order: Orderer;
  rules: { match: Matcher; use: string }[];
  hasGroups: boolean;
}

/** What the gateway knows of one configured target's health: GET /admin/v1/routing/targets. */
export interface TargetHealth {
  id: string;
  provider: string;
  model: string;
  routes: string[];
  in_flight: number;
  latency_ms: number | null;
  circuit: ReturnType<CircuitBreaker['snapshot']> | null;
  keys: ReturnType<KeyPool['snapshot']> | null;
  /** The latest active health probe's result; null when the target is not probed or not yet. */
  probe: ProbeResult | null;
}

export interface RouterOptions {
  /** The cost strategy's price table; without it every target counts as unpriced. */
  pricing?: Pricing;
  random?: () => number;
  now?: () => number;
  /** Told of every circuit that opens, half-opens or closes, with the target's id: operators must hear of it. */
  onCircuitChange?: (id: string, from: string, to: string) => void;
}

export class Router {
  private readonly routes = new Map<string, Entry>();
  /** Routes to "<provider>/<model>" that rules name, made once. */
  private readonly ruleTargets = new Map<string, Route>();
  private readonly providers: Map<string, ProviderConfig>;
  private readonly listed: ModelObject[] = [];
  private readonly created: number;
  private readonly defaultPolicy: RoutePolicy;
  /** Per "<provider>/<model>" of the configured routes: what every target with that id shares. */
  private readonly shared = new Map<string, { stats: TargetStats; circuit: CircuitBreaker | undefined; routes: string[]; probe: ProbeResult | null }>();
  /** Per "<provider>/<model>" probed: the target and the tightest health_check of the models reaching it. */
  private readonly probed = new Map<string, { target: Target; interval_ms: number; timeout_ms: number }>();
  private readonly pools = new Map<string, KeyPool>();

  constructor(config: GatewayConfig, created = Math.floor(Date.now() / 1000), opts: RouterOptions = {}) {
    this.providers = config.providers;
    this.created = created;
    const pricing = opts.pricing ?? new Pricing();
    const { retry, circuit_breaker: breaker } = config.routing;
    this.defaultPolicy = { retry: policyOf(retry), fallbackOn: new Set() };
    for (const provider of this.providers.values()) {
      if (provider.api_keys) this.pools.set(provider.name, new KeyPool(provider, opts.random, opts.now));
    }
    for (const model of config.models) {
      for (const t of model.targets) {
        if (t.group !== undefined) continue;
        const id = `${t.provider}/${t.model}`;
        const entry = this.shared.get(id) ?? { stats: newTargetStats(), circuit: breaker.enabled ? this.circuit(id, breaker, opts) : undefined, routes: [], probe: null };
        if (!entry.routes.includes(model.name)) entry.routes.push(model.name);
        this.shared.set(id, entry);
      }
      const policy: RoutePolicy = {
        retry: model.retry ? policyOf({ ...retry, ...model.retry }) : this.defaultPolicy.retry,
        fallbackOn: new Set(model.fallback_on),
      };
      const route: Route = {
        name: model.name,
        strategy: model.strategy,
        targets: model.targets.map((t) =>
          t.group !== undefined ? this.groupStandIn(t.group) : this.target(this.providers.get(t.provider!)!, t.model!, t.timeouts, t.capabilities, pricing),
        ),
        policy,
        sticky: model.sticky && new StickyTable(model.sticky.key, model.sticky.ttl_ms, opts.now),
        coalesce: model.coalesce ? new Coalescer() : undefined,
        shadow: model.shadow && new ShadowMirror(model.name, model.shadow, opts.random),
      };
      const rules = model.rules.map((r) => {
        if (!config.models.some((m) => m.name === r.use) && !this.ruleTargets.has(r.use)) {
          const slash = r.use.indexOf('/');
          this.ruleTargets.set(r.use, { name: r.use, strategy: 'rule', targets: [this.target(this.providers.get(r.use.slice(0, slash))!, r.use.slice(slash + 1))], policy });
        }
        return { match: compileCondition(r.when), use: r.use };
      });
      this.routes.set(model.name, { route, order: () => route, rules, hasGroups: model.targets.some((t) => t.group !== undefined) });
      this.listed.push({ id: model.name, object: 'model', created, owned_by: 'switchboard' });
    }
    // Orderers last: a group's stand-in reads the group's targets, which may be declared after the route naming it.
    for (const model of config.models) {
      const entry = this.routes.get(model.name)!;
      entry.order = orderer(model.strategy, entry.route, model.targets.map((t) => t.weight ?? 1), { ...opts, pricing });
      const check = model.health_check;
      if (!check) continue;
      for (const target of this.flatTargets(model.name)) {
        const known = this.probed.get(target.id);
        this.probed.set(target.id, {
          target: known?.target ?? target,
          interval_ms: Math.min(known?.interval_ms ?? Infinity, check.interval_ms),
          timeout_ms: Math.min(known?.timeout_ms ?? Infinity, check.timeout_ms),
        });
      }
    }
    for (const provider of this.providers.values()) {
      for (const id of provider.models) {
        this.listed.push({ id: `${provider.name}/${id}`, object: 'model', created, owned_by: provider.name });
      }
    }
  }

  private circuit(id: string, options: GatewayConfig['routing']['circuit_breaker'], opts: RouterOptions): CircuitBreaker {
    const circuit = new CircuitBreaker(options, opts.now);
    const told = opts.onCircuitChange;
    if (told) circuit.onChange = (from, to) => told(id, from, to);
    return circuit;
  }

  /**
   * A target of `provider` serving `model`. One of a configured route shares its figures and circuit with every target
   * of the same id; one a client addressed directly that no route has starts with none, and remembers none: its name
   * comes from the client, and a map keyed by it would grow without bound.
   */
  private target(configured: ProviderConfig, model: string, timeouts?: Partial<ProviderConfig['timeouts']>, capabilities?: Capabilities, pricing?: Pricing): Target {
    const id = `${configured.name}/${model}`;
    const shared = this.shared.get(id);
    const provider = timeouts ? { ...configured, timeouts: { ...configured.timeouts, ...timeouts } } : configured;
    const pool = this.pools.get(provider.name);
    const window = capabilities?.context_window ?? pricing?.contextWindow(provider, model);
    return {
      capabilities: capabilities || window !== undefined ? { ...capabilities, context_window: window } : undefined,
      id,
      provider,
      adapter: PROVIDER_TYPES[provider.type]!.adapter,
      model,
      stats: shared?.stats ?? newTargetStats(),
      circuit: shared?.circuit,
      keys: pool && { pool, providers: provider.api_keys!.map(({ key }) => ({ ...provider, api_key: key })) },
    };
  }

  /**
   * What a nested group looks like to the strategy of the route naming it: its load is the sum of its targets' requests
   * in flight, its latency that of its fastest measured target, its price that of its first target. Read live, so
   * the stand-in needs no updating. The group's targets are listed once, on first read: routes are fixed once built.
   */
  private groupStandIn(group: string): Target {
    let flat: Target[] | undefined;
    const targets = () => (flat ??= this.flatTargets(group));
    const first = () => targets()[0]!;
    return {
      id: group,
      group,
      get provider() {
        return first().provider;
      },
      get adapter() {
        return first().adapter;
      },
      get model() {
        return first().model;
      },
      stats: {
        get inFlight() {
          return targets().reduce((n, t) => n + t.stats.inFlight, 0);
        },
        get latencyMs() {
          const measured = targets().filter((t) => t.stats.sampledAt > 0);
          return measured.length === 0 ? 0 : Math.min(...measured.map((t) => t.stats.latencyMs));
        },
        get sampledAt() {
          return Math.max(...targets().map((t) => t.stats.sampledAt));
        },
      } as TargetStats,
    };
  }

  /** Every real target a configured route can reach through its nested groups, in configured order. */
  private flatTargets(name: string): Target[] {
    return this.routes.get(name)!.route.targets.flatMap((t) => (t.group !== undefined ? this.flatTargets(t.group) : [t]));
  }

  private direct(name: string, provider: ProviderConfig, model: string): Route {
    return { name, strategy: 'direct', targets: [this.target(provider, model)], policy: this.defaultPolicy };
  }

  /**
   * A configured model name; else `<provider>/<model>`; else a bare model id that a provider lists under `models:`;
   * else a bare id matching a configured provider type's naming convention (gpt-* to openai, claude-* to anthropic).
   */
  resolve(name: string): Route {
    const known = this.routes.get(name);
    if (known) return known.route;
    return this.unconfigured(name);
  }

  /**
   * The route for one request: its rules applied, its targets in the order its strategy picks this time (nested
   * groups picked by their own strategies in their place), the conversation's pinned target first when sticky.
   */
  pick(name: string, ctx?: RequestContext): Route {
    const known = this.routes.get(name);
    return known ? this.choose(known, ctx) : this.unconfigured(name);
  }

  private choose(entry: Entry, ctx: RequestContext | undefined): Route {
    if (entry.rules.length > 0 && ctx) {
      const facts = factsOf(ctx);
      for (const rule of entry.rules) {
        if (!rule.match(facts)) continue;
        const to = this.routes.get(rule.use);
        return to ? this.choose(to, ctx) : this.ruleTargets.get(rule.use)!;
      }
    }
    let route = entry.order(entry.route);
    if (entry.hasGroups) {
      const seen = new Set<string>();
      const targets: Target[] = [];
      for (const t of route.targets) {
        for (const real of t.group !== undefined ? this.choose(this.routes.get(t.group)!, ctx).targets : [t]) {
          if (!seen.has(real.id)) targets.push(real);
          seen.add(real.id);
        }
      }
      route = { ...route, targets };
    }
    return route.sticky && ctx ? route.sticky.apply(route, ctx) : route;
  }

  private unconfigured(name: string): Route {
    const slash = name.indexOf('/');
    if (slash > 0) {
      const provider = this.providers.get(name.slice(0, slash));
      const model = name.slice(slash + 1);
      if (provider && model) return this.direct(name, provider, model);
    }
    for (const provider of this.providers.values()) {
      if (provider.models.includes(name)) return this.direct(name, provider, name);
    }
    for (const provider of this.providers.values()) {
      if (PROVIDER_TYPES[provider.type]?.model_pattern?.test(name)) return this.direct(name, provider, name);
    }
    throw modelNotFound(name);
  }

  /** Health of every target a configured route names, and of each provider's key pool. */
  health(): TargetHealth[] {
    return [...this.shared].map(([id, { stats, circuit, routes, probe }]) => {
      const slash = id.indexOf('/');
      const provider = id.slice(0, slash);
      return {
        id,
        provider,
        model: id.slice(slash + 1),
        routes,
        in_flight: stats.inFlight,
        latency_ms: stats.sampledAt === 0 ? null : Math.round(stats.latencyMs),
        circuit: circuit?.snapshot() ?? null,
        keys: this.pools.get(provider)?.snapshot() ?? null,
        probe,
      };
    });
  }

  /** What the active health checks probe (models[].health_check), each result kept for health(). */
  probePlans(): ProbePlan[] {
    return [...this.probed.values()].map((plan) => ({
      ...plan,
      record: (result) => {
        this.shared.get(plan.target.id)!.probe = result;
      },
    }));
  }

  /** A model the configuration declares (not a direct "<provider>/<model>"), as configured. */
  configured(name: string): Route | undefined {
    return this.routes.get(name)?.route;
  }

  /** Closes a target's circuit (an operator who fixed the provider); false for an id no route names. */
  resetCircuit(id: string): boolean {
    const shared = this.shared.get(id);
    shared?.circuit?.reset();
    return shared !== undefined;
  }

  /** What GET /v1/models lists: configured model names and the models providers declare. */
  models(): ModelObject[] {
    return this.listed;
  }

  /** A listed model, or any name that resolves (so `openai/gpt-4o` answers even when not declared). */
  model(id: string): ModelObject {
    const listed = this.listed.find((m) => m.id === id);
    if (listed) return listed;
    const route = this.resolve(id);
    return { id, object: 'model', created: this.created, owned_by: route.targets[0]!.provider.name };
  }
}

function policyOf(retry: GatewayConfig['routing']['retry']): RetryPolicy {
  return {
    max_attempts: retry.max_attempts,
    initial_backoff_ms: retry.initial_backoff_ms,
    max_backoff_ms: retry.max_backoff_ms,
    statuses: retry.retry_on.statuses,
    classes: retry.retry_on.classes,
  };
}

/** What a route's rules look at, from the request as it came and the caller's identity. */
function factsOf(ctx: RequestContext): RoutingFacts {
  const body = ctx.body !== null && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
  const tags = ctx.identity?.metadata.tags;
  const metadata = body.metadata;
  return {
    metadata: metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : undefined,
    headers: (ctx.headers ?? {}) as Record<string, string | string[] | undefined>,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    team: ctx.identity?.team_id,
    params: body,
  };
}
