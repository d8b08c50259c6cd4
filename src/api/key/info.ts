// GET /v1/key/info: what the calling key may do and has used, for the key's holder (not an admin): its limits, its
// token quotas and budgets with what is left of them, and its own spend. Authenticated like any proxy request.

import type { FastifyInstance } from 'fastify';
import type { Identity } from '../../identity/identity.ts';
import { credentialOf } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { calendarWindow } from '../../limits/windows.ts';

const NANO = 1e9;
const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

export function registerKeyInfoRoutes(app: FastifyInstance, services: Services): void {
  const { keyAuth, limiter, store } = services;

  app.get('/v1/key/info', async (req) => {
    const identity: Identity = await keyAuth.authenticate(credentialOf(req), req.ip);
    const limits = [...limiter.rules, ...identity.limits].map((rule) => ({ ...rule, source: rule.id.startsWith('config:') ? 'config' : 'database' }));
    const quotas = (await limiter.quotas(identity)).map((q) => ({
      limit_id: q.rule.id,
      metric: q.metric,
      limit: q.limit,
      used: q.used,
      remaining: Math.max(0, q.limit - q.used),
      resets_at: iso(q.resetsAtMs),
    }));
    const budgets = await Promise.all(
      identity.budgets.map(async (budget) => {
        const status = await limiter.budgetStatus(budget);
        return {
          ...budget,
          spent_usd: status.spentUsd,
          remaining_usd: Math.max(0, budget.amount_usd - status.spentUsd),
          period_start: iso(status.startMs),
          resets_at: iso(status.resetsAtMs),
        };
      }),
    );
    let spend: { today_usd: number; month_usd: number } | null = null;
    if (identity.key_id !== undefined) {
      const now = Date.now();
      const total = async (fromMs: number) => {
        let nano = 0;
        for (const bucket of (await store.usage.totals({ key_id: identity.key_id }, fromMs)).values()) nano += bucket.cost_nano_usd;
        return nano / NANO;
      };
      spend = { today_usd: await total(calendarWindow('daily', now).startMs), month_usd: await total(calendarWindow('monthly', now).startMs) };
    }
    return {
      kind: identity.kind,
      key_id: identity.key_id ?? null,
      org_id: identity.org_id ?? null,
      team_id: identity.team_id ?? null,
      user_id: identity.user_id ?? null,
      allowed_models: identity.allowed_models,
      allowed_surfaces: identity.allowed_surfaces,
      limits,
      quotas,
      budgets,
      spend,
    };
  });
}
