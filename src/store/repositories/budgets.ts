// USD budgets set for one subject (the organization, a team, a user or a key). A subject may have several (a daily
// and a monthly one, a soft and a hard one). The subject is fixed at creation; everything else may change.

import type { Selectable } from 'kysely';
import type { BudgetPeriod, SubjectScope } from '../../limits/rules.ts';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import type { BudgetsTable } from '../tables.ts';
import type { Budget } from '../types.ts';
import type { OrgScope } from './scope.ts';
import { SubjectRows, subjectMessages, type Subject } from './subjects.ts';

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

const MESSAGES = subjectMessages('a budget');

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

export class BudgetRepository extends SubjectRows<'budgets', Budget> {
  constructor(scope: OrgScope) {
    super(scope, 'budgets', toBudget);
  }

  async create(input: BudgetInput): Promise<Budget> {
    const columns = this.newRow('bud', input, MESSAGES.entity);
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('budgets', {
          ...columns,
          amount_usd: input.amount_usd,
          period: input.period,
          window: input.window,
          enforcement: input.enforcement,
          alert_thresholds: thresholds(input.alert_thresholds),
          webhook_url: input.webhook_url ?? null,
          webhook_format: input.webhook_format ?? 'json',
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toBudget(row);
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
}
