// Resolves the model name a client sends into the targets that can serve it. Built once per configuration, so a
// lookup on the hot path is a Map get.

import type { GatewayConfig } from '../config/load.ts';
import { modelNotFound } from '../core/errors.ts';
import type { ModelObject } from '../core/types.ts';
import { PROVIDER_TYPES } from '../providers/registry.ts';
import type { ProviderAdapter, ProviderConfig } from '../providers/types.ts';
import { Pricing } from '../usage/pricing.ts';
import { newTargetStats, orderer, type Orderer, type TargetStats } from './strategies.ts';

export interface Target {
  provider: ProviderConfig;
  adapter: ProviderAdapter;
  /** The model id sent upstream. */
  model: string;
  /** Live figures the strategies choose by (in flight, latency); shared by tenant copies of the target. */
  stats: TargetStats;
}

export interface Route {
  /** The name the client used. */
  name: string;
  strategy: string;
  /** In the order they are tried: configured order, or (from pick) the strategy's order for one request. */
  targets: Target[];
}

export interface RouterOptions {
  /** The cost strategy's price table; without it every target counts as unpriced. */
  pricing?: Pricing;
  random?: () => number;
  now?: () => number;
}

export class Router {
  private readonly routes = new Map<string, { route: Route; order: Orderer }>();
  private readonly providers: Map<string, ProviderConfig>;
  private readonly listed: ModelObject[] = [];
  private readonly created: number;

  constructor(config: GatewayConfig, created = Math.floor(Date.now() / 1000), opts: RouterOptions = {}) {
    this.providers = config.providers;
    this.created = created;
    const pricing = opts.pricing ?? new Pricing();
    for (const model of config.models) {
      const route: Route = {
        name: model.name,
        strategy: model.strategy,
        targets: model.targets.map((t) => this.target(this.providers.get(t.provider)!, t.model)),
      };
      const weights = model.targets.map((t) => t.weight ?? 1);
      this.routes.set(model.name, { route, order: orderer(model.strategy, route, weights, { ...opts, pricing }) });
      this.listed.push({ id: model.name, object: 'model', created, owned_by: 'switchboard' });
    }
    for (const provider of this.providers.values()) {
      for (const id of provider.models) {
        this.listed.push({ id: `${provider.name}/${id}`, object: 'model', created, owned_by: provider.name });
      }
    }
  }

  private target(provider: ProviderConfig, model: string): Target {
    return { provider, adapter: PROVIDER_TYPES[provider.type]!.adapter, model, stats: newTargetStats() };
  }

  /** Not cached: the name comes from the client, and a map keyed by it would grow without bound. */
  private direct(name: string, provider: ProviderConfig, model: string): Route {
    return { name, strategy: 'direct', targets: [this.target(provider, model)] };
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

  /** The route for one request: resolved, with its targets in the order its strategy picks this time. */
  pick(name: string): Route {
    const known = this.routes.get(name);
    return known ? known.order(known.route) : this.unconfigured(name);
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
