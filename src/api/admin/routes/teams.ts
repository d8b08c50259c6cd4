// Teams of an organization. Owners and admins manage them; team-scoped actors see the teams they are in.

import { readsWholeOrg } from '../../../identity/rbac.ts';
import type { Team } from '../../../store/types.ts';
import { authorize, authorizeCreate, reachOrg, teamTarget } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Teams';

export const teamRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/teams',
    operationId: 'listTeams',
    summary: 'List teams (team-scoped roles: the teams they are in, on one page)',
    tag,
    params: s.orgParams,
    query: s.teamQuery,
    response: s.teamPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      if (readsWholeOrg(actor)) return tenant.teams.list(query);
      // A handful of teams at most: fetched one by one, through the tenant scope like any other read.
      const teams = await Promise.all([...actor.teams.keys()].map((id) => tenant.teams.get(id)));
      const items = teams.filter((t): t is Team => t !== undefined && (query.name === undefined || t.name === query.name));
      return { items: items.sort((a, b) => (a.id < b.id ? -1 : 1)), next_cursor: null };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/teams',
    operationId: 'createTeam',
    summary: 'Create a team',
    tag,
    params: s.orgParams,
    body: s.teamCreate,
    response: s.team,
    status: 201,
    handler: (call) =>
      changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'team', {});
        const team = await tenant.teams.create(call.body);
        return { result: team, change: { action: 'team.create', target_type: 'team', target_id: team.id, after: team } };
      }),
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/teams/{team_id}',
    operationId: 'getTeam',
    summary: 'Get a team',
    tag,
    params: s.teamParams,
    response: s.team,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const team = await tenant.teams.get(params.team_id);
      if (!team) throw notFound('team', params.team_id);
      authorize(actor, 'team', 'read', teamTarget(team), team.id);
      return team;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/teams/{team_id}',
    operationId: 'updateTeam',
    summary: "Rename a team, change its metadata, or turn the capture of its keys' request bodies on or off",
    tag,
    params: s.teamParams,
    body: s.teamUpdate,
    response: s.team,
    async handler(call) {
      const updated = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const id = call.params.team_id;
        const before = await tenant.teams.get(id);
        if (!before) throw notFound('team', id);
        authorize(call.actor, 'team', 'write', teamTarget(before), id);
        const after = (await tenant.teams.update(id, call.body))!;
        return { result: after, change: { action: 'team.update', target_type: 'team', target_id: id, before, after } };
      });
      // The team's keys carry its capture setting in the auth caches.
      if (call.body.log_payloads !== undefined) await call.deps.keyAuth.invalidateAll();
      return updated;
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/teams/{team_id}',
    operationId: 'deleteTeam',
    summary: 'Delete a team and its memberships (refused while keys or policies name it)',
    tag,
    params: s.teamParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.team_id;
      await changeInOrg(call, call.params.org_id, async (tenant) => {
        const before = await tenant.teams.get(id);
        if (!before) throw notFound('team', id);
        authorize(call.actor, 'team', 'write', teamTarget(before), id);
        await tenant.teams.delete(id);
        return { result: undefined, change: { action: 'team.delete', target_type: 'team', target_id: id, before } };
      });
      await call.deps.keyAuth.invalidateAll();
      return { id, deleted: true };
    },
  }),
];
