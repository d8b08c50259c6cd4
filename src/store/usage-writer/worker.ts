// The usage insert thread's own side: its own connection to the SQLite file, inserting the batches it is sent.
// See thread.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../db.ts';
import { sqliteUsageInserter } from '../repositories/usage-rows.ts';
import type { UsageRecord } from '../../usage/record.ts';
import type { InsertReply, InsertRequest } from './thread.ts';

const { filename } = workerData as { filename: string };
const sqlite = openSqlite(filename);
const insert = sqliteUsageInserter(sqlite);
const port = parentPort!;

port.on('message', ({ id, json }: InsertRequest) => {
  if (json === null) {
    sqlite.close();
    port.close();
    return;
  }
  let reply: InsertReply;
  try {
    reply = { id, inserted: insert(JSON.parse(json) as UsageRecord[]) };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
