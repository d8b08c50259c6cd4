// The ledger's write-ahead journal: every usage record is appended to a segment file (one JSON line each) before the
// database has it, so a crash, a SIGKILL or a database outage loses nothing that reached the page cache. Appends are
// gathered and written with one asynchronous write: at the end of the turn when the journal has been quiet, and at
// most one write per writeIntervalMs under load (a write per turn, each a thread-pool round trip, was about a tenth of
// a request's CPU at 10k requests/s). Nothing here touches the disk synchronously except opening the directory at
// start-up.
//
// Segments rotate by size and age. A segment is deleted once it is sealed, closed and every record in it is known to
// be in the database. A segment some of whose records are not held in memory (left over from an earlier run, or
// dropped from the ledger's bounded queue) is "unread": the ledger reads it back and writes all of it again, which is
// harmless because the database ignores request ids it already has. Reading a segment back starts a new generation of
// its records, so acknowledgements of the copies still queued from before cannot make it look finished early.

import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SURFACES } from '../../pipeline/context.ts';
import type { UsageRecord } from '../record.ts';
import { JournalLock } from './lock.ts';

const SEGMENT_NAME = /^segment-(\d{12})\.jsonl$/;
const segmentName = (seq: number) => `segment-${String(seq).padStart(12, '0')}.jsonl`;

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
const DEFAULT_SEGMENT_MS = 60_000;
const DEFAULT_WRITE_INTERVAL_MS = 5;

/** One record as the ledger holds it: which segment (and generation of it) it is acknowledged to. */
export interface JournalEntry {
  readonly record: UsageRecord;
  /**
   * The record as the journal wrote it (JSON and a newline), kept for a database that takes it (JournalOptions
   * keepLines); else undefined.
   */
  readonly line: string | undefined;
  /** Undefined when the ledger runs without a journal. */
  readonly segment: Segment | undefined;
  readonly generation: number;
  /** Not held in memory: only the segment has it. */
  evicted: boolean;
}

export class Segment {
  /** Bytes appended in this run (the size rotation goes by). */
  bytes = 0;
  /** Records of the current generation not yet acknowledged as in the database. */
  outstanding = 0;
  generation = 0;
  /** No more appends; closed once its last write is done. */
  sealed: boolean;
  closed: boolean;
  /** Holds records that are in no queue: read it back to write them. */
  unread: boolean;
  reading = false;
  /** A write failed: what it held is not in the file. */
  failed = false;
  handle: FileHandle | undefined;
  lines: string[] = [];
  entries: JournalEntry[] = [];

  constructor(
    readonly seq: number,
    readonly path: string,
    readonly openedAt: number,
    leftover: boolean,
  ) {
    this.sealed = leftover;
    this.closed = leftover;
    this.unread = leftover;
  }

  get finished(): boolean {
    return this.sealed && this.closed && !this.unread && !this.reading && this.outstanding <= 0;
  }
}

export interface JournalOptions {
  /**
   * Entries keep their line, for a database that inserts the JSON text (the SQLite insert thread). Off, a queued
   * record costs its object alone, which matters when a long outage fills the queue.
   */
  keepLines?: boolean;
  /** Rotate once a segment holds this many bytes. */
  segmentBytes?: number;
  /** Rotate a segment this long after its first record. */
  segmentMs?: number;
  /** Writes start at least this far apart: how long, at most, a record waits for the page cache under load. */
  writeIntervalMs?: number;
  now?: () => number;
  /** Problems that lose nothing by themselves but need an operator: a failed write or delete, unreadable lines. */
  onError?: (err: Error) => void;
}

export interface JournalStats {
  dir: string;
  /** Segment files not yet deleted. */
  segments: number;
  /** Records in segments not yet acknowledged as in the database (segments left over from an earlier run count once read). */
  uncommitted: number;
  /** Records that were in no queue when their write to the journal failed: gone. */
  lost: number;
  /** Lines of read-back segments that were not a record (a write cut short by a crash). */
  corrupt: number;
}

export class Journal {
  readonly dir: string;
  readonly #lock: JournalLock;
  readonly #segmentBytes: number;
  readonly #segmentMs: number;
  readonly #writeIntervalMs: number;
  readonly #keepLines: boolean;
  readonly #now: () => number;
  readonly #onError: (err: Error) => void;
  /** Oldest first. */
  #segments: Segment[];
  #active: Segment | undefined;
  #nextSeq: number;
  #scheduled = false;
  #writing = false;
  /** performance.now() when the last write began. */
  #lastWriteAt = -Infinity;
  #idle: (() => void)[] = [];
  #deleting = new Set<Promise<void>>();
  #closed = false;
  #lost = 0;
  #corrupt = 0;

