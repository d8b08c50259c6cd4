// What a rate limit or budget belongs to, for both of their route modules: the subject a body names, what the role
// checks see of it, how a list is narrowed for those who see only part of the organization, and which cached keys a
// change reaches.

import { readsWholeOrg, type Actor, type Target } from '../../identity/rbac.ts';
import type { SubjectScope } from '../../limits/rules.ts';
import type { Subject, SubjectVisibility } from '../../store/repositories/subjects.ts';
import type { TenantStore } from '../../store/store.ts';
import { keyTarget } from './access.ts';
import type { AdminDeps } from './route.ts';

/** For scope org, subject_id may be left out: the organization in the path is the subject. */
export function subjectOf(orgId: string, body: { scope: SubjectScope; subject_id?: string | undefined }): Subject {
  return { scope: body.scope, subject_id: body.subject_id ?? orgId };
}

/**
 * A team's limits belong to the team, a user's to the user, a key's to the key's team and owner; the organization's
 * to no team, so only roles that see the whole organization see them. A key that does not exist belongs to nobody
 * (the database refuses it afterwards).
 */
export async function subjectTarget(tenant: TenantStore, subject: Subject): Promise<Target> {
  switch (subject.scope) {
    case 'org':
      return { org_wide: true };
    case 'team':
      return { team_ids: [subject.subject_id] };
    case 'user':
      return { user_id: subject.subject_id };
    case 'key': {
      const key = await tenant.keys.get(subject.subject_id);
      return key ? keyTarget(key) : {};
    }
  }
}

/** The filters to list with: as asked, and for team-scoped roles also only what binds their teams, themselves or their keys. */
export function listFilters<Q extends object>(actor: Actor, query: Q): Q & { visible_to?: SubjectVisibility } {
  return readsWholeOrg(actor) ? query : { ...query, visible_to: { team_ids: [...actor.teams.keys()], user_id: actor.user_id } };
}

/** Limits and budgets travel with every key they bind: a key's reaches that key, anything else may reach any key. */
export function invalidateSubject(keyAuth: AdminDeps['keyAuth'], subject: Subject): Promise<void> {
  return subject.scope === 'key' ? keyAuth.invalidate(subject.subject_id) : keyAuth.invalidateAll();
}
