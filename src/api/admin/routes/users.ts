// Users of an organization, with their organization role. Only an owner makes or unmakes owners, so an admin cannot
// raise itself above admin.

import type { Actor } from '../../../identity/rbac.ts';
import type { OrgRole } from '../../../store/types.ts';
import { authorize, authorizeCreate, EMPTY_PAGE, narrowList, reachOrg, userTarget } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { forbidden, notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Users';

function guardOwnerRole(actor: Actor, ...roles: (OrgRole | undefined)[]): void {
  if (actor.org_id !== null && actor.role !== 'owner' && roles.includes('owner')) throw forbidden('Only an owner may grant or change the owner role');
}

export const userRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/users',
    operationId: 'listUsers',
    summary: "List users (team-scoped roles: one of their teams' members, else themselves)",
    tag,
    params: s.orgParams,
    query: s.userQuery,
    response: s.userPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const narrowed = narrowList(actor, 'user', query);
      if (!narrowed) return EMPTY_PAGE;
      if (narrowed.team_id !== undefined || narrowed.user_id === undefined) return tenant.users.list(narrowed);
      // Their own record only: the user list has no id filter, and one get is all it takes.
      const self = await tenant.users.get(narrowed.user_id);
      return { items: self ? [self] : [], next_cursor: null };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/users',
    operationId: 'createUser',
    summary: 'Create a user',
    tag,
    params: s.orgParams,
    body: s.userCreate,
    response: s.user,
    status: 201,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'user', {});
        guardOwnerRole(call.actor, call.body.role);
        const user = await tenant.users.create(call.body);
        return { result: user, change: { action: 'user.create', target_type: 'user', target_id: user.id, after: user } };
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/users/{user_id}',
    operationId: 'getUser',
    summary: 'Get a user',
    tag,
    params: s.userParams,
    response: s.user,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const user = await tenant.users.get(params.user_id);
      if (!user) throw notFound('user', params.user_id);
      authorize(actor, 'user', 'read', await userTarget(tenant, user), user.id);
      return user;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/users/{user_id}',
    operationId: 'updateUser',
    summary: "Change a user's email, name or role",
    tag,
    params: s.userParams,
    body: s.userUpdate,
    response: s.user,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (tenant) => {
        const id = call.params.user_id;
        const before = await tenant.users.get(id);
        if (!before) throw notFound('user', id);
        authorize(call.actor, 'user', 'write', await userTarget(tenant, before), id);
        guardOwnerRole(call.actor, before.role, call.body.role);
        const after = (await tenant.users.update(id, call.body))!;
        return { result: after, change: { action: 'user.update', target_type: 'user', target_id: id, before, after } };
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/users/{user_id}',
    operationId: 'deleteUser',
    summary: 'Delete a user and their memberships (refused while keys name them)',
    tag,
    params: s.userParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.user_id;
      await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await tenant.users.get(id);
        if (!before) throw notFound('user', id);
        authorize(call.actor, 'user', 'write', await userTarget(tenant, before), id);
        guardOwnerRole(call.actor, before.role);
        await tenant.users.delete(id);
        return { result: undefined, change: { action: 'user.delete', target_type: 'user', target_id: id, before } };
      });
      await call.deps.keyAuth.invalidateAll();
      return { id, deleted: true };
    },
  }),
];
