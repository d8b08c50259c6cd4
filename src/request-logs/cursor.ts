// The request log's cursor: the (time, request_id) of the last row of a page, newest first, as an opaque string. Times
// repeat (many requests end in the same millisecond), so the request id breaks ties and no row is skipped or repeated.

import type { LogPosition } from '../store/repositories/request-logs.ts';


export function encodeCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify([position.time, position.request_id])).toString('base64url');
}

/** The position a cursor names; undefined when it is not one this gateway made. */
export function decodeCursor(cursor: string): LogPosition | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [time, requestId] = value as unknown[];
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time)) || typeof requestId !== 'string' || requestId === '') return undefined;
  return { time: new Date(time).toISOString(), request_id: requestId };
}
