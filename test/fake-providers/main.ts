// Runs the fake providers as their own process for the benchmark:
//   node --import tsx test/fake-providers/main.ts --port 0 --latency 60 [--host 127.0.0.1] [--stream-event-delay 0]
// Prints one line, `fake-providers listening on <url>`, which the benchmark waits for, and stops on SIGTERM/SIGINT.

import { parseArgs } from 'node:util';
import { startFakeProviders } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
    'stream-event-delay': { type: 'string', default: '0' },
  },
});

function number(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${raw}\n`);
    process.exit(2);
  }
  return n;
}

const fake = await startFakeProviders({
  port: number('port', values.port),
  host: values.host,
  latencyMs: number('latency', values.latency),
  streamEventDelayMs: number('stream-event-delay', values['stream-event-delay']),
  record: false,
});
process.stdout.write(`fake-providers listening on ${fake.url}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  fake.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`fake-providers: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
