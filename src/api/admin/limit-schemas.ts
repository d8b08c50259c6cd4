// The admin API's schemas for rate limits and budgets, kept apart from schemas.ts but in the same registries, so the
// OpenAPI document names them as components like every other resource.

import { z } from 'zod';
import { BUDGET_PERIODS, limitValuesSchema, SUBJECT_SCOPES } from '../../limits/rules.ts';
import { MAX_PAGE_SIZE } from '../../store/repositories/page.ts';
import { orgParams, requestSchemas, responseSchemas } from './schemas.ts';

function request<S extends z.ZodType>(id: string, schema: S): S {
  requestSchemas.add(schema as z.ZodType, { id });
  return schema;
}

function response<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  responseSchemas.add(schema as z.ZodType, { id, ...(description && { description }) });
  return schema;
}

const id = z.string().min(1).max(64);
const stamps = { created_by: z.string(), created_at: z.string(), updated_at: z.string() };
const page = {
  limit: z.coerce.number<string>().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Items per page, 1-${MAX_PAGE_SIZE} (default 100)`),
  cursor: z.string().min(1).optional().describe('next_cursor of the previous page'),
};
const pageOf = (item: z.ZodType, of: string) =>
  response(`${of}Page`, z.strictObject({ items: z.array(item), next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last') }));

const scope = z.enum(SUBJECT_SCOPES);

// ---- path parameters and queries

export const limitParams = orgParams.extend({ limit_id: id });
export const budgetParams = orgParams.extend({ budget_id: id });

const subjectFilters = {
  scope: scope.optional(),
  subject_id: id.optional().describe('One team, user or key (or the organization, with scope org)'),
};
export const limitQuery = z.strictObject({ ...page, ...subjectFilters });
export const budgetQuery = z.strictObject({ ...page, ...subjectFilters });

// ---- request bodies

const subject = {
  scope: scope.describe('org: the organization itself; team, user, key: the one subject_id names'),
  subject_id: id.optional().describe("The team, user or virtual key; for scope org, absent or the organization's own id"),
};
const subjectNamed = (v: { scope: string; subject_id?: string | undefined }) => v.scope === 'org' || v.subject_id !== undefined;
// A fresh object per use: zod takes over the params object it is given.
const subjectNeeded = () => ({ message: 'scope team, user and key need subject_id: the team, user or virtual key it binds', path: ['subject_id'] });

const values = limitValuesSchema.describe('Which counters to keep (at least one of the metrics) and what to do when one is full');

export const limitCreate = request('RateLimitCreate', z.strictObject({ ...subject, limits: values }).refine(subjectNamed, subjectNeeded()));
export const limitUpdate = request('RateLimitUpdate', z.strictObject({ limits: values.describe('Replaces the limit\'s values as a whole') }));

const percent = z.number().min(1).max(1000);
const budgetSettings = {
  // Spend is counted in whole nano-dollars, exact in a double up to about 9 million dollars.
  amount_usd: z.number().positive().max(9_000_000).describe('The budget in US dollars (at most 9,000,000)'),
  period: z.enum(BUDGET_PERIODS),
  window: z.enum(['calendar', 'rolling']).describe('calendar: UTC days, ISO weeks from Monday, calendar months; rolling: the last 24 h, 7 days, 30 days'),
  enforcement: z.enum(['hard', 'soft']).describe('hard: a request that could take spend past the amount is refused (429); soft: alerts only'),
  alert_thresholds: z
    .array(percent)
    .min(1)
    .max(20)
    .refine((list) => new Set(list).size === list.length, 'alert thresholds must differ from each other')
    .nullable()
    .describe('Percentages of the amount (1-1000) at which an alert goes out, once each per period. Null: the configured budgets.alerts.thresholds'),
  webhook_url: z
    .url({ protocol: /^https?$/, error: 'webhook_url must be an absolute http(s) URL' })
    .max(2048)
    .nullable()
    .describe("Alerts go here as well as to the configured webhooks. Write-only: answers give its origin, since such URLs usually carry a token"),
  webhook_format: z.enum(['json', 'slack']).describe('slack: a Slack-compatible {"text": ...} body'),
};
/** A budget's period and window together, as created or as a change leaves them. */
export const rollingNeedsEnd = (v: { period?: string | undefined; window?: string | undefined }) => !(v.window === 'rolling' && v.period === 'total');
export const ROLLING_TOTAL = "a rolling window needs a period that ends (daily, weekly or monthly); 'total' counts everything ever spent";

export const budgetCreate = request(
  'BudgetCreate',
  z
    .strictObject({
      ...subject,
      ...budgetSettings,
      window: budgetSettings.window.default('calendar'),
      enforcement: budgetSettings.enforcement.default('hard'),
      alert_thresholds: budgetSettings.alert_thresholds.optional(),
      webhook_url: budgetSettings.webhook_url.optional(),
      webhook_format: budgetSettings.webhook_format.default('json'),
    })
    .refine(subjectNamed, subjectNeeded())
    .refine(rollingNeedsEnd, { message: ROLLING_TOTAL, path: ['window'] }),
);
export const budgetUpdate = request(
  'BudgetUpdate',
  z
    .strictObject({
      amount_usd: budgetSettings.amount_usd.optional(),
      period: budgetSettings.period.optional(),
      window: budgetSettings.window.optional(),
      enforcement: budgetSettings.enforcement.optional(),
      alert_thresholds: budgetSettings.alert_thresholds.optional(),
      webhook_url: budgetSettings.webhook_url.optional(),
      webhook_format: budgetSettings.webhook_format.optional(),
    }),
);

// ---- answers

const subjectFields = { id: z.string(), org_id: z.string(), scope, subject_id: z.string() };

export const rateLimit = response('RateLimit', z.strictObject({ ...subjectFields, limits: limitValuesSchema, ...stamps }), 'The rate limits of one organization, team, user or key');
export const budget = response(
  'Budget',
  z.strictObject({
    ...subjectFields,
    amount_usd: z.number(),
    period: z.enum(BUDGET_PERIODS),
    window: z.enum(['calendar', 'rolling']),
    enforcement: z.enum(['hard', 'soft']),
    alert_thresholds: z.array(z.number()).nullable().describe('Null: the configured budgets.alerts.thresholds'),
    webhook_origin: z.string().nullable().describe("The origin of the budget's own webhook_url (the URL itself is write-only); null: none"),
    webhook_format: z.enum(['json', 'slack']),
    ...stamps,
  }),
  'A USD budget of one organization, team, user or key',
);

export const rateLimitPage = pageOf(rateLimit, 'RateLimit');
export const budgetPage = pageOf(budget, 'Budget');
