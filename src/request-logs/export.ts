// A request log export: every matching row as JSON Lines or CSV, read a page at a time through the cursor and written
// out as it is read, so an export of millions of rows holds one page in memory.

import type { LogPage, LogPosition, RequestLog } from '../store/repositories/request-logs.ts';
import { csvRow } from './csv.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' };

/** The CSV's columns, in order: every field of a row, the route and metadata as their JSON. */
export const CSV_COLUMNS = [
  'request_id',
  'time',
  'org_id',
  'team_id',
  'user_id',
  'key_id',
  'surface',
  'operation',
  'stream',
  'model',
  'provider',
  'provider_model',
  'status',
  'attempts',
  'error_type',
  'error_code',
  'error_message',
  'route',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'priced',
  'latency_ms',
  'ttft_ms',
  'cache_hit',
  'estimated',
  'client_ip',
  'metadata',
] as const satisfies readonly (keyof RequestLog)[];

const LINE: Record<ExportFormat, (log: RequestLog) => string> = {
  jsonl: (log) => `${JSON.stringify(log)}\n`,
  csv: (log) => csvRow(CSV_COLUMNS.map((column) => log[column])),
};

/**
 * The export's text, a page at a time. `first` is read before anything is sent, so a query that fails at once is an
 * error answer rather than a download cut short; `next` reads the page after a position.
 */
export async function* exportText(format: ExportFormat, first: LogPage, next: (after: LogPosition) => Promise<LogPage>): AsyncGenerator<string> {
  if (format === 'csv') yield csvRow(CSV_COLUMNS);
  const line = LINE[format];
  for (let page = first; ; page = await next(page.next)) {
    if (page.items.length > 0) yield page.items.map(line).join('');
    if (!page.next) return;
  }
}
