// The process logger (pino, JSON lines). Authorization-bearing fields are redacted wherever they appear, so a secret
// cannot reach the log even when a whole header set or provider config is logged by mistake.

import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'api_key',
  '*.api_key',
  '*.*.api_key',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["api-key"]',
  '*.headers["x-goog-api-key"]',
];

export function createLogger(options: { level: string; pretty?: boolean }, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'switchboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  );
}

export type { Logger };
