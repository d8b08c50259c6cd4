// Which usage records a caller may read: the usage and spend reports and the request log share one rule. Organization
// owners, admins and viewers (and the master key) see the whole organization; team-scoped roles see their teams'
// records and their own, and naming a team or person beyond that is refused.

import { decide, readsWholeOrg, type Actor } from '../../identity/rbac.ts';
import type { UsageSummaryQuery } from '../../store/repositories/usage.ts';
import { forbidden } from './errors.ts';

export type Visible = UsageSummaryQuery['visible'];

/** Undefined: everything in the organization. `what` names the records in refusals ("usage", "request logs"). */
export function recordVisibility(actor: Actor, filter: { team_id?: string | undefined; user_id?: string | undefined }, what: string): Visible {
  if (readsWholeOrg(actor)) return undefined;
  if (filter.team_id !== undefined && decide(actor, 'usage', 'read', { team_ids: [filter.team_id] }) !== 'allow') {
    throw forbidden(`You may read the ${what} of your own teams only`);
  }
  if (filter.team_id === undefined && filter.user_id !== undefined && filter.user_id !== actor.user_id) {
    throw forbidden(`You may read your own ${what} (user_id), or that of one of your teams (team_id)`);
  }
  return { team_ids: [...actor.teams.keys()], user_id: actor.user_id };
}

/** Whether a team-scoped caller may read one record: one of its teams', or its own. */
export function seesRecord(visible: Visible, record: { team_id: string | null; user_id: string | null }): boolean {
  if (visible === undefined) return true;
  return (record.team_id !== null && visible.team_ids.includes(record.team_id)) || (visible.user_id !== null && record.user_id === visible.user_id);
}
