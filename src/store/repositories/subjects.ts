// The subject of a rate limit or budget, shared by both repositories: which reference column a subject fills (the one
// the database checks against the subject's table), the columns every new row starts with, and the reads and the
// delete both tables answer alike (SubjectRows): one row by id, a page by subject and visibility, everything that
// binds one key.

import type { Expression, ExpressionBuilder, Selectable, SqlBool } from 'kysely';
import type { SubjectScope } from '../../limits/rules.ts';
import { StoreError } from '../errors.ts';
import { newId, type IdPrefix } from '../ids.ts';
import type { Tables } from '../tables.ts';
import type { Page, PageQuery } from '../types.ts';
import { paginate } from './page.ts';
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

export interface SubjectQuery extends PageQuery {
  scope?: SubjectScope;
  subject_id?: string;
  /** Only what someone seeing these teams and themselves may read. */
  visible_to?: SubjectVisibility;
}

/** The tables whose rows are bound to a subject; their subject columns are the same (tables.ts, SubjectColumns). */
export type SubjectTable = 'rate_limits' | 'budgets';

type RowOf = { [T in SubjectTable]: Selectable<Tables[T]> };

// Queries name both tables at once, since Kysely cannot check a column against a table given as a type parameter.
// It then accepts a column of either table, so only the shared subject columns are named here; and it types a row
// as holding the columns of both, which satisfies the one table's own row type that its mapper takes.
type Eb = ExpressionBuilder<Tables, SubjectTable>;

/** For translateViolations: the database refuses a subject of another organization, or of another kind than scope says. */
export const subjectMessages = (entity: string) => ({ entity, reference: 'subject_id must name a team, user or virtual key (as scope says) of this organization' });

function subjectColumns(scope: OrgScope, subject: Subject, entity: string) {
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

/** The reads and the delete of a table of subject-bound rows; its repository adds what differs (create, update). */
export class SubjectRows<T extends SubjectTable, D> {
  readonly #table: SubjectTable;

  /** `toDomain` reads a row of `table` itself: a mapper for the other table does not compile. */
  constructor(
    protected readonly scope: OrgScope,
    table: T,
    private readonly toDomain: (row: RowOf[T]) => D,
  ) {
    this.#table = table;
  }

  /** The columns a new row starts with: its id, its subject's, who made it and when. */
  protected newRow(idPrefix: IdPrefix, input: Subject & { created_by: string }, entity: string) {
    const now = this.scope.now();
    const at = now.toISOString();
    return { id: newId(idPrefix, now), ...subjectColumns(this.scope, input, entity), created_by: input.created_by, created_at: at, updated_at: at };
  }

  async get(id: string): Promise<D | undefined> {
    const row = await this.scope.selectFrom(this.#table).selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toDomain(row);
  }

  async list(query: SubjectQuery = {}): Promise<Page<D>> {
    let q = this.scope.selectFrom(this.#table).selectAll();
    if (query.scope !== undefined) q = q.where('scope', '=', query.scope);
    if (query.subject_id !== undefined) q = q.where('subject_id', '=', query.subject_id);
    const visible = query.visible_to;
    if (visible !== undefined) {
      if (seesNothing(visible)) return { items: [], next_cursor: null };
      q = q.where((eb) => visibleTo(eb, this.scope, visible));
    }
    return paginate(q, query, (row) => this.toDomain(row));
  }

  /** Every row that binds the key: its own, its team's, its user's and its organization's, in one query. */
  async forKey(key: KeySubjects): Promise<D[]> {
    const rows = await this.scope.selectFrom(this.#table).selectAll().where((eb) => bindsKey(eb, key)).orderBy('id').execute();
    return rows.map((row) => this.toDomain(row));
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom(this.#table).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function bindsKey(eb: Eb, key: KeySubjects): Expression<SqlBool> {
  const of = (scope: SubjectScope, id: string) => eb.and([eb('scope', '=', scope), eb('subject_id', '=', id)]);
  return eb.or([
    eb('scope', '=', 'org'),
    of('key', key.id),
    ...(key.team_id ? [of('team', key.team_id)] : []),
    ...(key.user_id ? [of('user', key.user_id)] : []),
  ]);
}

/** No teams and no user of one's own: nothing to see, and no query to make. */
const seesNothing = (v: SubjectVisibility): boolean => v.team_ids.length === 0 && v.user_id === null;

/** For a visibility that admits something (see seesNothing). */
function visibleTo(eb: Eb, scope: OrgScope, v: SubjectVisibility): Expression<SqlBool> {
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
