// Shapes shared by the runner, the load worker and the report.

/**
 * `gateway` authenticates every request with a virtual key; `gateway-open` is the same gateway with no auth at all;
 * `gateway-limits` and `gateway-limits-redis` are `gateway` with rate limits, a token limit, a concurrency limit and a
 * budget on every request, counted in memory or on Redis; `gateway-routed` is `gateway` with its model a weighted route
 * over three providers, with retries, circuit breakers and capability filtering (what routing itself costs). The
 * gateway targets run with request log lines and metrics off (the core figures); `gateway-observed` is `gateway` with a
 * JSON log line per request and Prometheus metrics on, `gateway-traced` with OpenTelemetry traces exported over
 * OTLP/HTTP to a local sink as well.
 */
export const TARGET_NAMES = ['gateway', 'gateway-open', 'gateway-limits', 'gateway-limits-redis', 'gateway-routed', 'gateway-observed', 'gateway-traced', 'bare', 'portkey'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export type ScenarioId = 'chat' | 'chat-stream' | 'fixed-rate';

export interface Scenario {
  id: ScenarioId;
  title: string;
  stream: boolean;
  upstreamLatencyMs: number;
  connections: number;
  /** Requests per second for an open-ended fixed-rate run; null means as fast as the connections allow. */
  rate: number | null;
  durationS: number;
  warmupS: number;
}

/** What bench/load.ts is given (as one JSON argument). */
export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationS: number;
  warmupS: number;
  rate: number | null;
}

/** What bench/load.ts prints (one JSON line). Latencies are of 2xx responses only, in ms with sub-ms precision. */
export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationS: number;
  /** Responses of any status, warm-up included: the denominator for the target's CPU time. */
  responsesIncludingWarmup: number;
  /** CPU time of the load generator process itself. */
  loadGeneratorCpuMs: number;
}

export interface Measurement {
  scenario: ScenarioId;
  target: TargetName;
  load: LoadResult;
  /** Target process CPU (user + system) per response, in microseconds; null where /proc is unavailable. */
  cpuUsPerRequest: number | null;
  /** Share of the machine's CPU capacity used during the run by processes other than the bench's own; null off Linux. */
  otherCpuShare: number | null;
  /** Redis-backed targets: script calls (EVAL/EVALSHA) the gateway made per response, warm-up included. */
  redisScriptCallsPerRequest?: number;
}

export interface Check {
  name: string;
  value: number | null;
  unit: string;
  goal: string;
  /** null when a side of the comparison was not measured. */
  pass: boolean | null;
  /** A figure the run reports without a goal to meet. */
  informational?: boolean;
  /**
   * For throughput ratios, the same ratio from CPU time per request (other ÷ gateway): what the ratio would be if the
   * target had the machine to itself rather than sharing it with the load generator and the fake upstream.
   */
  byCpu?: number | null;
}
