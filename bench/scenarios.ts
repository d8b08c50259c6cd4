// The workloads each target is driven with.

import type { BenchOptions } from './args.ts';
import type { Scenario } from './types.ts';

/**
 * autocannon paces a fixed rate per connection and per one-second tick: each connection sends its share back to back,
 * then idles until the next tick. Sizing the pool to the rate × (upstream latency + 10 ms of slack) keeps connections
 * busy most of each second (a near-even request flow rather than a burst at every tick), while a target that adds a
 * few milliseconds can still meet the rate.
 */
function connectionsForRate(rate: number, upstreamLatencyMs: number): number {
  return Math.ceil((rate * (upstreamLatencyMs + 10)) / 1000);
}

export function scenarios(options: BenchOptions): Scenario[] {
  const timing = { durationS: options.durationS, warmupS: options.warmupS };
  const throughput = { upstreamLatencyMs: options.upstreamLatencyMs, connections: options.connections, rate: null, ...timing };
  return [
    { id: 'chat', title: 'chat, non-streaming', stream: false, ...throughput },
    { id: 'chat-stream', title: 'chat, streaming', stream: true, ...throughput },
    {
      id: 'fixed-rate',
      title: `chat at ${options.rate} rps`,
      stream: false,
      upstreamLatencyMs: options.rateUpstreamLatencyMs,
      connections: connectionsForRate(options.rate, options.rateUpstreamLatencyMs),
      rate: options.rate,
      ...timing,
    },
  ];
}
