// The shadow traffic comparison of one model (models[].shadow): its primary targets and its shadow over the same
// sampled requests, from the stored samples, so every instance answers for the whole cluster's samples. The
// in-flight and skipped counts are this instance's own.

import { z } from 'zod';
import { compare } from '../../../shadow/report.ts';
import { requirePlatform } from '../access.ts';
import { notFound } from '../errors.ts';
import { instant, period } from '../period.ts';
import { defineRoute, type AdminRoute } from '../route.ts';
import { routerOf } from './routing.ts';

const percentiles = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number() });
const sideReport = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  error_rate: z.number(),
  latency_ms: percentiles.nullable().describe('Over successful answers only'),
  cost_usd: z.number(),
  cost_per_request_usd: z.number(),
  input_tokens_mean: z.number(),
  output_tokens_mean: z.number(),
  output_chars_mean: z.number(),
  targets: z.record(z.string(), z.number().int()),
});
const side = z.object({
  target: z.string().nullable(),
  status: z.number().int(),
  latency_ms: z.number(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number(),
  output_chars: z.number().int(),
  output: z.string(),
  error: z.string().nullable(),
});

const DAY_MS = 86_400_000;

export const shadowRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/shadow/{model}',
    operationId: 'getShadowComparison',
    summary: "Compare a model with its shadow over mirrored requests: latency percentiles, cost per request, error rate, output length, exact-match rate (master key)",
    tag: 'Routing',
    params: z.object({ model: z.string().min(1) }),
    query: z.strictObject({
      from: instant.optional().describe('Inclusive; default: 24 hours before to'),
      to: instant.optional().describe('Exclusive; default: now'),
      limit: z.coerce.number().int().min(1).max(100_000).default(10_000).describe('The newest samples taken into account, at most'),
      recent: z.coerce.number().int().min(0).max(100).default(10).describe('Newest samples listed side by side'),
    }),
    response: z.object({
      model: z.string(),
      settings: z
        .object({ use: z.string(), share: z.number(), max_in_flight: z.number().int(), in_flight: z.number().int(), skipped: z.number().int() })
        .nullable()
        .describe("The model's shadow as configured, with this instance's shadow calls in flight and sampled requests skipped at the cap; null: none configured now"),
      from: z.string(),
      to: z.string(),
      samples: z.number().int(),
      truncated: z.boolean().describe('More samples fell in the range than limit: the figures are of the newest ones'),
      both_answered: z.number().int(),
      exact_match_rate: z.number().nullable(),
      primary: sideReport,
      shadow: sideReport,
      recent: z.array(z.object({ time: z.string(), request_id: z.string(), exact_match: z.boolean(), primary: side, shadow: side })),
    }),
    async handler({ actor, deps, params, query }) {
      requirePlatform(actor, 'read shadow traffic');
      const route = routerOf(deps).configured(params.model);
      if (!route) throw notFound('model', params.model);
      const to = query.to === undefined ? new Date() : new Date(query.to);
      const from = query.from === undefined ? new Date(to.getTime() - DAY_MS) : new Date(query.from);
      const range = period(from, to, query.from !== undefined);
      const records = await deps.store.shadow.list(params.model, range.from, range.to, query.limit + 1);
      const truncated = records.length > query.limit;
      if (truncated) records.pop();
      const comparison = compare(records);
      const mirror = route.shadow;
      return {
        model: params.model,
        settings: mirror ? { use: mirror.options.use, share: mirror.options.share, max_in_flight: mirror.options.max_in_flight, in_flight: mirror.inFlight, skipped: mirror.skipped } : null,
        ...range,
        truncated,
        ...comparison,
        recent: records.slice(0, query.recent).map(({ time, request_id, exact_match, primary: p, shadow: s }) => ({ time, request_id, exact_match, primary: p, shadow: s })),
      };
    },
  }),
];
