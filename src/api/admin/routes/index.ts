// The admin API's route table: what the plugin serves, the OpenAPI document describes and the CLI runs.

import type { AdminRoute } from '../route.ts';
import { alertRoutes } from './alerts.ts';
import { analyticsRoutes } from './analytics.ts';
import { auditRoutes } from './audit.ts';
import { budgetRoutes } from './budgets.ts';
import { credentialRoutes } from './credentials.ts';
import { keyRoutes } from './keys.ts';
import { limitRoutes } from './limits.ts';
import { logRoutes } from './logs.ts';
import { meRoutes } from './me.ts';
import { membershipRoutes } from './memberships.ts';
import { organizationRoutes } from './organizations.ts';
import { policyRoutes } from './policies.ts';
import { routingRoutes } from './routing.ts';
import { shadowRoutes } from './shadow.ts';
import { teamRoutes } from './teams.ts';
import { usageRoutes } from './usage.ts';
import { userRoutes } from './users.ts';

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...meRoutes,
  ...organizationRoutes,
  ...teamRoutes,
  ...userRoutes,
  ...membershipRoutes,
  ...keyRoutes,
  ...credentialRoutes,
  ...policyRoutes,
  ...limitRoutes,
  ...budgetRoutes,
  ...auditRoutes,
  ...usageRoutes,
  ...analyticsRoutes,
  ...logRoutes,
  ...routingRoutes,
  ...shadowRoutes,
  ...alertRoutes,
];

export function routeById(operationId: string): AdminRoute {
  const route = ADMIN_ROUTES.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`no admin route '${operationId}'`);
  return route;
}
