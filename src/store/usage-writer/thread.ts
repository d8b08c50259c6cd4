// Usage records into a SQLite file, inserted on a worker thread. better-sqlite3 is synchronous: on the event loop, a
// batch of a few hundred records held up every request for milliseconds, and inserting was the largest single cost of
// a request after the HTTP work itself. The worker has its own connection to the same file (WAL: the gateway's
// connection keeps reading and writing beside it; a write lock held by one waits for the other up to busy_timeout).
// An in-memory database cannot be shared between connections, so it stays on the event loop (repositories/usage.ts).

import { Worker } from 'node:worker_threads';
import type { UsageRecord } from '../../usage/record.ts';

/**
 * A batch to insert as a JSON array of records, or (null) the last message: close the connection and end. Text, not
 * objects: the ledger already has each record's JSON (its journal line), and posting a string copies its bytes. A
 * structured clone of the records, serialised on the event loop and read back here, cost more than the thread's
 * JSON.parse: the event loop did 16k instructions per request fewer, this thread as many as before (callgrind).
 */
export interface InsertRequest {
  id: number;
  json: string | null;
}

export type InsertReply = { id: number; inserted: number } | { id: number; error: string };

const TYPESCRIPT = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(TYPESCRIPT ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Node 20 does not apply the hooks of the parent's `--import tsx` to a worker's entry point, so from the source tree
 * (tests, `npm run dev`) the worker is loaded through tsx's API, resolved from here rather than from the working
 * directory. The build runs worker.js as it is.
 */
function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!TYPESCRIPT) return { entry: WORKER_URL, eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return { entry: `import(${tsx}).then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}))`, eval: true };
}

interface Pending {
  resolve(inserted: number): void;
  reject(err: Error): void;
}

export class UsageInsertThread {
  readonly #filename: string;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(filename: string) {
    this.#filename = filename;
  }

  /**
   * Resolves with how many records were new; rejects with the database's error, or when the thread died. `json`: the
   * records as a JSON array, when the caller has it already.
   */
  insert(records: readonly UsageRecord[], json?: string): Promise<number> {
    if (this.#closed) return Promise.reject(new Error('the usage insert thread is closed'));
    if (records.length === 0) return Promise.resolve(0);
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    // Referenced while it owes answers, so a process awaiting one does not exit under it; idle, it keeps nothing alive.
    if (this.#pending.size === 0) worker.ref();
    return new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, json: json ?? JSON.stringify(records) } satisfies InsertRequest);
    });
  }

  /** Lets the inserts already sent finish, then closes the thread's connection and ends it. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    // Messages are handled in order: the inserts sent before this one are done when it is.
    worker.postMessage({ id: -1, json: null } satisfies InsertRequest);
    await exited;
  }

  #start(): Worker {
    const { entry, eval: evaluate } = workerEntry();
    const worker = new Worker(entry, { eval: evaluate, workerData: { filename: this.#filename } });
    worker.on('message', (reply: InsertReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0 && !this.#closed) worker.unref();
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.inserted);
    });
    const fail = (err: Error) => {
      // A thread that failed to start (the file cannot be opened) or died: what it held is retried on a new one.
      if (this.#worker === worker) this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the usage insert thread exited (code ${code})`)));
    return worker;
  }
}
