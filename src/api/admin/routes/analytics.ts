// GET /admin/v1/analytics: one organization's requests, tokens, cost, errors, cache hits and latency over a range (by
// default the last 24 hours) as a time series, totals and a breakdown, read from the usage rollups. Who sees what is
// the usage reports' rule (visibility.ts).

import type { z } from 'zod';
import { badRequest } from '../../../core/errors.ts';
import { planSeries } from '../../../usage/rollups/buckets.ts';
import { analyticsQuery, analyticsReport } from '../analytics-schemas.ts';
import { reachOrg } from '../access.ts';
import { period } from '../period.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import { recordVisibility } from '../visibility.ts';

type Query = z.output<typeof analyticsQuery>;

const DAY_MS = 86_400_000;
/** Beyond this many points a series is too long to answer quickly, or to draw. */
const MAX_POINTS = 1000;

function range(query: Query, now = Date.now()): { from: string; to: string } {
  const to = query.to === undefined ? new Date(now) : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - DAY_MS) : new Date(query.from);
  return period(from, to, query.from !== undefined);
}

export const analyticsRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/analytics',
    operationId: 'getAnalytics',
    summary:
      "An organization's requests, tokens, cost, error rate, cache hit rate and latency percentiles (total and time to first token) over a range (default: the last 24 hours): a time series with an automatic step, totals, and a breakdown by model, provider, team, key or user",
    tag: 'Usage',
    query: analyticsQuery,
    response: analyticsReport,
    async handler({ actor, deps, query }) {
      const orgId = query.org_id ?? actor.org_id;
      if (orgId === null) throw badRequest('org_id is required with the master key: analytics are reported per organization', 'org_id');
      const tenant = await reachOrg(deps.store, actor, orgId);
      const visible = recordVisibility(actor, query, 'usage');
      const { from, to } = range(query);
      const explicit = query.bucket === undefined || query.bucket === 'auto' ? undefined : query.bucket;
      const plan = planSeries(Date.parse(from), Date.parse(to), explicit);
      if (plan.points > MAX_POINTS) {
        throw badRequest(`The range from ${from} to ${to} in buckets of ${plan.bucket} has ${plan.points} points; at most ${MAX_POINTS}: choose a larger bucket or a shorter range`, explicit ? 'bucket' : 'from');
      }
      const group_by = query.group_by === 'none' ? undefined : query.group_by;
      const { key_id, team_id, user_id, model, provider } = query;
      const report = await tenant.analytics.report({ plan, group_by, key_id, team_id, user_id, model, provider, visible });
      return {
        org_id: orgId,
        from: new Date(plan.fromMs).toISOString(),
        to: new Date(plan.toMs).toISOString(),
        bucket: plan.bucket,
        group_by: group_by ?? null,
        ...report,
      };
    },
  }),
];
