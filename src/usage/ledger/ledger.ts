// The usage ledger: the UsageSink that gets every record into the database without losing one and without holding up
// a request. write() appends the record to the journal (written at the end of the turn) and queues it in memory; a
// background flusher inserts the queue in batches. A failing or hanging database only makes the flusher back off and
// retry: the records wait in the journal, and the memory queue is bounded (past the bound a record is left to the
// journal alone and read back from there later). Inserts are idempotent by request id, so a record written twice
// (read back after a crash, or retried after a timeout that in fact succeeded) is counted once.

import type { Logger } from '../../observability/logger.ts';
import type { UsageRecord } from '../record.ts';
import type { UsageSink } from '../sink.ts';
import { Journal, type JournalEntry, type JournalOptions } from './journal.ts';

/** Where committed records go: store.usage. */
export interface LedgerDatabase {
  /**
   * `json`: the same records as a JSON array made of the journal's lines, given when `takesJson` says the database
   * uses it (the SQLite insert thread: the text costs less to send to it than the records).
   */
  insertMany(records: readonly UsageRecord[], json?: string): Promise<number>;
  readonly takesJson?: boolean;
}

export interface LedgerOptions {
  database: LedgerDatabase;
  /** Undefined: no journal (an in-memory database, which keeps nothing past the process either). */
  journal?: Journal | undefined;
  /** Records per insert. */
  batchSize?: number;
  /** How long a partial batch waits for more records. */
  flushMs?: number;
  /** Records held in memory; past it, only the journal has them until they are read back. */
  maxQueued?: number;
  /** An insert that has not answered by then counts as failed (it may still land: retrying is harmless). */
  insertTimeoutMs?: number;
  /** Backoff after a failed insert: doubles from min to max, with jitter. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long close() keeps trying to write what is queued before leaving it to the journal. */
  closeTimeoutMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export interface LedgerStatus {
  /** Null: no journal. */
  journal_dir: string | null;
  /** Records held in memory, waiting for (or in) an insert. */
  queued: number;
  /** Records in the journal not yet known to be in the database (leftover segments count once read back). */
  journaled: number;
  /** Records written to the database (new or already there) by this process. */
  committed: number;
  /** Failed or timed-out inserts. */
  failures: number;
  /** Records neither the database nor the journal has: no journal and a full queue, or the journal's write failed. */
  lost: number;
  last_error: { message: string; time: string } | null;
}

const LEDGER_DEFAULTS = {
  batchSize: 500,
  flushMs: 200,
  maxQueued: 100_000,
  insertTimeoutMs: 10_000,
  retryMinMs: 250,
  retryMaxMs: 5_000,
  closeTimeoutMs: 5_000,
} as const;

/** While closing, retries come quickly: the deadline, not the backoff, decides when to give up. */
const CLOSING_RETRY_MS = 100;

export class UsageLedger implements UsageSink {
  readonly #db: LedgerDatabase;
  readonly #journal: Journal | undefined;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #maxQueued: number;
  readonly #insertTimeoutMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #logger: LedgerOptions['logger'];

  /** FIFO from #head on; compacted now and then rather than shifted per batch. */
  #queue: JournalEntry[] = [];
  #head = 0;
  /** The batch being inserted (kept until it succeeds). */
  #batch: JournalEntry[] | undefined;
  #wake: (() => void) | undefined;
  #wakeOnRecords = false;
  #closing = false;
  #stopped = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  readonly #loop: Promise<void>;

  #committed = 0;
  #failures = 0;
  #lost = 0;
  #lastError: LedgerStatus['last_error'] = null;
  #failing = false;

  constructor(opts: LedgerOptions) {
    this.#db = opts.database;
    this.#journal = opts.journal;
    this.#batchSize = opts.batchSize ?? LEDGER_DEFAULTS.batchSize;
    this.#flushMs = opts.flushMs ?? LEDGER_DEFAULTS.flushMs;
    this.#maxQueued = opts.maxQueued ?? LEDGER_DEFAULTS.maxQueued;
    this.#insertTimeoutMs = opts.insertTimeoutMs ?? LEDGER_DEFAULTS.insertTimeoutMs;
    this.#retryMinMs = opts.retryMinMs ?? LEDGER_DEFAULTS.retryMinMs;
    this.#retryMaxMs = opts.retryMaxMs ?? LEDGER_DEFAULTS.retryMaxMs;
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? LEDGER_DEFAULTS.closeTimeoutMs;
    this.#logger = opts.logger;
    this.#loop = this.#run().catch((err: Error) => this.#logger?.error({ err }, 'usage ledger: the flusher stopped'));
  }

  /** A ledger over the journal in `journalDir` (taken for this process; its leftover segments are written first). */
  static open(opts: Omit<LedgerOptions, 'journal'> & { journalDir: string | undefined; journalOptions?: Pick<JournalOptions, 'segmentBytes' | 'segmentMs' | 'writeIntervalMs'> }): UsageLedger {
    const logger = opts.logger;
    const journal =
      opts.journalDir === undefined
        ? undefined
        : Journal.open(opts.journalDir, {
            ...opts.journalOptions,
            keepLines: opts.database.takesJson === true,
            onError: (err) => logger?.error({ err: err.message }, 'usage journal problem'),
          });
    const leftover = journal?.stats().segments ?? 0;
    if (leftover > 0) logger?.info({ journal: journal!.dir, segments: leftover }, 'usage ledger: writing the records an earlier run left in the journal');
    return new UsageLedger({ ...opts, journal });
  }

