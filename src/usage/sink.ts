// Where usage records go. The seam for the database ledger, which will batch records off the request path behind this
// same interface.

import type { UsageRecord } from './record.ts';

export interface UsageSink {
  /** Called on the request path, so it must not block: queue, don't write. */
  write(record: UsageRecord): void;
}

/** The default until the ledger exists: counts records and keeps none, so memory stays flat under load. */
export class CountingSink implements UsageSink {
  count = 0;

  write(): void {
    this.count++;
  }
}
