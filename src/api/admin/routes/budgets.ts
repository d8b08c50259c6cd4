// USD budgets of an organization, team, user or virtual key; a subject may have several. Like rate limits, a budget is
// read into the auth cache with every key it binds, so each change drops those keys there. A budget's own webhook URL
// is write-only: such URLs usually carry a token, and viewers and team members may read budgets, so answers and audit
// records give its origin only.

import { badRequest } from '../../../core/errors.ts';
import { webhookOrigin } from '../../../limits/alerts.ts';
import type { TenantStore } from '../../../store/store.ts';
import type { Budget } from '../../../store/types.ts';
import { authorize, authorizeCreate, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { notFound } from '../errors.ts';
import * as s from '../limit-schemas.ts';
import { defineRoute, type AdminRoute, type Call } from '../route.ts';
import { deleted, orgParams } from '../schemas.ts';
import { invalidateSubject, listFilters, subjectOf, subjectTarget } from '../subjects.ts';

const tag = 'Budgets';

type BudgetView = Omit<Budget, 'webhook_url'> & { webhook_origin: string | null };

function view({ webhook_url, ...budget }: Budget): BudgetView {
  return { ...budget, webhook_origin: webhook_url === null ? null : webhookOrigin(webhook_url) };
}

/** The budget in the path, if the actor may see it (404 otherwise) and, for 'write', change it (403 otherwise). */
async function readBudget(call: Call<{ org_id: string; budget_id: string }>, tenant: TenantStore, operation: 'read' | 'write'): Promise<Budget> {
  const id = call.params.budget_id;
  const budget = await tenant.budgets.get(id);
  if (!budget) throw notFound('budget', id);
  authorize(call.actor, 'budget', operation, await subjectTarget(tenant, budget), id);
  return budget;
}

export const budgetRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/budgets',
    operationId: 'listBudgets',
    summary: "List budgets, by scope and subject (team-scoped roles: their teams', their own and their keys')",
    tag,
    params: orgParams,
    query: s.budgetQuery,
    response: s.budgetPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const page = await tenant.budgets.list(listFilters(actor, query));
      return { ...page, items: page.items.map(view) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/budgets',
    operationId: 'createBudget',
    summary: 'Create a USD budget for the organization, a team, a user or a virtual key',
    tag,
    params: orgParams,
    body: s.budgetCreate,
    response: s.budget,
    status: 201,
    async handler(call) {
      const budget = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const subject = subjectOf(call.params.org_id, call.body);
        authorizeCreate(call.actor, 'budget', await subjectTarget(tenant, subject));
        const budget = await tenant.budgets.create({ ...call.body, ...subject, created_by: call.actor.id });
        return { result: budget, change: { action: 'budget.create', target_type: 'budget', target_id: budget.id, after: view(budget) } };
      });
      await invalidateSubject(call.deps.keyAuth, budget);
      return view(budget);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/budgets/{budget_id}',
    operationId: 'getBudget',
    summary: 'Get a budget (its webhook URL as an origin only)',
    tag,
    params: s.budgetParams,
    response: s.budget,
    async handler(call) {
      return view(await readBudget(call, await reachOrg(call.deps.store, call.actor, call.params.org_id), 'read'));
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/budgets/{budget_id}',
    operationId: 'updateBudget',
    summary: "Change a budget's amount, period, window, enforcement, alert thresholds or webhook (its subject stays)",
    tag,
    params: s.budgetParams,
    body: s.budgetUpdate,
    response: s.budget,
    async handler(call) {
      const after = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await readBudget(call, tenant, 'write');
        if (!s.rollingNeedsEnd({ ...before, ...call.body })) throw badRequest(`Invalid 'window': ${s.ROLLING_TOTAL}`, 'window');
        const after = (await tenant.budgets.update(before.id, call.body))!;
        return { result: after, change: { action: 'budget.update', target_type: 'budget', target_id: before.id, before: view(before), after: view(after) } };
      });
      await invalidateSubject(call.deps.keyAuth, after);
      return view(after);
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/budgets/{budget_id}',
    operationId: 'deleteBudget',
    summary: 'Delete a budget',
    tag,
    params: s.budgetParams,
    response: deleted,
    async handler(call) {
      const before = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await readBudget(call, tenant, 'write');
        await tenant.budgets.delete(before.id);
        return { result: before, change: { action: 'budget.delete', target_type: 'budget', target_id: before.id, before: view(before) } };
      });
      await invalidateSubject(call.deps.keyAuth, before);
      return { id: before.id, deleted: true };
    },
  }),
];