  /** Never blocks and never throws: the request path calls it. */
  write(record: UsageRecord): void {
    try {
      if (this.#closed) {
        this.#lost++;
        return;
      }
      const entry: JournalEntry = this.#journal ? this.#journal.append(record) : { record, line: undefined, segment: undefined, generation: 0, evicted: false };
      if (this.#queued() >= this.#maxQueued) {
        if (this.#journal) this.#journal.evict(entry);
        else this.#lost++;
        return;
      }
      this.#queue.push(entry);
      if (this.#wakeOnRecords && this.#queued() >= this.#batchSize) this.#wake?.();
    } catch (err) {
      this.#lost++;
      this.#noteError(err);
    }
  }

  status(): LedgerStatus {
    const journal = this.#journal?.stats();
    return {
      journal_dir: journal?.dir ?? null,
      queued: this.#queued() + (this.#batch?.length ?? 0),
      journaled: journal?.uncommitted ?? 0,
      committed: this.#committed,
      failures: this.#failures,
      lost: this.#lost + (journal?.lost ?? 0),
      last_error: this.#lastError,
    };
  }

  /**
   * Writes what is queued to the database, trying until closeTimeoutMs; what is left stays in the journal for the next
   * start. Then closes the journal and releases its lock. Call it before closing the database.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    let deadline: NodeJS.Timeout | undefined;
    // A referenced timer: the process must not exit under a flush that is still going.
    const timedOut = new Promise<void>((resolve) => (deadline = setTimeout(resolve, this.#closeTimeoutMs)));
    await Promise.race([this.#loop, timedOut]);
    clearTimeout(deadline);
    this.#stopped = true;
    this.#wake?.();
    // Records may also have come after the flusher finished: they are in the journal too.
    const left = this.#queued() + (this.#batch?.length ?? 0);
    if (left > 0) {
      if (this.#journal) {
        this.#logger?.warn({ records: left, journal: this.#journal.dir }, 'usage ledger: the database did not take every record before shutdown; the rest stay in the journal and are written at the next start');
      } else {
        this.#lost += left;
        this.#logger?.error({ records: left }, 'usage ledger: records not written to the database before shutdown are lost (no journal)');
      }
    }
    // From here on a write would find the journal closing: it is refused (and counted) instead.
    this.#closed = true;
    await this.#journal?.close();
  }

  #queued(): number {
    return this.#queue.length - this.#head;
  }

  #take(n: number): JournalEntry[] {
    const batch = this.#queue.slice(this.#head, this.#head + n);
    this.#head += batch.length;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  /** Sleeps up to `ms`; close() cuts it short, and so does a full batch when `forRecords`. */
  #sleep(ms: number, forRecords: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#wakeOnRecords = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // An idle ledger does not keep the process alive; a closing one does (close() holds its own timer too).
      if (!this.#closing) timer.unref();
      this.#wake = done;
      this.#wakeOnRecords = forRecords;
    });
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (!this.#stopped) {
      this.#journal?.rotateIfDue();
      if (!this.#batch) {
        if (!this.#closing && this.#queued() < this.#batchSize) {
          // Room in memory: read back a segment whose records are in no queue (an earlier run's, or evicted ones).
          const unread = this.#journal?.nextUnread();
          if (unread) {
            try {
              for (const entry of await this.#journal!.reload(unread)) this.#queue.push(entry);
            } catch (err) {
              this.#noteError(err);
              await this.#sleep(this.#retryMaxMs, false);
            }
            continue;
          }
          await this.#sleep(this.#flushMs, true);
        }
        if (this.#queued() === 0) {
          if (this.#closing) break;
          continue;
        }
        this.#batch = this.#take(this.#batchSize);
      }
      const batch = this.#batch;
      try {
        await this.#insert(batch);
        this.#batch = undefined;
        this.#committed += batch.length;
        this.#journal?.commit(batch);
        backoff = 0;
        if (this.#failing) {
          this.#failing = false;
          this.#logger?.info({ failures: this.#failures }, 'usage ledger: writing to the database again');
        }
      } catch (err) {
        this.#failures++;
        this.#noteError(err);
        if (!this.#failing) {
          this.#failing = true;
          this.#logger?.warn(
            { err: (err as Error).message, journal: this.#journal?.dir ?? null },
            'usage ledger: cannot write to the database; records wait in the journal and are retried',
          );
        }
        backoff = Math.min(Math.max(backoff * 2, this.#retryMinMs), this.#retryMaxMs);
        // Jitter, so instances that lost the same database do not come back in step.
        await this.#sleep(this.#closing ? CLOSING_RETRY_MS : backoff * (0.75 + Math.random() * 0.5), false);
      }
    }
  }

  async #insert(batch: readonly JournalEntry[]): Promise<void> {
    const attempt = this.#db.insertMany(
      batch.map((e) => e.record),
      // Lines are kept (JournalOptions.keepLines) only for a database that takes them.
      batch.every((e) => e.line !== undefined) ? `[${batch.map((e) => e.line).join(',')}]` : undefined,
    );
    // After a timeout the attempt may still fail; that outcome is already counted.
    attempt.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the database did not answer within ${this.#insertTimeoutMs} ms`)), this.#insertTimeoutMs);
    });
    try {
      await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #noteError(err: unknown): void {
    this.#lastError = { message: err instanceof Error ? err.message : String(err), time: new Date().toISOString() };
  }
}
