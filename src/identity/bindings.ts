// What binds a virtual key besides its own fields: the model access policies of its organization (those with no team)
// and of its team, the rate limits and budgets set for the key, its team, its user and its organization, and whether
// its team captures request bodies. Read when the key is loaded into the auth cache, so they cost nothing per request;
// admin changes to any of them invalidate it.

import type { BudgetRule, LimitRule } from '../limits/rules.ts';
import type { Store } from '../store/store.ts';
import type { Budget, RateLimit, VirtualKey } from '../store/types.ts';
import type { KeyBindings } from './identity.ts';

/** One page of the largest size the store serves: an organization with more policies than this is not a real one. */
const ALL = 1000;

export type BindingsLoader = (key: VirtualKey) => Promise<KeyBindings>;

export interface BindingsDefaults {
  /** config.budgets.alerts.thresholds: for budgets that name none. */
  alertThresholds: readonly number[];
}

const toLimitRule = (limit: RateLimit): LimitRule => ({ ...limit.limits, id: limit.id, scope: limit.scope, subject_id: limit.subject_id });

function toBudgetRule(budget: Budget, defaults: BindingsDefaults): BudgetRule {
  return {
    id: budget.id,
    org_id: budget.org_id,
    scope: budget.scope,
    subject_id: budget.subject_id,
    amount_usd: budget.amount_usd,
    period: budget.period,
    window: budget.window,
    enforcement: budget.enforcement,
    alert_thresholds: budget.alert_thresholds ?? [...defaults.alertThresholds],
    webhook_url: budget.webhook_url,
    webhook_format: budget.webhook_format,
  };
}

export function bindingsLoader(store: Pick<Store, 'tenant'>, defaults: BindingsDefaults): BindingsLoader {
  return async (key) => {
    const tenant = store.tenant(key.org_id);
    const [org, team, limits, budgets, keyTeam] = await Promise.all([
      tenant.policies.list({ team_id: null, limit: ALL }),
      key.team_id ? tenant.policies.list({ team_id: key.team_id, limit: ALL }) : undefined,
      tenant.rateLimits.forKey(key),
      tenant.budgets.forKey(key),
      key.team_id ? tenant.teams.get(key.team_id) : undefined,
    ]);
    return {
      policies: [...org.items, ...(team?.items ?? [])].map((p) => ({ name: p.name, allowed_models: p.allowed_models })),
      limits: limits.map(toLimitRule),
      budgets: budgets.map((b) => toBudgetRule(b, defaults)),
      team_log_payloads: keyTeam?.log_payloads ?? false,
    };
  };
}
