// Who the caller is, as the admin API sees it: what a console shows and what decides every other answer.

import { defineRoute, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';

export const meRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/me',
    operationId: 'getMe',
    summary: 'The calling actor: its organization, role, user and team roles',
    tag: 'Identity',
    response: s.actor,
    async handler({ actor }) {
      return { id: actor.id, org_id: actor.org_id, role: actor.role, user_id: actor.user_id, teams: Object.fromEntries(actor.teams) };
    },
  }),
];
