// What limits and budgets say, wherever they are declared: in the config file (global, per model group, per provider
// target, and defaults for every key/team/user/org) or in the database for one key, team, user or organization
// (admin API). The limiter (limiter.ts) turns the rules that apply to a request into backend ops.

import { z } from 'zod';

export const LIMIT_METRICS = [
  'requests_per_second',
  'requests_per_minute',
  'tokens_per_minute',
  'tokens_per_day',
  'tokens_per_month',
  'max_concurrent',
] as const;
export type LimitMetric = (typeof LIMIT_METRICS)[number];

/** Who a limit counts for. Subject scopes (org, team, user, key) count each subject apart. */
export const LIMIT_SCOPES = ['global', 'org', 'team', 'user', 'key', 'model', 'target'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];
export const SUBJECT_SCOPES = ['org', 'team', 'user', 'key'] as const;
export type SubjectScope = (typeof SUBJECT_SCOPES)[number];

// Counters work in whole milliseconds times the limit, which must stay exact in a double (and in Redis's Lua).
const MAX_LIMIT = 100_000_000_000;
const count = z.coerce.number<unknown>().int().positive().max(MAX_LIMIT, `at most ${MAX_LIMIT.toLocaleString('en-US')}`);

/**
 * The limits themselves, shared by the config's rules and the database's. `burst` is how many requests may go at
 * once under requests_per_second/minute (by default one period's worth); tokens_per_minute holds a minute's worth. Over a limit: `reject`
 * (429), `queue` (wait up to queue_ms for room, then 429), or `downgrade` (serve the request with `downgrade_to`).
 */
export const limitValuesSchema = z
  .object({
    requests_per_second: count.optional(),
    requests_per_minute: count.optional(),
    tokens_per_minute: count.optional(),
    tokens_per_day: count.optional(),
    tokens_per_month: count.optional(),
    max_concurrent: count.optional(),
    burst: count.optional(),
    on_limit: z.enum(['reject', 'queue', 'downgrade']).default('reject'),
    queue_ms: count.optional(),
    downgrade_to: z.string().min(1).optional(),
  })
  .strict()
  .refine((v) => LIMIT_METRICS.some((m) => v[m] !== undefined), { message: `a limit needs at least one of ${LIMIT_METRICS.join(', ')}` })
  .refine((v) => v.on_limit !== 'queue' || v.queue_ms !== undefined, { message: 'on_limit: queue needs queue_ms', path: ['queue_ms'] })
  .refine((v) => v.on_limit !== 'downgrade' || v.downgrade_to !== undefined, {
    message: 'on_limit: downgrade needs downgrade_to (the model to serve instead)',
    path: ['downgrade_to'],
  });
export type LimitValues = z.output<typeof limitValuesSchema>;

/** A limit as the limiter applies it: its values and what it counts for. */
export interface LimitRule extends LimitValues {
  /** Stable id: the database row's, or `config:<index>` for the config file's rules. */
  id: string;
  scope: LimitScope;
  /** Subject scopes: the one subject (key, team, user or org id) a database rule binds; absent: each subject apart. */
  subject_id?: string;
  /** model: model group names or globs; target: `<provider>` or `<provider>/<model>`. Absent: every one, apart. */
  match?: string;
}

export const BUDGET_PERIODS = ['daily', 'weekly', 'monthly', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** A USD budget of one key, user, team or organization. */
export interface BudgetRule {
  id: string;
  org_id: string;
  scope: SubjectScope;
  subject_id: string;
  amount_usd: number;
  period: BudgetPeriod;
  /** calendar: UTC days, ISO weeks from Monday, calendar months; rolling: the last 24 h, 7 days, 30 days. */
  window: 'calendar' | 'rolling';
  /** hard: a request that could take spend past the amount is refused; soft: alerts only. */
  enforcement: 'hard' | 'soft';
  /** Percentages of the amount at which alerts go out, once each per period. */
  alert_thresholds: number[];
  /** Alerts for this budget go here as well as to the config's webhooks. */
  webhook_url: string | null;
  webhook_format: 'json' | 'slack';
}

/** The config file's rules as the limiter applies them; ids by position, stable for as long as the file is. */
export function configRules(entries: readonly { scope: LimitScope; match?: string | undefined; limits: LimitValues }[]): LimitRule[] {
  return entries.map((entry, i) => ({ ...entry.limits, id: `config:${i}`, scope: entry.scope, ...(entry.match === undefined ? {} : { match: entry.match }) }));
}
