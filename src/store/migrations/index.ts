// Every migration, in order, provided in code rather than found on disk, so they run the same from src/ and dist/.
// Names are permanent once released: the migration table records them.

import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import { identity } from './0001-identity.ts';
import { usage } from './0002-usage.ts';
import { limits } from './0003-limits.ts';
import { shadow } from './0004-shadow.ts';
import { requestLogs } from './0005-request-logs.ts';
import { usageRollups } from './0006-usage-rollups.ts';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_identity': identity(dialect),
    '0002_usage': usage(dialect),
    '0003_limits': limits(dialect),
    '0004_shadow': shadow(dialect),
    '0005_request_logs': requestLogs(dialect),
    '0006_usage_rollups': usageRollups(dialect),
  };
}
