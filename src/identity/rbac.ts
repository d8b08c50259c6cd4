// Who may do what in the admin API. An actor holds an organization role and, for the team-scoped roles, a role in
// each of its teams. The decision is a pure function of the actor and what the object belongs to, so it is tested
// without a database; which organization's rows an actor can reach at all is settled before, by the tenant scope.
//
//   owner       everything in the organization, the organization itself included
//   admin       everything in the organization except changing or deleting the organization
//   viewer      reads everything in the organization, changes nothing
//   team_admin  through its memberships: the keys and members of the teams it administers, and its own keys
//   member      through its memberships: its own keys, user record and memberships, and the teams it is in
//
// An object the actor may not read is hidden (answered as not found, so its existence does not leak); an object it
// may read but not change is forbidden.

import type { OrgRole, TeamRole } from '../store/types.ts';

export const ORG_ROLES = ['owner', 'admin', 'team_admin', 'member', 'viewer'] as const satisfies readonly OrgRole[];
export const TEAM_ROLES = ['team_admin', 'member', 'viewer'] as const satisfies readonly TeamRole[];

export interface Actor {
  /** Recorded as the audit actor and as `created_by`: `master`, `cli`, a user id, or `oidc:<subject>`. */
  id: string;
  /** Null: every organization (the master key, the CLI). */
  org_id: string | null;
  role: OrgRole;
  /** The actor's own user record, when it has one: what "its own keys" means. */
  user_id: string | null;
  /** Team id → the actor's role in that team. */
  teams: ReadonlyMap<string, TeamRole>;
}

export type Resource = 'organization' | 'team' | 'user' | 'membership' | 'key' | 'credential' | 'policy' | 'audit' | 'limit' | 'budget' | 'usage';
export type Operation = 'read' | 'write';
export type Decision = 'allow' | 'forbidden' | 'hidden';

/** What an object belongs to. */
export interface Target {
  /** The teams it belongs to: a team itself, a membership's or key's team, the teams a user is in. */
  team_ids?: readonly string[];
  /** The user it belongs to: a key's owner, a membership's member, a user itself. */
  user_id?: string | null;
  /** A model policy for the whole organization rather than one team. */
  org_wide?: boolean;
}

export const platformActor = (id: 'master' | 'cli'): Actor => ({ id, org_id: null, role: 'owner', user_id: null, teams: new Map() });

/** Whether the actor sees the whole organization (or every organization): lists need no narrowing for it. */
export function readsWholeOrg(actor: Actor): boolean {
  return actor.org_id === null || actor.role === 'owner' || actor.role === 'admin' || actor.role === 'viewer';
}

const RANK: Record<TeamRole, number> = { viewer: 1, member: 2, team_admin: 3 };

/** The actor's strongest role among the target's teams. */
function teamRole(actor: Actor, target: Target): TeamRole | undefined {
  let best: TeamRole | undefined;
  for (const id of target.team_ids ?? []) {
    const role = actor.teams.get(id);
    if (role && (!best || RANK[role] > RANK[best])) best = role;
  }
  return best;
}

/** For the team-scoped roles: [may read, may write]. */
function teamScoped(actor: Actor, resource: Resource, target: Target): [boolean, boolean] {
  const role = teamRole(actor, target);
  const self = actor.user_id !== null && target.user_id === actor.user_id;
  const inTeam = role !== undefined;
  const teamAdmin = role === 'team_admin';
  switch (resource) {
    case 'organization':
      return [true, false];
    case 'team':
      return [inTeam, false];
    case 'user':
      return [self || inTeam, false];
    case 'membership':
      return [self || inTeam, teamAdmin];
    case 'key':
      // A member's own key may name a team only if the member is in it.
      return [self || teamAdmin || role === 'viewer', teamAdmin || (self && (inTeam || (target.team_ids ?? []).length === 0))];
    case 'policy':
      return [target.org_wide === true || inTeam, false];
    // Limits and budgets bind a team or a person: they may see theirs, but only organization admins set them, since a
    // team admin who could raise the team's own budget would make it no budget.
    case 'limit':
    case 'budget':
    case 'usage':
      return [self || inTeam, false];
    case 'credential':
    case 'audit':
      return [false, false];
  }
}

export function decide(actor: Actor, resource: Resource, operation: Operation, target: Target = {}): Decision {
  if (actor.org_id === null) return 'allow';
  let read: boolean;
  let write: boolean;
  switch (actor.role) {
    case 'owner':
      [read, write] = [true, true];
      break;
    case 'admin':
      [read, write] = [true, resource !== 'organization'];
      break;
    case 'viewer':
      [read, write] = [true, false];
      break;
    default:
      [read, write] = teamScoped(actor, resource, target);
  }
  // Credentials and the audit log are not anyone's to see piecemeal: refused outright rather than hidden.
  if (!read) return resource === 'credential' || resource === 'audit' ? 'forbidden' : 'hidden';
  return operation === 'read' || write ? 'allow' : 'forbidden';
}
