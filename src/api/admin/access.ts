// Tenant isolation and role checks for the handlers. An organization-bound actor only ever gets its own organization's
// TenantStore, whose queries cannot reach another organization's rows; within the organization, rbac.ts decides.

import { decide, readsWholeOrg, type Actor, type Resource, type Target } from '../../identity/rbac.ts';
import type { StoreTransaction, TenantStore } from '../../store/store.ts';
import type { Membership, ModelPolicy, Page, Team, User, VirtualKey } from '../../store/types.ts';
import { forbidden, notFound } from './errors.ts';

const NAMES: Record<Resource, string> = {
  organization: 'organization',
  team: 'team',
  user: 'user',
  membership: 'membership',
  key: 'virtual key',
  credential: 'provider credential',
  policy: 'model policy',
  audit: 'audit record',
  limit: 'rate limit',
  budget: 'budget',
  usage: 'usage',
};

/** The organization in the path, if the actor may reach it. Another organization is answered as not found. */
export async function reachOrg(store: Pick<StoreTransaction, 'organizations' | 'tenant'>, actor: Actor, orgId: string): Promise<TenantStore> {
  if ((actor.org_id !== null && actor.org_id !== orgId) || !(await store.organizations.get(orgId))) throw notFound('organization', orgId);
  return store.tenant(orgId);
}

/** Throws unless the actor may read (or change) the object: 404 when it may not even see it, 403 when it only may see it. */
export function authorize(actor: Actor, resource: Resource, operation: 'read' | 'write', target: Target, id: string): void {
  const decision = decide(actor, resource, operation, target);
  if (decision === 'hidden') throw notFound(NAMES[resource], id);
  if (decision === 'forbidden') throw forbidden(`Your role (${actor.role}) may not ${operation === 'read' ? 'read' : 'change'} this ${NAMES[resource]}`);
}

/**
 * For a new object, described by what it will belong to. Refused with the same 403 whether or not a team it names
 * exists, so the answer tells nothing about other teams.
 */
export function authorizeCreate(actor: Actor, resource: Resource, target: Target): void {
  if (decide(actor, resource, 'write', target) !== 'allow') throw forbidden(`Your role (${actor.role}) may not create this ${NAMES[resource]}`);
}

/** Operations that span organizations (creating them, the whole audit log) belong to the master key. */
export function requirePlatform(actor: Actor, what: string): void {
  if (actor.org_id !== null) throw forbidden(`Only the master key may ${what}`);
}

/**
 * For an actor that sees only part of the organization, a list must be narrowed to a team it may read that resource
 * of, or to its own. Returns the filters to list with, or undefined when the actor has nothing of its own.
 */
export function narrowList<Q extends { team_id?: string | undefined; user_id?: string | undefined }>(
  actor: Actor,
  resource: Resource,
  query: Q,
): (Q & { user_id?: string | undefined }) | undefined {
  if (readsWholeOrg(actor)) return query;
  const plural = `${NAMES[resource]}s`;
  if (query.team_id !== undefined) {
    if (decide(actor, resource, 'read', { team_ids: [query.team_id] }) !== 'allow') throw forbidden(`You may list ${plural} of your own teams only`);
    return query;
  }
  if (query.user_id !== undefined && query.user_id !== actor.user_id) throw forbidden(`You may list your own ${plural} (user_id), or those of one of your teams (team_id)`);
  return actor.user_id === null ? undefined : { ...query, user_id: actor.user_id };
}

export const EMPTY_PAGE: Page<never> = { items: [], next_cursor: null };

export const teamTarget = (team: Pick<Team, 'id'>): Target => ({ team_ids: [team.id] });
export const keyTarget = (key: Pick<VirtualKey, 'team_id' | 'user_id'>): Target => ({ team_ids: key.team_id ? [key.team_id] : [], user_id: key.user_id ?? null });
export const membershipTarget = (m: Pick<Membership, 'team_id' | 'user_id'>): Target => ({ team_ids: [m.team_id], user_id: m.user_id });
export const policyTarget = (p: Pick<ModelPolicy, 'team_id'>): Target => (p.team_id ? { team_ids: [p.team_id] } : { org_wide: true });

/** A user belongs to the teams it is a member of. */
export async function userTarget(tenant: TenantStore, user: Pick<User, 'id'>): Promise<Target> {
  const { items } = await tenant.memberships.list({ user_id: user.id, limit: 1000 });
  return { user_id: user.id, team_ids: items.map((m) => m.team_id) };
}
