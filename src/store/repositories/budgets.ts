// USD budgets set for one subject (the organization, a team, a user or a key). A subject may have several (a daily
// and a monthly one, a soft and a hard one). The subject is fixed at creation; everything else may change.

import type { Selectable } from 'kysely';
import type { BudgetPeriod, SubjectScope } from '../../limits/rules.ts';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { BudgetsTable } from '../tables.ts';
import type { Budget, Page, PageQuery } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';
import { bindsKey, seesNothing, subjectColumns, visibleTo, type KeySubjects, type Subject, type SubjectVisibility } from './subjects.ts';

export interface BudgetInput extends Subject {
  amount_usd: number;
  period: BudgetPeriod;
  window: Budget['window'];
  enforcement: Budget['enforcement'];
  /** Null or absent: the config's budgets.alerts.thresholds. */
  alert_thresholds?: number[] | null;
  webhook_url?: string | null;
  /** json when absent. */
  webhook_format?: Budget['webhook_format'];
  created_by: string;
}

export type BudgetPatch = Partial<Omit<BudgetInput, 'scope' | 'subject_id' | 'created_by'>>;

export interface BudgetQuery extends PageQuery {
  scope?: SubjectScope;
  subject_id?: string;
  /** Only what someone seeing these teams and themselves may read. */
  visible_to?: SubjectVisibility;
}

const MESSAGES = { entity: 'a budget', reference: 'subject_id must name a team, user or virtual key (as scope says) of this organization' };

function toBudget(row: Selectable<BudgetsTable>): Budget {
  return {
    id: row.id,
    org_id: row.org_id,
    scope: row.scope as SubjectScope,
    subject_id: row.subject_id,
    amount_usd: row.amount_usd,
    period: row.period as BudgetPeriod,
    window: row.window as Budget['window'],
    enforcement: row.enforcement as Budget['enforcement'],
    alert_thresholds: row.alert_thresholds === null ? null : readJson(row.alert_thresholds),
    webhook_url: row.webhook_url,
    webhook_format: row.webhook_format as Budget['webhook_format'],
    created_by: row.created_by,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

const thresholds = (value: number[] | null | undefined) => (value === null || value === undefined ? null : writeJson(value));

export class BudgetRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: BudgetInput): Promise<Budget> {
    const now = this.scope.now();
    const at = now.toISOString();
    const subject = subjectColumns(this.scope, input, MESSAGES.entity);
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('budgets', {
          id: newId('bud', now),
          ...subject,
          amount_usd: input.amount_usd,
          period: input.period,
          window: input.window,
          enforcement: input.enforcement,
          alert_thresholds: thresholds(input.alert_thresholds),
          webhook_url: input.webhook_url ?? null,
          webhook_format: input.webhook_format ?? 'json',
          created_by: input.created_by,
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toBudget(row);
  }

  async get(id: string): Promise<Budget | undefined> {
    const row = await this.scope.selectFrom('budgets').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toBudget(row);
  }

  async list(query: BudgetQuery = {}): Promise<Page<Budget>> {
    let q = this.scope.selectFrom('budgets').selectAll();
    if (query.scope !== undefined) q = q.where('scope', '=', query.scope);
    if (query.subject_id !== undefined) q = q.where('subject_id', '=', query.subject_id);
    const visible = query.visible_to;
    if (visible !== undefined) {
      if (seesNothing(visible)) return { items: [], next_cursor: null };
      q = q.where((eb) => visibleTo(eb, this.scope, visible));
    }
    return paginate(q, query, toBudget);
  }

  /** Every budget that binds the key: its own, its team's, its user's and its organization's, in one query. */
  async forKey(key: KeySubjects): Promise<Budget[]> {
    const rows = await this.scope.selectFrom('budgets').selectAll().where((eb) => bindsKey(eb, key)).orderBy('id').execute();
    return rows.map(toBudget);
  }

  async update(id: string, patch: BudgetPatch): Promise<Budget | undefined> {
    const row = await this.scope
      .updateTable('budgets')
      .set({
        ...(patch.amount_usd !== undefined && { amount_usd: patch.amount_usd }),
        ...(patch.period !== undefined && { period: patch.period }),
        ...(patch.window !== undefined && { window: patch.window }),
        ...(patch.enforcement !== undefined && { enforcement: patch.enforcement }),
        ...(patch.alert_thresholds !== undefined && { alert_thresholds: thresholds(patch.alert_thresholds) }),
        ...(patch.webhook_url !== undefined && { webhook_url: patch.webhook_url }),
        ...(patch.webhook_format !== undefined && { webhook_format: patch.webhook_format }),
        updated_at: this.scope.now().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toBudget(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('budgets').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
