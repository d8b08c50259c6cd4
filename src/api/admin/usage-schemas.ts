// The usage and spend reports' query and answers, registered with the admin API's response schemas so the OpenAPI
// document describes them as components.

import { z } from 'zod';
import { USAGE_GROUPS } from '../../store/repositories/usage.ts';
import { instant } from './period.ts';
import { responseSchemas } from './schemas.ts';

const id = z.string().min(1).max(64);

export const usageQuery = z.strictObject({
  org_id: id.optional().describe("The organization (required with the master key; others get their own, and another organization's is not found)"),
  from: instant.optional().describe('Inclusive; default: the start of the current UTC month'),
  to: instant.optional().describe('Exclusive; default: the start of the next UTC month'),
  group_by: z.enum(USAGE_GROUPS).optional().describe('Break the totals down by key, team, user, model (as clients named it), provider or UTC day'),
  key_id: id.optional(),
  team_id: id.optional().describe("Team-scoped roles: one of their own teams"),
  user_id: id.optional().describe('Team-scoped roles: themselves, unless team_id names one of their teams'),
  model: z.string().min(1).max(200).optional().describe('The model name as clients sent it'),
});

const period = {
  org_id: z.string(),
  from: z.string(),
  to: z.string(),
  group_by: z.enum(USAGE_GROUPS).nullable(),
};
const group = z.string().nullable().describe('The key, team or user id, model, provider or day (YYYY-MM-DD); null: records without one (e.g. made with the master key)');

const usageTotals = {
  requests: z.number().int(),
  errors: z.number().int().describe('Requests answered with a status of 400 or more'),
  input_tokens: z.number().int().describe('Whole prompts, cached parts included'),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cached_tokens: z.number().int().describe("Prompt tokens read from the provider's cache"),
  cache_write_tokens: z.number().int().describe("Prompt tokens written to the provider's cache"),
  reasoning_tokens: z.number().int(),
};
const spendTotals = {
  cost_usd: z.number(),
  requests: z.number().int(),
  unpriced_requests: z.number().int().describe('Requests that used tokens of a model without a known price, counted at 0: cost_usd is a lower bound when this is not 0'),
};

export const usageReport = z.strictObject({
  ...period,
  total: z.strictObject(usageTotals),
  groups: z.array(z.strictObject({ group, ...usageTotals })),
});
responseSchemas.add(usageReport, { id: 'UsageReport', description: 'Token and request totals over [from, to), overall and per group' });

export const spendReport = z.strictObject({
  ...period,
  total: z.strictObject(spendTotals),
  groups: z.array(z.strictObject({ group, ...spendTotals })),
});
responseSchemas.add(spendReport, { id: 'SpendReport', description: 'Cost totals in USD over [from, to), overall and per group' });
