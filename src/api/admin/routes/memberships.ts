// Who is in which team, with which team role. A team admin manages its own teams' memberships.

import { authorize, authorizeCreate, EMPTY_PAGE, membershipTarget, narrowList, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Memberships';

export const membershipRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/memberships',
    operationId: 'listMemberships',
    summary: "List memberships (team-scoped roles: one of their teams' (team_id), else their own)",
    tag,
    params: s.orgParams,
    query: s.membershipQuery,
    response: s.membershipPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const narrowed = narrowList(actor, 'membership', query);
      return narrowed ? tenant.memberships.list(narrowed) : EMPTY_PAGE;
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/memberships',
    operationId: 'createMembership',
    summary: 'Add a user to a team',
    tag,
    params: s.orgParams,
    body: s.membershipCreate,
    response: s.membership,
    status: 201,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'membership', membershipTarget(call.body));
        const membership = await tenant.memberships.create(call.body);
        return { result: membership, change: { action: 'membership.create', target_type: 'membership', target_id: membership.id, after: membership } };
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/memberships/{membership_id}',
    operationId: 'getMembership',
    summary: 'Get a membership',
    tag,
    params: s.membershipParams,
    response: s.membership,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const membership = await tenant.memberships.get(params.membership_id);
      if (!membership) throw notFound('membership', params.membership_id);
      authorize(actor, 'membership', 'read', membershipTarget(membership), membership.id);
      return membership;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/memberships/{membership_id}',
    operationId: 'updateMembership',
    summary: "Change a member's role in the team",
    tag,
    params: s.membershipParams,
    body: s.membershipUpdate,
    response: s.membership,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (tenant) => {
        const id = call.params.membership_id;
        const before = await tenant.memberships.get(id);
        if (!before) throw notFound('membership', id);
        authorize(call.actor, 'membership', 'write', membershipTarget(before), id);
        const after = (await tenant.memberships.update(id, call.body))!;
        return { result: after, change: { action: 'membership.update', target_type: 'membership', target_id: id, before, after } };
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/memberships/{membership_id}',
    operationId: 'deleteMembership',
    summary: 'Remove a user from a team',
    tag,
    params: s.membershipParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.membership_id;
      await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await tenant.memberships.get(id);
        if (!before) throw notFound('membership', id);
        authorize(call.actor, 'membership', 'write', membershipTarget(before), id);
        await tenant.memberships.delete(id);
        return { result: undefined, change: { action: 'membership.delete', target_type: 'membership', target_id: id, before } };
      });
      return { id, deleted: true };
    },
  }),
];
