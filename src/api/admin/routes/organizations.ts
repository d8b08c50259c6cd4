// Organizations: the tenants. The master key creates and lists them all; an organization's own actors see only theirs,
// and only its owners change or delete it.

import { authorize, reachOrg, requirePlatform } from '../access.ts';
import { changeInOrg, recordChange } from '../changes.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Organizations';

export const organizationRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs',
    operationId: 'listOrganizations',
    summary: 'List organizations (an organization-bound credential sees its own)',
    tag,
    query: s.organizationQuery,
    response: s.organizationPage,
    async handler({ actor, deps, query }) {
      if (actor.org_id === null) return deps.store.organizations.list(query);
      const own = await deps.store.organizations.get(actor.org_id);
      return { items: own && (query.name === undefined || own.name === query.name) ? [own] : [], next_cursor: null };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs',
    operationId: 'createOrganization',
    summary: 'Create an organization (master key)',
    tag,
    body: s.organizationCreate,
    response: s.organization,
    status: 201,
    async handler(call) {
      requirePlatform(call.actor, 'create organizations');
      return call.deps.store.transaction(async (tx) => {
        const org = await tx.organizations.create(call.body);
        await recordChange(tx.tenant(org.id), call, { action: 'organization.create', target_type: 'organization', target_id: org.id, after: org });
        return org;
      });
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}',
    operationId: 'getOrganization',
    summary: 'Get an organization',
    tag,
    params: s.orgParams,
    response: s.organization,
    async handler({ actor, deps, params }) {
      await reachOrg(deps.store, actor, params.org_id);
      authorize(actor, 'organization', 'read', {}, params.org_id);
      const org = await deps.store.organizations.get(params.org_id);
      if (!org) throw notFound('organization', params.org_id);
      return org;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}',
    operationId: 'updateOrganization',
    summary: 'Rename an organization or change its metadata (owner)',
    tag,
    params: s.orgParams,
    body: s.organizationUpdate,
    response: s.organization,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (_tenant, tx) => {
        authorize(call.actor, 'organization', 'write', {}, call.params.org_id);
        const before = await tx.organizations.get(call.params.org_id);
        const after = await tx.organizations.update(call.params.org_id, call.body);
        if (!before || !after) throw notFound('organization', call.params.org_id);
        return { result: after, change: { action: 'organization.update', target_type: 'organization', target_id: after.id, before, after } };
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}',
    operationId: 'deleteOrganization',
    summary: 'Delete an organization and everything in it; its audit records stay (owner)',
    tag,
    params: s.orgParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.org_id;
      await changeInOrg(call, id, async (_tenant, tx) => {
        authorize(call.actor, 'organization', 'write', {}, id);
        const before = await tx.organizations.get(id);
        if (!before || !(await tx.organizations.delete(id))) throw notFound('organization', id);
        return { result: undefined, change: { action: 'organization.delete', target_type: 'organization', target_id: id, before } };
      });
      await call.deps.keyAuth.invalidateAll();
      await call.deps.credentials.invalidate(id);
      return { id, deleted: true };
    },
  }),
];
