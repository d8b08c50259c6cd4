// The rows a team-scoped caller may read in the usage ledger and its rollups: its teams' and its own (see
// UsageSummaryQuery.visible). One clause for the usage reports, the request log and analytics, which read different
// tables that share these two columns.

import { sql, type Expression, type SqlBool } from 'kysely';
import type { UsageSummaryQuery } from './usage.ts';

export function visibleRows(visible: NonNullable<UsageSummaryQuery['visible']>): Expression<SqlBool> {
  const or: Expression<SqlBool>[] = [];
  if (visible.team_ids.length > 0) or.push(sql<SqlBool>`${sql.ref('team_id')} in (${sql.join(visible.team_ids)})`);
  if (visible.user_id !== null) or.push(sql<SqlBool>`${sql.ref('user_id')} = ${visible.user_id}`);
  if (or.length === 0) return sql<SqlBool>`1 = 0`;
  return or.length === 1 ? or[0]! : sql<SqlBool>`(${sql.join(or, sql` or `)})`;
}
