// The usage ledger as the gateway configures it: where its journal lives and how it batches (the `usage` section).

import { dirname, join } from 'node:path';
import type { GatewayConfig } from '../../config/load.ts';
import type { Logger } from '../../observability/logger.ts';
import { databaseUrl, parseDatabaseUrl } from '../../store/db.ts';
import { UsageLedger, type LedgerDatabase } from './ledger.ts';

export { UsageLedger, type LedgerDatabase, type LedgerOptions, type LedgerStatus } from './ledger.ts';
export { JournalLockedError } from './lock.ts';

const SERVER_JOURNAL_DIR = './.switchboard/usage-journal';

/**
 * `usage.journal_dir`; else beside the SQLite file; else (PostgreSQL) ./.switchboard/usage-journal. Undefined for an
 * in-memory database: nothing it holds outlives the process, so there is nothing for a journal to keep.
 */
export function usageJournalDir(config: Pick<GatewayConfig, 'storage' | 'usage'>): string | undefined {
  if (config.usage.journal_dir !== undefined) return config.usage.journal_dir;
  const location = parseDatabaseUrl(databaseUrl(config.storage));
  if (location.dialect === 'postgres') return SERVER_JOURNAL_DIR;
  return location.filename === ':memory:' ? undefined : join(dirname(location.filename), 'usage-journal');
}

/** Opens the journal (taking its lock: throws JournalLockedError when another gateway has it) and starts flushing. */
export function createUsageLedger(config: Pick<GatewayConfig, 'storage' | 'usage'>, database: LedgerDatabase, logger: Logger): UsageLedger {
  return UsageLedger.open({
    database,
    journalDir: usageJournalDir(config),
    journalOptions: { writeIntervalMs: config.usage.journal_write_ms },
    batchSize: config.usage.batch_size,
    flushMs: config.usage.flush_ms,
    maxQueued: config.usage.max_queued,
    logger,
  });
}
