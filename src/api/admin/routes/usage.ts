// Usage and spend reports from the ledger: one organization's totals over a period (by default the current UTC
// month), overall and broken down. Organization owners, admins and viewers (and the master key) see the whole
// organization; team-scoped roles see their teams' records and their own, and are refused a team or person beyond that.

import type { z } from 'zod';
import { badRequest } from '../../../core/errors.ts';
import type { UsageSummary, UsageSums } from '../../../store/repositories/usage.ts';
import { reachOrg } from '../access.ts';
import { period } from '../period.ts';
import { recordVisibility } from '../visibility.ts';
import { defineRoute, type AdminRoute, type Call } from '../route.ts';
import { spendReport, usageQuery, usageReport } from '../usage-schemas.ts';

type Query = z.output<typeof usageQuery>;

const tag = 'Usage';

/** The period asked for, as ISO times; each end defaults to this UTC month's. */
function reportPeriod(query: Query, now = new Date()): { from: string; to: string } {
  const from = query.from === undefined ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) : new Date(query.from);
  const to = query.to === undefined ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)) : new Date(query.to);
  return period(from, to, query.from !== undefined);
}

async function summarize({ actor, deps, query }: Call<unknown, Query>): Promise<{ org_id: string; from: string; to: string; summary: UsageSummary }> {
  const orgId = query.org_id ?? actor.org_id;
  if (orgId === null) throw badRequest('org_id is required with the master key: usage is reported per organization', 'org_id');
  const tenant = await reachOrg(deps.store, actor, orgId);
  const visible = recordVisibility(actor, query, 'usage');
  const { from, to } = reportPeriod(query);
  const { key_id, team_id, user_id, model, group_by } = query;
  const summary = await tenant.usage.summary({ from, to, group_by, key_id, team_id, user_id, model, visible });
  return { org_id: orgId, from, to, summary };
}

/** Chronological by day; otherwise largest first (the sort is stable: ties stay in the repository's order, by group). */
function ranked<G>(groups: G[], groupBy: Query['group_by'], larger: (a: G, b: G) => number): G[] {
  return groupBy === 'day' ? groups : [...groups].sort(larger);
}

const tokens = (s: UsageSums) => ({
  requests: s.requests,
  errors: s.errors,
  input_tokens: s.input_tokens,
  output_tokens: s.output_tokens,
  total_tokens: s.input_tokens + s.output_tokens,
  cached_tokens: s.cached_tokens,
  cache_write_tokens: s.cache_write_tokens,
  reasoning_tokens: s.reasoning_tokens,
});

const spend = (s: UsageSums) => ({ cost_usd: s.cost_usd, requests: s.requests, unpriced_requests: s.unpriced_requests });

export const usageRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/usage',
    operationId: 'getUsage',
    summary: "An organization's token and request totals over a period (default: this UTC month), overall and by key, team, user, model, provider or day",
    tag,
    query: usageQuery,
    response: usageReport,
    async handler(call) {
      const { summary, ...where } = await summarize(call);
      const groups = summary.groups.map((g) => ({ group: g.group, ...tokens(g) }));
      return {
        ...where,
        group_by: call.query.group_by ?? null,
        total: tokens(summary.total),
        groups: ranked(groups, call.query.group_by, (a, b) => b.total_tokens - a.total_tokens || b.requests - a.requests),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/spend',
    operationId: 'getSpend',
    summary: "An organization's cost in USD over a period (default: this UTC month), overall and by key, team, user, model, provider or day",
    tag,
    query: usageQuery,
    response: spendReport,
    async handler(call) {
      const { summary, ...where } = await summarize(call);
      const groups = summary.groups.map((g) => ({ group: g.group, ...spend(g) }));
      return { ...where, group_by: call.query.group_by ?? null, total: spend(summary.total), groups: ranked(groups, call.query.group_by, (a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests) };
    },
  }),
];
