// Cursor pagination. Ids sort by creation time (ids.ts), so the id is both the stable order and the cursor.

import type { SelectQueryBuilder } from 'kysely';
import type { Page, PageQuery } from '../types.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** `query` selects whole rows with an `id` column; `order` 'desc' lists newest first. */
export async function paginate<Row extends { id: string }, T>(
  query: SelectQueryBuilder<any, any, Row>,
  { limit = DEFAULT_PAGE_SIZE, cursor }: PageQuery,
  toDomain: (row: Row) => T,
  order: 'asc' | 'desc' = 'asc',
): Promise<Page<T>> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  let q = query.orderBy('id', order).limit(limit + 1);
  if (cursor !== undefined) q = q.where('id', order === 'asc' ? '>' : '<', cursor);
  const rows = await q.execute();
  const items = rows.slice(0, limit).map(toDomain);
  return { items, next_cursor: rows.length > limit ? rows[limit - 1]!.id : null };
}
