// Command-line flags of `npm run bench -- …`.

import { parseArgs } from 'node:util';
import { TARGET_NAMES, type TargetName } from './types.ts';

export interface BenchOptions {
  durationS: number;
  warmupS: number;
  connections: number;
  targets: TargetName[];
  /** Upstream latency of the throughput scenarios. */
  upstreamLatencyMs: number;
  /** Requests per second of the fixed-rate latency scenario. */
  rate: number;
  /** Upstream latency of the fixed-rate scenario: long enough that many requests are in flight, as with real models. */
  rateUpstreamLatencyMs: number;
  /** Alternating rounds of each paired comparison (bench/paired.ts); 0 skips them. */
  pairRounds: number;
}

export const USAGE = `Usage: npm run bench -- [options]
  --duration <s>            measured seconds per scenario and target (default 10; 2 with --quick)
  --connections <n>         concurrent connections of the throughput scenarios (default 64)
  --only <list>             comma-separated subset of ${TARGET_NAMES.join(',')} (default: all)
  --upstream-latency <ms>   fake upstream latency of the throughput scenarios (default 2)
  --rate <rps>              request rate of the fixed-rate latency scenario (default 1000)
  --pair-rounds <n>         alternating rounds of each paired cost comparison (default 3; 1 with --quick; 0 skips)
  --quick                   short runs for a smoke check
  --help`;

function positive(flag: string, raw: string, allowZero = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`${flag} expects a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
  return value;
}

/** Returns null when --help was asked for. */
export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string', default: '64' },
      only: { type: 'string', default: TARGET_NAMES.join(',') },
      'upstream-latency': { type: 'string', default: '2' },
      rate: { type: 'string', default: '1000' },
      'pair-rounds': { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;

  const targets = values.only.split(',').map((name) => name.trim());
  for (const name of targets) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new Error(`--only: unknown target "${name}" (known: ${TARGET_NAMES.join(', ')})`);
  }
  const durationS = values.duration === undefined ? (values.quick ? 2 : 10) : positive('--duration', values.duration);
  return {
    durationS,
    // Long enough for the JIT to settle and keep-alive pools to fill, short next to the measured window.
    warmupS: values.quick ? 1 : Math.min(3, Math.ceil(durationS / 3)),
    connections: Math.round(positive('--connections', values.connections)),
    targets: TARGET_NAMES.filter((name) => targets.includes(name)),
    upstreamLatencyMs: positive('--upstream-latency', values['upstream-latency'], true),
    rate: Math.round(positive('--rate', values.rate)),
    rateUpstreamLatencyMs: 60,
    pairRounds: values['pair-rounds'] === undefined ? (values.quick ? 1 : 3) : Math.round(positive('--pair-rounds', values['pair-rounds'], true)),
  };
}
