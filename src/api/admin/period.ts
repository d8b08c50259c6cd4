// The time range the admin reports take: `from` and `to` in the query, [from, to).

import { z } from 'zod';
import { badRequest } from '../../core/errors.ts';

export const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('ISO 8601 time with an offset, or a date (midnight UTC)');

/** [from, to) as ISO times; an empty or reversed range is the client's error, named at the end it gave. */
export function period(from: Date, to: Date, fromGiven: boolean): { from: string; to: string } {
  if (from.getTime() >= to.getTime()) throw badRequest(`'from' (${from.toISOString()}) must be before 'to' (${to.toISOString()})`, fromGiven ? 'from' : 'to');
  return { from: from.toISOString(), to: to.toISOString() };
}
