// Model access policies: which models an organization, or one of its teams, may use.

import { decide, readsWholeOrg } from '../../../identity/rbac.ts';
import { authorize, authorizeCreate, policyTarget, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { forbidden, notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Model policies';

export const policyRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/policies',
    operationId: 'listPolicies',
    summary: "List model policies (team-scoped roles: one of their teams' (team_id), else the organization-wide ones)",
    tag,
    params: s.orgParams,
    query: s.policyQuery,
    response: s.policyPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const { team_id, org_wide, ...page } = query;
      if (team_id !== undefined) {
        if (decide(actor, 'policy', 'read', { team_ids: [team_id] }) !== 'allow') throw forbidden('You may list model policies of your own teams only');
        return tenant.policies.list({ ...page, team_id });
      }
      return tenant.policies.list(org_wide || !readsWholeOrg(actor) ? { ...page, team_id: null } : page);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/policies',
    operationId: 'createPolicy',
    summary: 'Create a model policy',
    tag,
    params: s.orgParams,
    body: s.policyCreate,
    response: s.policy,
    status: 201,
    async handler(call) {
      const policy = await changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'policy', policyTarget({ team_id: call.body.team_id ?? null }));
        const policy = await tenant.policies.create({ ...call.body, created_by: call.actor.id });
        return { result: policy, change: { action: 'policy.create', target_type: 'policy', target_id: policy.id, after: policy } };
      });
      // A policy binds every key of its org or team: cached identities carry the old set.
      await call.deps.keyAuth.invalidateAll();
      return policy;
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/policies/{policy_id}',
    operationId: 'getPolicy',
    summary: 'Get a model policy',
    tag,
    params: s.policyParams,
    response: s.policy,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const policy = await tenant.policies.get(params.policy_id);
      if (!policy) throw notFound('model policy', params.policy_id);
      authorize(actor, 'policy', 'read', policyTarget(policy), policy.id);
      return policy;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/policies/{policy_id}',
    operationId: 'updatePolicy',
    summary: "Change a model policy's name, team, description or allowed models",
    tag,
    params: s.policyParams,
    body: s.policyUpdate,
    response: s.policy,
    async handler(call) {
      const after = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const id = call.params.policy_id;
        const before = await tenant.policies.get(id);
        if (!before) throw notFound('model policy', id);
        authorize(call.actor, 'policy', 'write', policyTarget(before), id);
        const after = (await tenant.policies.update(id, call.body))!;
        return { result: after, change: { action: 'policy.update', target_type: 'policy', target_id: id, before, after } };
      });
      await call.deps.keyAuth.invalidateAll();
      return after;
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/policies/{policy_id}',
    operationId: 'deletePolicy',
    summary: 'Delete a model policy',
    tag,
    params: s.policyParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.policy_id;
      await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await tenant.policies.get(id);
        if (!before) throw notFound('model policy', id);
        authorize(call.actor, 'policy', 'write', policyTarget(before), id);
        await tenant.policies.delete(id);
        return { result: undefined, change: { action: 'policy.delete', target_type: 'policy', target_id: id, before } };
      });
      await call.deps.keyAuth.invalidateAll();
      return { id, deleted: true };
    },
  }),
];
