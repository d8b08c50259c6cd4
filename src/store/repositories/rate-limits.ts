// Rate limits set for one subject (the organization, a team, a user or a key): one per subject, its values as
// limitValuesSchema reads them. The subject is fixed at creation; a limit for another subject is another row.

import type { Selectable } from 'kysely';
import type { LimitValues, SubjectScope } from '../../limits/rules.ts';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { RateLimitsTable } from '../tables.ts';
import type { Page, PageQuery, RateLimit } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';
import { bindsKey, seesNothing, subjectColumns, visibleTo, type KeySubjects, type Subject, type SubjectVisibility } from './subjects.ts';

export interface RateLimitInput extends Subject {
  limits: LimitValues;
  created_by: string;
}

export interface RateLimitQuery extends PageQuery {
  scope?: SubjectScope;
  subject_id?: string;
  /** Only what someone seeing these teams and themselves may read. */
  visible_to?: SubjectVisibility;
}

const MESSAGES = { entity: 'a rate limit', reference: 'subject_id must name a team, user or virtual key (as scope says) of this organization' };

function toRateLimit(row: Selectable<RateLimitsTable>): RateLimit {
  return {
    id: row.id,
    org_id: row.org_id,
    scope: row.scope as SubjectScope,
    subject_id: row.subject_id,
    limits: readJson(row.limits),
    created_by: row.created_by,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class RateLimitRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: RateLimitInput): Promise<RateLimit> {
    const now = this.scope.now();
    const at = now.toISOString();
    const subject = subjectColumns(this.scope, input, MESSAGES.entity);
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('rate_limits', { id: newId('lim', now), ...subject, limits: writeJson(input.limits), created_by: input.created_by, created_at: at, updated_at: at })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toRateLimit(row);
  }

  async get(id: string): Promise<RateLimit | undefined> {
    const row = await this.scope.selectFrom('rate_limits').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRateLimit(row);
  }

  async list(query: RateLimitQuery = {}): Promise<Page<RateLimit>> {
    let q = this.scope.selectFrom('rate_limits').selectAll();
    if (query.scope !== undefined) q = q.where('scope', '=', query.scope);
    if (query.subject_id !== undefined) q = q.where('subject_id', '=', query.subject_id);
    const visible = query.visible_to;
    if (visible !== undefined) {
      if (seesNothing(visible)) return { items: [], next_cursor: null };
      q = q.where((eb) => visibleTo(eb, this.scope, visible));
    }
    return paginate(q, query, toRateLimit);
  }

  /** Every limit that binds the key: its own, its team's, its user's and its organization's, in one query. */
  async forKey(key: KeySubjects): Promise<RateLimit[]> {
    const rows = await this.scope.selectFrom('rate_limits').selectAll().where((eb) => bindsKey(eb, key)).orderBy('id').execute();
    return rows.map(toRateLimit);
  }

  /** Replaces the values; the subject stays. */
  async update(id: string, patch: { limits: LimitValues }): Promise<RateLimit | undefined> {
    const row = await this.scope
      .updateTable('rate_limits')
      .set({ limits: writeJson(patch.limits), updated_at: this.scope.now().toISOString() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toRateLimit(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('rate_limits').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
