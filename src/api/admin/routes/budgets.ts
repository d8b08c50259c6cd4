// USD budgets of an organization, team, user or virtual key; a subject may have several. Like rate limits, a budget is
// read into the auth cache with every key it binds, so each change drops those keys there (the handlers are the ones
// limits have, ../subjects.ts). A budget's own webhook URL is write-only: such URLs usually carry a token, and viewers
// and team members may read budgets, so answers and audit records give its origin only.

import { badRequest } from '../../../core/errors.ts';
import { webhookOrigin } from '../../../observability/webhooks.ts';
import type { Budget } from '../../../store/types.ts';
import * as s from '../limit-schemas.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import { deleted, orgParams } from '../schemas.ts';
import { subjectHandlers } from '../subjects.ts';

const tag = 'Budgets';

type BudgetView = Omit<Budget, 'webhook_url'> & { webhook_origin: string | null };

function view({ webhook_url, ...budget }: Budget): BudgetView {
  return { ...budget, webhook_origin: webhook_url === null ? null : webhookOrigin(webhook_url) };
}

const budgets = subjectHandlers({ resource: 'budget', name: 'budget', idParam: 'budget_id', rows: (tenant) => tenant.budgets, view });

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
    handler: budgets.list,
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
    handler: (call) => budgets.create(call, (tenant, subject) => tenant.budgets.create({ ...call.body, ...subject })),
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/budgets/{budget_id}',
    operationId: 'getBudget',
    summary: 'Get a budget (its webhook URL as an origin only)',
    tag,
    params: s.budgetParams,
    response: s.budget,
    handler: budgets.get,
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
    handler: (call) =>
      budgets.update(call, async (tenant, before) => {
        if (!s.rollingNeedsEnd({ ...before, ...call.body })) throw badRequest(`Invalid 'window': ${s.ROLLING_TOTAL}`, 'window');
        return (await tenant.budgets.update(before.id, call.body))!;
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/budgets/{budget_id}',
    operationId: 'deleteBudget',
    summary: 'Delete a budget',
    tag,
    params: s.budgetParams,
    response: deleted,
    handler: budgets.delete,
  }),
];
