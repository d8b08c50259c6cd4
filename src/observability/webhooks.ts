// Outgoing webhook delivery for every kind of alert (budget thresholds, alert rules): a POST of a JSON body to each
// destination, in the body its format asks for, with retries for what may pass (network errors, 429, 5xx) and a log
// line for what did not. Webhook URLs often carry a token (Slack's in the path, others in the query), so only their
// origin is ever logged.

import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { Logger } from './logger.ts';

export interface WebhookDestination {
  url: string;
  /** slack: a Slack-compatible {"text": ...} body. */
  format: 'json' | 'slack';
  headers: Readonly<Record<string, string>>;
}

/** The same alert in each format, serialised once for every destination. */
export interface WebhookBodies {
  json: string;
  slack: string;
}

export interface WebhookSenderOptions {
  logger: Pick<Logger, 'warn'>;
  /** Per attempt, connecting included: 5 s by default. */
  timeoutMs?: number;
  /** Further attempts after a network error, a 429 or a 5xx: 2 by default. */
  retries?: number;
  /** Before the first retry, doubling after each: 500 ms by default. */
  backoffMs?: number;
}

/** What a failed delivery is logged as: the message, and fields saying which alert it was. */
export interface WebhookFailureLog {
  message: string;
  fields: Record<string, unknown>;
}

/** What may be logged of a webhook URL: scheme, host and port. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

/** An error's kind and message, with the webhook URL (which may hold a token) cut down to its origin. */
export function describeError(error: unknown, url?: string): string {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  const message = url ? err.message.split(url).join(webhookOrigin(url)) : err.message;
  return `${typeof code === 'string' ? code : err.name}: ${message}`;
}

export class WebhookSender {
  readonly #logger: WebhookSenderOptions['logger'];
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;

  constructor(options: WebhookSenderOptions) {
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#retries = options.retries ?? 2;
    this.#backoffMs = options.backoffMs ?? 500;
  }

  /** Resolves once every destination got its body or was given up on (and logged); never rejects. */
  async send(destinations: readonly WebhookDestination[], bodies: WebhookBodies, failure: WebhookFailureLog): Promise<void> {
    await Promise.all(destinations.map((to) => this.#deliver(to, bodies[to.format], failure)));
  }

  async #deliver(to: WebhookDestination, body: string, failure: WebhookFailureLog): Promise<void> {
    let problem = '';
    let attempts = 0;
    while (attempts <= this.#retries) {
      if (attempts > 0) await sleep(this.#backoffMs * 2 ** (attempts - 1));
      attempts++;
      try {
        const res = await request(to.url, {
          method: 'POST',
          headers: { ...to.headers, 'content-type': 'application/json' },
          body,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        problem = `HTTP ${res.statusCode}`;
        // The receiver refused the alert itself (a bad URL or token): sending it again would change nothing.
        if (res.statusCode < 500 && res.statusCode !== 429) break;
      } catch (error) {
        problem = describeError(error, to.url);
      }
    }
    this.#logger.warn({ webhook: webhookOrigin(to.url), ...failure.fields, attempts, problem }, failure.message);
  }
}
