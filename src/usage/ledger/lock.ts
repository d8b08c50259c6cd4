// One gateway per journal directory. Two processes appending to and deleting each other's segments would lose or
// double-count records, so the directory holds a lock file naming its owner (pid and host). A lock whose process is
// gone (a crash, a SIGKILL) is taken over; one held by a live process, or by another host whose processes cannot be
// checked from here, is refused. Runs at start-up only, so it is synchronous.

import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'ledger.lock';

/** The journal directory is in use: by another process, or already by this one. */
export class JournalLockedError extends Error {
  override name = 'JournalLockedError';
}

interface Holder {
  pid: number;
  host: string;
}

/** Directories this process holds, so a second ledger on the same directory in one process is refused too. */
const held = new Set<string>();

function readHolder(path: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return Number.isSafeInteger(parsed.pid) && typeof parsed.host === 'string' ? { pid: parsed.pid!, host: parsed.host } : undefined;
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  // Another host's processes cannot be checked from here: a directory shared between hosts stays theirs.
  if (holder.host !== hostname()) return true;
  // Our own pid in a lock this process does not hold: an earlier run that had the same pid (pid 1 in a container).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sameHolder = (a: Holder | undefined, b: Holder | undefined) => a !== undefined && b !== undefined && a.pid === b.pid && a.host === b.host;

export class JournalLock {
  private constructor(
    readonly dir: string,
    private readonly path: string,
    private readonly content: string,
  ) {}

  /** `dir` must exist. Throws JournalLockedError when a live process holds it. */
  static acquire(dir: string): JournalLock {
    const key = resolve(dir);
    if (held.has(key)) throw new JournalLockedError(`the usage journal ${dir} is already open in this process`);
    const path = join(dir, LOCK_FILE);
    const content = `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`;
    // Written aside and linked into place, so a lock file is never seen half-written (and judged stale by mistake).
    const draft = `${path}.${process.pid}.draft`;
    writeFileSync(draft, content, { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(draft, path);
          held.add(key);
          return new JournalLock(key, path, content);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = readHolder(path);
        if (holder && alive(holder)) {
          throw new JournalLockedError(
            `the usage journal ${dir} is in use by another gateway (pid ${holder.pid} on ${holder.host}); give each instance its own usage.journal_dir, or remove ${path} if that gateway is gone`,
          );
        }
        // Stale. Moved aside first and checked, so a lock another starter took over in the meantime is put back.
        const aside = `${path}.${process.pid}.stale`;
        try {
          renameSync(path, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        const moved = readHolder(aside);
        if (moved === undefined || sameHolder(moved, holder) || !alive(moved)) {
          unlinkSync(aside);
        } else {
          try {
            linkSync(aside, path);
          } finally {
            unlinkSync(aside);
          }
        }
      }
      throw new JournalLockedError(`the usage journal ${dir}: could not take ${path}, other processes keep taking it`);
    } finally {
      unlinkSync(draft);
    }
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    held.delete(this.dir);
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
