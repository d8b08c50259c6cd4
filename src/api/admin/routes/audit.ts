// The audit log, newest first. The master key reads every organization's records (and may pick one with org_id); any
// other actor reads its own organization's, if its role may.

import { authorize, reachOrg } from '../access.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

export const auditRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/audit',
    operationId: 'listAudit',
    summary: 'List audit records, filtered by actor, action, target, time',
    tag: 'Audit',
    query: s.auditQuery,
    response: s.auditPage,
    async handler({ actor, deps, query }) {
      const { org_id, ...filters } = query;
      if (actor.org_id === null) return deps.store.audit.list(org_id === undefined ? filters : { ...filters, org_id });
      if (org_id !== undefined && org_id !== actor.org_id) throw notFound('organization', org_id);
      authorize(actor, 'audit', 'read', {}, actor.org_id);
      const tenant = await reachOrg(deps.store, actor, actor.org_id);
      return tenant.audit.list(filters);
    },
  }),
];