  private constructor(dir: string, lock: JournalLock, leftovers: Segment[], opts: JournalOptions) {
    this.dir = dir;
    this.#lock = lock;
    this.#segments = leftovers;
    this.#nextSeq = leftovers.length > 0 ? leftovers[leftovers.length - 1]!.seq + 1 : 1;
    this.#segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.#segmentMs = opts.segmentMs ?? DEFAULT_SEGMENT_MS;
    this.#writeIntervalMs = opts.writeIntervalMs ?? DEFAULT_WRITE_INTERVAL_MS;
    this.#keepLines = opts.keepLines ?? false;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Creates the directory (owner only) if needed, takes its lock, and finds the segments an earlier run left. */
  static open(dir: string, opts: JournalOptions = {}): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lock = JournalLock.acquire(dir);
    try {
      const now = (opts.now ?? Date.now)();
      const leftovers = readdirSync(dir)
        .map((name) => SEGMENT_NAME.exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => new Segment(Number(m[1]), join(dir, m[0]), now, true))
        .sort((a, b) => a.seq - b.seq);
      return new Journal(dir, lock, leftovers, opts);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Queues the record for this turn's write. Synchronous and cheap: the request path calls it. */
  append(record: UsageRecord): JournalEntry {
    if (this.#closed) throw new Error('the usage journal is closed');
    let segment = this.#active;
    if (segment === undefined) {
      const seq = this.#nextSeq++;
      segment = new Segment(seq, join(this.dir, segmentName(seq)), this.#now(), false);
      this.#segments.push(segment);
      this.#active = segment;
    }
    const line = `${JSON.stringify(record)}\n`;
    const entry: JournalEntry = { record, line: this.#keepLines ? line : undefined, segment, generation: segment.generation, evicted: false };
    segment.lines.push(line);
    segment.entries.push(entry);
    segment.bytes += line.length;
    segment.outstanding++;
    if (segment.bytes >= this.#segmentBytes) this.#seal(segment);
    this.#schedule();
    return entry;
  }

  /** The ledger holds the entry's record in no queue: its segment must be read back before it can go. */
  evict(entry: JournalEntry): void {
    entry.evicted = true;
    if (entry.segment) entry.segment.unread = true;
  }

  /** The entries' records are in the database. */
  commit(entries: readonly JournalEntry[]): void {
    if (this.#closed) return;
    let any = false;
    for (const e of entries) {
      if (e.segment && e.generation === e.segment.generation) {
        e.segment.outstanding--;
        any = true;
      }
    }
    if (any) this.#collect();
  }

  /** Seals the active segment once it is old enough, so a quiet journal still gets its files deleted. */
  rotateIfDue(): void {
    const active = this.#active;
    if (active && this.#now() - active.openedAt >= this.#segmentMs) this.#seal(active);
  }

  /**
   * The oldest segment to read back, if any is ready (sealed, its writes done). When the only one is the segment still
   * being appended to, it is sealed, to be ready once its last write is done.
   */
  nextUnread(): Segment | undefined {
    const ready = this.#segments.find((s) => s.unread && s.closed && !s.reading);
    if (!ready && this.#active?.unread) this.#seal(this.#active);
    return ready;
  }

  /** Reads a segment back: its records become a new generation, all outstanding until committed again. */
  async reload(segment: Segment): Promise<JournalEntry[]> {
    segment.reading = true;
    try {
      let text = '';
      try {
        text = await readFile(segment.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const entries: JournalEntry[] = [];
      let corrupt = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const record = parseRecord(line);
        if (record) entries.push({ record, line: this.#keepLines ? `${line}\n` : undefined, segment, generation: segment.generation + 1, evicted: false });
        else corrupt++;
      }
      if (corrupt > 0) {
        this.#corrupt += corrupt;
        this.#onError(new Error(`usage journal ${segment.path}: skipped ${corrupt} line(s) that are not a usage record (a write cut short by a crash)`));
      }
      segment.generation++;
      segment.outstanding = entries.length;
      segment.unread = false;
      return entries;
    } finally {
      segment.reading = false;
      this.#collect();
    }
  }

  /** Resolves once everything appended so far has been written (or has failed to be). */
  async settled(): Promise<void> {
    while (this.#scheduled || this.#writing) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  stats(): JournalStats {
    let uncommitted = 0;
    for (const s of this.#segments) uncommitted += Math.max(0, s.outstanding);
    return { dir: this.dir, segments: this.#segments.length, uncommitted, lost: this.#lost, corrupt: this.#corrupt };
  }

  /** Writes what is pending, closes the files, deletes finished segments and releases the lock. The rest stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#active) this.#seal(this.#active);
    await this.settled();
    this.#collect();
    await Promise.all(this.#deleting);
    this.#closed = true;
    this.#lock.release();
  }

  #seal(segment: Segment): void {
    segment.sealed = true;
    if (this.#active === segment) this.#active = undefined;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    const drain = () => {
      this.#scheduled = false;
      void this.#drain();
    };
    const wait = this.#lastWriteAt + this.#writeIntervalMs - performance.now();
    if (wait > 0) setTimeout(drain, wait);
    else setImmediate(drain);
  }

  /**
   * Writes every segment's pending lines, oldest segment first, and closes sealed ones. Appends that arrive meanwhile
   * are left to the next write, paced by #schedule.
   */
  async #drain(): Promise<void> {
    this.#writing = true;
    this.#lastWriteAt = performance.now();
    try {
      for (const segment of this.#segments.filter(hasPendingWork)) await this.#write(segment);
    } finally {
      this.#writing = false;
      this.#collect();
      if (this.#segments.some(hasPendingWork)) this.#schedule();
      else for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #write(segment: Segment): Promise<void> {
    if (segment.lines.length > 0) {
      const text = segment.lines.join('');
      const entries = segment.entries;
      segment.lines = [];
      segment.entries = [];
      try {
        if (segment.failed) throw new Error('an earlier write to this segment failed');
        segment.handle ??= await open(segment.path, 'a', 0o600);
        await segment.handle.write(text);
      } catch (err) {
        // Records still queued in memory reach the database anyway; the ones only this write held are gone.
        const gone = entries.filter((e) => e.evicted).length;
        this.#lost += gone;
        if (!segment.failed) this.#onError(new Error(`usage journal ${segment.path}: write failed: ${(err as Error).message}`, { cause: err }));
        segment.failed = true;
        this.#seal(segment);
      }
    }
    if (segment.sealed && segment.lines.length === 0 && !segment.closed) {
      const handle = segment.handle;
      segment.handle = undefined;
      segment.closed = true;
      await handle?.close().catch((err: Error) => this.#onError(err));
    }
  }

  /** Deletes the segments whose every record is in the database. */
  #collect(): void {
    const done = this.#segments.filter((s) => s.finished);
    if (done.length === 0) return;
    this.#segments = this.#segments.filter((s) => !s.finished);
    for (const segment of done) {
      const deleting = unlink(segment.path)
        .catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') this.#onError(new Error(`usage journal: cannot delete ${segment.path}: ${err.message}`, { cause: err }));
        })
        .finally(() => this.#deleting.delete(deleting));
      this.#deleting.add(deleting);
    }
  }
}

/** Lines to write, or sealed and still to close. */
const hasPendingWork = (s: Segment): boolean => s.lines.length > 0 || (s.sealed && !s.closed);

const str = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): v is string | null => v === null || typeof v === 'string';
const count = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const bool = (v: unknown): v is boolean => typeof v === 'boolean';
const SURFACE_SET: ReadonlySet<string> = new Set(SURFACES);

/** A journal line back into a record, or undefined when it is not a whole one (the database would refuse it forever). */
export function parseRecord(line: string): UsageRecord | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (r === null || typeof r !== 'object') return undefined;
  const ok =
    str(r.request_id) &&
    str(r.time) &&
    !Number.isNaN(Date.parse(r.time)) &&
    optStr(r.key_id) &&
    optStr(r.team_id) &&
    optStr(r.user_id) &&
    optStr(r.org_id) &&
    str(r.surface) &&
    SURFACE_SET.has(r.surface) &&
    str(r.model) &&
    str(r.provider) &&
    str(r.provider_model) &&
    [r.attempts, r.status, r.input_tokens, r.output_tokens, r.cached_tokens, r.cache_write_tokens, r.reasoning_tokens, r.cost_usd, r.latency_ms].every(count) &&
    (r.ttft_ms === null || count(r.ttft_ms)) &&
    bool(r.priced) &&
    bool(r.cache_hit) &&
    bool(r.estimated);
  return ok ? (r as unknown as UsageRecord) : undefined;
}
