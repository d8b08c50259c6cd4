// Alert rules (config alerts.rules, the only place they are defined) and what is firing of them now. The state is the
// cluster's, from the kv, so any instance answers for all; being gateway-wide, it is for the master key only.

import { z } from 'zod';
import { GatewayError } from '../../../core/errors.ts';
import { describeError } from '../../../observability/webhooks.ts';
import { requirePlatform } from '../access.ts';
import { defineRoute, type AdminRoute } from '../route.ts';

const subject = z.object({ model: z.string().optional(), provider: z.string().optional(), target: z.string().optional() });

const ruleStatus = z.object({
  name: z.string(),
  kind: z.enum(['error_rate', 'p95_latency', 'spend', 'circuit_open']),
  threshold: z.number().nullable().describe('Percent (error_rate), ms (p95_latency) or USD (spend); null for circuit_open'),
  window_minutes: z.number().nullable(),
  min_requests: z.number().nullable(),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  per: z.enum(['model', 'provider']).nullable(),
  state: z.enum(['firing', 'ok']),
  firing: z.array(
    z.object({
      subject,
      value: z.number().describe('The value that set it firing (for circuit_open: on how many instances the circuit was open)'),
      since: z.string(),
    }),
  ),
});

export const alertRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/alerts',
    operationId: 'listAlerts',
    summary: 'Alert rules from the configuration, with the subjects firing now across the cluster (master key)',
    tag: 'Alerts',
    response: z.object({ items: z.array(ruleStatus) }),
    async handler({ actor, deps }) {
      requirePlatform(actor, 'read alerts');
      if (!deps.alerts) throw new GatewayError(400, 'invalid_request_error', 'alert state lives in a running gateway: ask its admin API', { code: 'not_a_gateway' });
      try {
        return { items: await deps.alerts.status() };
      } catch (error) {
        throw new GatewayError(503, 'api_error', `Alert state is unreachable (${describeError(error)}); try again`, { code: 'alerts_unavailable' });
      }
    },
  }),
];
