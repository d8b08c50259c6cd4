// The live state of routing on this gateway instance: each configured target's circuit, requests in flight, latency
// figure and key pool, and a way for an operator who fixed a provider to close its circuit at once. The state is the
// instance's own (it is what this process has seen), so the CLI, which runs no gateway, cannot serve these routes.

import { z } from 'zod';
import { GatewayError } from '../../../core/errors.ts';
import { requirePlatform } from '../access.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminDeps, type AdminRoute } from '../route.ts';

const tag = 'Routing';

const circuit = z.object({
  state: z.enum(['closed', 'open', 'half-open']),
  consecutive_failures: z.number(),
  window_requests: z.number(),
  window_failures: z.number(),
  error_rate: z.number(),
  opened_at: z.string().nullable(),
  retry_at: z.string().nullable(),
  times_opened: z.number(),
});

const targetHealth = z.object({
  id: z.string(),
  provider: z.string(),
  model: z.string(),
  routes: z.array(z.string()),
  in_flight: z.number(),
  latency_ms: z.number().nullable(),
  circuit: circuit.nullable(),
  keys: z.array(z.object({ index: z.number(), weight: z.number(), resting_until: z.string().nullable() })).nullable(),
  probe: z
    .object({ at: z.string(), healthy: z.boolean().nullable(), status: z.number().nullable(), latency_ms: z.number(), error: z.string().nullable() })
    .nullable()
    .describe("The latest active health probe (models[].health_check); healthy null: inconclusive (429)"),
});

export function routerOf(deps: AdminDeps): NonNullable<AdminDeps['router']> {
  if (!deps.router) throw new GatewayError(400, 'invalid_request_error', 'routing state lives in a running gateway: ask its admin API', { code: 'not_a_gateway' });
  return deps.router;
}

export const routingRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/routing/targets',
    operationId: 'listRoutingTargets',
    summary: "Health of every configured target on this instance: circuit, requests in flight, latency, key pool (master key)",
    tag,
    response: z.object({ items: z.array(targetHealth) }),
    async handler({ actor, deps }) {
      requirePlatform(actor, 'read routing state');
      return { items: routerOf(deps).health() };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/routing/targets/{provider}/{model}/reset',
    operationId: 'resetRoutingTarget',
    summary: "Close a target's circuit and clear its failure counts (master key)",
    tag,
    params: z.object({ provider: z.string().min(1), model: z.string().min(1) }),
    response: targetHealth,
    async handler({ actor, deps, params }) {
      requirePlatform(actor, 'reset circuits');
      const router = routerOf(deps);
      const id = `${params.provider}/${params.model}`;
      if (!router.resetCircuit(id)) throw notFound('routed target', id);
      return router.health().find((t) => t.id === id);
    },
  }),
];
