// Where usage records go. The production sink is the ledger (src/usage/ledger/), which journals each record and writes
// it to the database in batches off the request path.

import type { UsageRecord } from './record.ts';

export interface UsageSink {
  /** Called on the request path, so it must not block: queue, don't write. */
  write(record: UsageRecord): void;
}
