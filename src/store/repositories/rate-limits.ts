// Rate limits set for one subject (the organization, a team, a user or a key): one per subject, its values as
// limitValuesSchema reads them. The subject is fixed at creation; a limit for another subject is another row.

import type { Selectable } from 'kysely';
import type { LimitValues, SubjectScope } from '../../limits/rules.ts';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import type { RateLimitsTable } from '../tables.ts';
import type { RateLimit } from '../types.ts';
import type { OrgScope } from './scope.ts';
import { SubjectRows, subjectMessages, type Subject } from './subjects.ts';

export interface RateLimitInput extends Subject {
  limits: LimitValues;
  created_by: string;
}

const MESSAGES = subjectMessages('a rate limit');

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

export class RateLimitRepository extends SubjectRows<'rate_limits', RateLimit> {
  constructor(scope: OrgScope) {
    super(scope, 'rate_limits', toRateLimit);
  }

  async create(input: RateLimitInput): Promise<RateLimit> {
    const columns = this.newRow('lim', input, MESSAGES.entity);
    const row = await translateViolations(MESSAGES, () =>
      this.scope.insertInto('rate_limits', { ...columns, limits: writeJson(input.limits) }).returningAll().executeTakeFirstOrThrow(),
    );
    return toRateLimit(row);
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
}
