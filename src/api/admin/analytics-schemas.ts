// GET /admin/v1/analytics: its query and its answer, registered with the admin API's response schemas so the OpenAPI
// document describes them as components.

import { z } from 'zod';
import { ANALYTICS_GROUPS } from '../../store/repositories/analytics.ts';
import { AUTO_MAX_POINTS, SERIES_BUCKETS } from '../../usage/rollups/buckets.ts';
import { instant } from './period.ts';
import { responseSchemas } from './schemas.ts';

const id = z.string().min(1).max(64);

export const analyticsQuery = z.strictObject({
  org_id: id.optional().describe("The organization (required with the master key; others get their own, and another organization's is not found)"),
  from: instant.optional().describe('Inclusive, widened to the start of its bucket; default: 24 hours before `to`'),
  to: instant.optional().describe('Exclusive, widened to the end of its bucket; default: now'),
  bucket: z
    .enum(['auto', ...SERIES_BUCKETS])
    .optional()
    .describe(`The series' step; auto (default): the finest giving at most ${AUTO_MAX_POINTS} points. Days and weeks are UTC, weeks start on Monday`),
  group_by: z.enum(['none', ...ANALYTICS_GROUPS]).optional().describe('Break the range down by model (as clients named it), provider, team, key or user; default none'),
  key_id: id.optional(),
  team_id: id.optional().describe('Team-scoped roles: one of their own teams'),
  user_id: id.optional().describe('Team-scoped roles: themselves, unless team_id names one of their teams'),
  model: z.string().min(1).max(200).optional().describe('The model name as clients sent it'),
  provider: z.string().min(1).max(200).optional().describe('The configured provider name'),
});

const ms = z.number().nullable();
const percentiles = (what: string) =>
  z
    .strictObject({ p50: ms, p95: ms, p99: ms, mean: ms })
    .describe(
      `${what} in milliseconds; null without requests. Percentiles are estimated from histogram bins 19 % wide (four per doubling, from 1 ms to about 15 minutes): an estimate lies in the bin of the exact value. The mean is exact`,
    );

const metrics = {
  requests: z.number().int(),
  errors: z.number().int().describe('Requests answered with a status of 400 or more'),
  error_rate: z.number().nullable().describe('errors / requests (0–1); null without requests'),
  input_tokens: z.number().int().describe('Whole prompts, cached parts included'),
  output_tokens: z.number().int(),
  cached_tokens: z.number().int().describe("Prompt tokens read from the provider's cache"),
  cost_usd: z.number(),
  cache_hits: z.number().int().describe("Requests answered from the gateway's response cache or by sharing an identical request's call"),
  cache_hit_rate: z.number().nullable().describe('cache_hits / requests (0–1); null without requests'),
  latency_ms: percentiles('Time from the request to the end of its answer'),
  ttft_ms: percentiles('Time to the first token, over streamed requests'),
};

export const analyticsReport = z.strictObject({
  org_id: z.string(),
  from: z.string().describe('The start of the first bucket'),
  to: z.string().describe('The end of the last bucket'),
  bucket: z.enum(SERIES_BUCKETS),
  group_by: z.enum(ANALYTICS_GROUPS).nullable(),
  series: z.array(z.strictObject({ time: z.string().describe("The bucket's start"), ...metrics })).describe('Every bucket of [from, to), in order, empty ones included'),
  total: z.strictObject(metrics).describe('The whole range'),
  breakdown: z
    .array(z.strictObject({ group: z.string().nullable().describe('The model, provider, team, key or user id; null: records without one (e.g. made with the master key)'), ...metrics }))
    .describe('The whole range per value of group_by, most requests first; empty without group_by'),
});
responseSchemas.add(analyticsReport, { id: 'AnalyticsReport', description: 'Requests, tokens, cost, errors, cache hits and latency over [from, to): a time series, totals and a breakdown' });
