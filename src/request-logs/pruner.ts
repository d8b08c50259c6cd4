// Request log retention (request_logs.retention_days, max_rows): a timer, started with the services and stopped when
// they close, that deletes rows past either bound with their captured bodies, a small batch per statement. Instances
// sharing a database may all prune; a row deleted twice is simply not found the second time.

import type { RequestLogRetention } from '../store/repositories/request-logs.ts';

export interface PrunerOptions {
  retention: Pick<RequestLogRetention, 'pruneOlderThan' | 'pruneBeyond' | 'pruneFineRollupsOlderThan'>;
  /** 0: kept for ever. */
  retentionDays: number;
  /** 0: no cap. */
  maxRows: number;
  everyMs: number;
  logger: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
  now?: () => Date;
}

/** The first run waits this long at most, so a gateway restarted more often than everyMs still prunes. */
const FIRST_RUN_MS = 60_000;

export class RequestLogPruner {
  readonly #opts: PrunerOptions;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: PrunerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => new Date());
  }

  get enabled(): boolean {
    return this.#opts.retentionDays > 0 || this.#opts.maxRows > 0;
  }

  start(): void {
    if (!this.enabled || this.#timer) return;
    const schedule = (ms: number) => {
      this.#timer = setTimeout(() => {
        void this.prune().finally(() => {
          if (this.#timer) schedule(this.#opts.everyMs);
        });
      }, ms).unref();
    };
    schedule(Math.min(this.#opts.everyMs, FIRST_RUN_MS));
  }

  /** One pass over both bounds; a pass already under way is waited for instead of started again. */
  prune(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops the timer and waits for a pass under way, so the database can close after it. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #pass(): Promise<void> {
    const { retention, retentionDays, maxRows, logger } = this.#opts;
    try {
      const cutoff = new Date(this.#now().getTime() - retentionDays * 86_400_000).toISOString();
      const expired = retentionDays > 0 ? await retention.pruneOlderThan(cutoff) : 0;
      const excess = maxRows > 0 ? await retention.pruneBeyond(maxRows) : 0;
      const rollups = retentionDays > 0 ? await retention.pruneFineRollupsOlderThan(cutoff) : 0;
      if (expired + excess + rollups > 0) logger.info({ expired, excess, fine_rollups: rollups, retention_days: retentionDays, max_rows: maxRows }, 'request logs pruned');
    } catch (err) {
      // The next pass starts over: what this one did not delete is still past the bounds then.
      logger.warn({ err: (err as Error).message }, 'request logs: pruning failed');
    }
  }
}
