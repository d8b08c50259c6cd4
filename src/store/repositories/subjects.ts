// The subject of a rate limit or budget, shared by both repositories: which reference column a subject fills (the one
// the database checks against the subject's table), and the two ways rows are selected by subject: everything that
// binds one key, and what a person who sees only some teams and themselves may read.

import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { SubjectScope } from '../../limits/rules.ts';
import { StoreError } from '../errors.ts';
import type { OrgScope } from './scope.ts';

export interface Subject {
  scope: SubjectScope;
  /** The team, user or key id; for scope org, the organization's own id. */
  subject_id: string;
}

/** What binds a virtual key: its own rows, its team's, its user's and its organization's. */
export interface KeySubjects {
  id: string;
  team_id: string | null;
  user_id: string | null;
}

/** Rows of these teams, of this user, and of the keys that belong to either. */
export interface SubjectVisibility {
  team_ids: readonly string[];
  user_id: string | null;
}

export function subjectColumns(scope: OrgScope, subject: Subject, entity: string) {
  if (subject.scope === 'org' && subject.subject_id !== scope.orgId) {
    throw new StoreError('invalid_reference', `${entity} of scope org binds its own organization: subject_id must be the organization's id`);
  }
  return {
    scope: subject.scope,
    subject_id: subject.subject_id,
    team_id: subject.scope === 'team' ? subject.subject_id : null,
    user_id: subject.scope === 'user' ? subject.subject_id : null,
    key_id: subject.scope === 'key' ? subject.subject_id : null,
  };
}

// Untyped: the same conditions serve both tables, whose subject columns are the same (tables.ts, SubjectColumns).
type Eb = ExpressionBuilder<any, any>;

export function bindsKey(eb: Eb, key: KeySubjects): Expression<SqlBool> {
  const of = (scope: SubjectScope, id: string) => eb.and([eb('scope', '=', scope), eb('subject_id', '=', id)]);
  return eb.or([
    eb('scope', '=', 'org'),
    of('key', key.id),
    ...(key.team_id ? [of('team', key.team_id)] : []),
    ...(key.user_id ? [of('user', key.user_id)] : []),
  ]);
}

/** No teams and no user of one's own: nothing to see, and no query to make. */
export const seesNothing = (v: SubjectVisibility): boolean => v.team_ids.length === 0 && v.user_id === null;

/** For a visibility that admits something (see seesNothing). */
export function visibleTo(eb: Eb, scope: OrgScope, v: SubjectVisibility): Expression<SqlBool> {
  const teams = [...v.team_ids];
  const keys = scope
    .selectFrom('virtual_keys')
    .select('virtual_keys.id')
    .where((k) => k.or([...(teams.length > 0 ? [k('virtual_keys.team_id', 'in', teams)] : []), ...(v.user_id !== null ? [k('virtual_keys.user_id', '=', v.user_id)] : [])]));
  return eb.or([
    ...(teams.length > 0 ? [eb.and([eb('scope', '=', 'team'), eb('subject_id', 'in', teams)])] : []),
    ...(v.user_id !== null ? [eb.and([eb('scope', '=', 'user'), eb('subject_id', '=', v.user_id)])] : []),
    eb.and([eb('scope', '=', 'key'), eb('subject_id', 'in', keys)]),
  ]);
}
