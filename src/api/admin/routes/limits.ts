// Rate limits of an organization, team, user or virtual key: one per subject, created with POST and changed with
// PATCH. A limit is read into the auth cache with every key it binds, so each change drops those keys there: the one
// key for a key's limit, every key otherwise.

import type { TenantStore } from '../../../store/store.ts';
import type { RateLimit } from '../../../store/types.ts';
import { authorize, authorizeCreate, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { notFound } from '../errors.ts';
import * as s from '../limit-schemas.ts';
import { defineRoute, type AdminRoute, type Call } from '../route.ts';
import { deleted, orgParams } from '../schemas.ts';
import { invalidateSubject, listFilters, subjectOf, subjectTarget } from '../subjects.ts';

const tag = 'Rate limits';

/** The limit in the path, if the actor may see it (404 otherwise) and, for 'write', change it (403 otherwise). */
async function readLimit(call: Call<{ org_id: string; limit_id: string }>, tenant: TenantStore, operation: 'read' | 'write'): Promise<RateLimit> {
  const id = call.params.limit_id;
  const limit = await tenant.rateLimits.get(id);
  if (!limit) throw notFound('rate limit', id);
  authorize(call.actor, 'limit', operation, await subjectTarget(tenant, limit), id);
  return limit;
}

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
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      return tenant.rateLimits.list(listFilters(actor, query));
    },
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
    async handler(call) {
      const limit = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const subject = subjectOf(call.params.org_id, call.body);
        authorizeCreate(call.actor, 'limit', await subjectTarget(tenant, subject));
        const limit = await tenant.rateLimits.create({ ...subject, limits: call.body.limits, created_by: call.actor.id });
        return { result: limit, change: { action: 'limit.create', target_type: 'limit', target_id: limit.id, after: limit } };
      });
      await invalidateSubject(call.deps.keyAuth, limit);
      return limit;
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/limits/{limit_id}',
    operationId: 'getLimit',
    summary: 'Get a rate limit',
    tag,
    params: s.limitParams,
    response: s.rateLimit,
    async handler(call) {
      return readLimit(call, await reachOrg(call.deps.store, call.actor, call.params.org_id), 'read');
    },
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
    async handler(call) {
      const after = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await readLimit(call, tenant, 'write');
        const after = (await tenant.rateLimits.update(before.id, { limits: call.body.limits }))!;
        return { result: after, change: { action: 'limit.update', target_type: 'limit', target_id: before.id, before, after } };
      });
      await invalidateSubject(call.deps.keyAuth, after);
      return after;
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/limits/{limit_id}',
    operationId: 'deleteLimit',
    summary: 'Delete a rate limit',
    tag,
    params: s.limitParams,
    response: deleted,
    async handler(call) {
      const before = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await readLimit(call, tenant, 'write');
        await tenant.rateLimits.delete(before.id);
        return { result: before, change: { action: 'limit.delete', target_type: 'limit', target_id: before.id, before } };
      });
      await invalidateSubject(call.deps.keyAuth, before);
      return { id: before.id, deleted: true };
    },
  }),
];
