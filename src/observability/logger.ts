// The process logger (pino, JSON lines). Authorization-bearing fields are redacted wherever they appear, so a secret
// cannot reach the log even when a whole header set or provider config is logged by mistake.

import { pino, type Logger } from 'pino';

/** Provider credential fields (API keys, Entra secrets and tokens, AWS keys, Google service-account material), and
 * the gateway's own (master key, master secrets). */
const SECRET_FIELDS = ['api_key', 'client_secret', 'azure_ad_token', 'secret_access_key', 'session_token', 'credentials', 'private_key', 'master_key', 'secret', 'previous_secrets'];
const SECRET_HEADERS = ['authorization', '["x-api-key"]', '["api-key"]', '["x-goog-api-key"]', '["x-amz-security-token"]'];

export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]),
  ...SECRET_HEADERS.flatMap((h) => [`headers${h.startsWith('[') ? h : `.${h}`}`, `*.headers${h.startsWith('[') ? h : `.${h}`}`]),
];

export interface LoggerOptions {
  level: string;
  /** Coloured human-readable lines through pino-pretty, formatted on a worker thread off the event loop. */
  pretty?: boolean;
  /** More paths to censor (config logging.redact), beside the credentials always censored. */
  redact?: readonly string[];
}

export function createLogger(options: LoggerOptions, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'switchboard' },
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? (options.pretty ? pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }) : pino.destination({ sync: false })),
  );
}

/**
 * The logger of the per-request lines: the same destination, but censoring only top-level credential fields and the
 * configured paths. Those lines are flat and built by the gateway from ids and figures, so the wildcard paths the
 * process logger censors cannot match anything in them, and they cost about 160 µs a line (measured: 6 µs without).
 */
export function requestLogger(logger: Logger, options: Pick<LoggerOptions, 'redact'>): Logger {
  return logger.child({}, { redact: { paths: [...SECRET_FIELDS, ...(options.redact ?? [])], censor: '[redacted]' } });
}

export type { Logger };
