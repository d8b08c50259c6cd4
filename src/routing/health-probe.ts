// Active health checks (models[].health_check): a one-token chat request to each of a model's targets on a timer,
// apart from live traffic. Passive health only learns a target is down from the clients it fails; a probe finds out
// first on a quiet route, and finds a recovered target without risking a client request on it.
//
// A probe's verdict goes to the target's circuit (CircuitBreaker.probed) by the same rule live traffic follows: a
// 5xx, a timeout or a broken connection is unhealthy; a 429 says nothing (busy, not broken); any other answer shows
// the provider up. A 401 or a 404 is shown up too, but keeps its status and message in the result, where an operator
// reading GET /admin/v1/routing/targets sees a revoked key or a retired model before a client does.

import { GatewayError } from '../core/errors.ts';
import type { ChatRequest } from '../core/types.ts';
import { RequestAbort } from '../http/abort.ts';
import { transportError, type UpstreamClient } from '../http/client.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProviderConfig } from '../providers/types.ts';
import { failsHealth } from './circuit-breaker.ts';
import type { Target } from './router.ts';
import { elapsedMs } from '../core/elapsed.ts';

export interface ProbeResult {
  /** When the probe ended, ISO 8601. */
  at: string;
  /** False: unhealthy (5xx, timeout, unreachable); null: inconclusive (429); true: the provider answered. */
  healthy: boolean | null;
  /** The provider's HTTP status; null when none came (timeout, connection). */
  status: number | null;
  latency_ms: number;
  error: string | null;
}

export interface ProbePlan {
  target: Target;
  interval_ms: number;
  timeout_ms: number;
  /** Where the result goes (the router keeps the latest per target, for the admin API). */
  record: (result: ProbeResult) => void;
}

/** The cheapest request every chat model answers: one token of output. */
const PROBE: ChatRequest = { model: 'probe', messages: [{ role: 'user', content: 'ping' }], max_completion_tokens: 1 };

/** The provider a probe uses: a key of the pool (any, even resting: a probe is one request), the probe's own deadline. */
function probeProvider(target: Target, timeoutMs: number): ProviderConfig {
  const provider = target.keys ? target.keys.providers[Math.max(0, target.keys.pool.draw())]! : target.provider;
  const t = provider.timeouts;
  return { ...provider, timeouts: { ...t, first_byte_ms: Math.min(t.first_byte_ms, timeoutMs), total_ms: Math.min(t.total_ms, timeoutMs) } };
}

/** Sends one probe to `target` and tells its circuit the verdict. */
export async function probe(target: Target, client: UpstreamClient, timeoutMs: number): Promise<ProbeResult> {
  const provider = probeProvider(target, timeoutMs);
  const abort = new RequestAbort();
  const started = performance.now();
  let status: number | null = null;
  let failure: unknown;
  try {
    let call = target.adapter.buildChatRequest(PROBE, target.model, provider);
    if (target.adapter.authorize) call = await target.adapter.authorize(call, provider);
    const { response, release } = await client.send(call, provider, abort);
    status = response.statusCode;
    try {
      const body = await response.body.text().catch((err: unknown) => {
        throw transportError(err, provider, abort, 'body');
      });
      const retryAfter = response.headers['retry-after'];
      if (status >= 300) failure = target.adapter.parseError(status, body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, provider.name);
    } finally {
      release();
    }
  } catch (err) {
    failure = err;
  }
  const healthy = failure === undefined ? true : failsHealth(failure) ? false : failure instanceof GatewayError && failure.status === 429 ? null : true;
  if (healthy !== null) target.circuit?.probed(healthy);
  return {
    at: new Date().toISOString(),
    healthy,
    status,
    latency_ms: elapsedMs(started),
    error: failure === undefined ? null : failure instanceof Error ? failure.message : String(failure),
  };
}

/** Runs each plan's probe on its interval, one at a time per target, from a random point of the first interval. */
export class HealthProber {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly plans: readonly ProbePlan[],
    private readonly client: UpstreamClient,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    // Spread over the first interval, so targets are not all probed in the same instant.
    for (const plan of this.plans) this.schedule(plan, this.random() * plan.interval_ms);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(plan: ProbePlan, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      const result = await probe(plan.target, this.client, plan.timeout_ms);
      plan.record(result);
      if (result.healthy === false) this.logger.warn({ target: plan.target.id, status: result.status, error: result.error }, `health probe failed: ${plan.target.id}`);
      this.schedule(plan, plan.interval_ms);
    }, delayMs).unref();
    this.timers.add(timer);
  }
}
