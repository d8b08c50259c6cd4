// Rate limits of an organization, team, user or virtual key: one per subject, created with POST and changed with
// PATCH. A limit is read into the auth cache with every key it binds, so each change drops those keys there: the one
// key for a key's limit, every key otherwise (the handlers are the ones budgets have, ../subjects.ts).

import * as s from '../limit-schemas.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import { deleted, orgParams } from '../schemas.ts';
import { subjectHandlers } from '../subjects.ts';

const tag = 'Rate limits';

const limits = subjectHandlers({ resource: 'limit', name: 'rate limit', idParam: 'limit_id', rows: (tenant) => tenant.rateLimits, view: (limit) => limit });

export const limitRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/limits',
    operationId: 'listLimits',
    summary: "List rate limits, by scope and subject (team-scoped roles: their teams', their own and their keys')",
    tag,
    params: orgParams,
    query: s.limitQuery,
    response: s.rateLimitPage,
    handler: limits.list,
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/limits',
    operationId: 'createLimit',
    summary: 'Set the rate limits of the organization, a team, a user or a virtual key (one per subject: change it with PATCH)',
    tag,
    params: orgParams,
    body: s.limitCreate,
    response: s.rateLimit,
    status: 201,
    handler: (call) => limits.create(call, (tenant, subject) => tenant.rateLimits.create({ ...subject, limits: call.body.limits })),
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/limits/{limit_id}',
    operationId: 'getLimit',
    summary: 'Get a rate limit',
    tag,
    params: s.limitParams,
    response: s.rateLimit,
    handler: limits.get,
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/limits/{limit_id}',
    operationId: 'updateLimit',
    summary: "Replace a rate limit's values (its subject stays)",
    tag,
    params: s.limitParams,
    body: s.limitUpdate,
    response: s.rateLimit,
    handler: (call) => limits.update(call, async (tenant, before) => (await tenant.rateLimits.update(before.id, { limits: call.body.limits }))!),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/limits/{limit_id}',
    operationId: 'deleteLimit',
    summary: 'Delete a rate limit',
    tag,
    params: s.limitParams,
    response: deleted,
    handler: limits.delete,
  }),
];
