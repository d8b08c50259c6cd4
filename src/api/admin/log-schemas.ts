// The request log's queries and answers, registered with the admin API's response schemas so the OpenAPI document
// describes them as components.

import { z } from 'zod';
import { MAX_PAGE_SIZE } from '../../store/repositories/page.ts';
import { EXPORT_FORMATS } from '../../request-logs/export.ts';
import { instant } from './period.ts';
import { responseSchemas } from './schemas.ts';

const id = z.string().min(1).max(64);
const name = z.string().min(1).max(200);

export const logFilters = {
  org_id: id.optional().describe("The organization (required with the master key; others get their own, and another organization's is not found)"),
  from: instant.optional().describe('Inclusive; default: 24 hours before to'),
  to: instant.optional().describe('Exclusive; default: now'),
  key_id: id.optional(),
  team_id: id.optional().describe('Team-scoped roles: one of their own teams'),
  user_id: id.optional().describe('Team-scoped roles: themselves, unless team_id names one of their teams'),
  model: name.optional().describe('The model name as clients sent it'),
  provider: name.optional().describe('The configured provider that answered (or was tried last)'),
  status: z
    .string()
    .regex(/^[1-5](\d\d|xx)$/i, 'expected an HTTP status such as 429, or a class such as 4xx')
    .optional()
    .describe('An HTTP status (429) or a class of them (4xx, 5xx)'),
  error: name.optional().describe('true: failed requests only (status 400 or more); false: successful ones only; else failures with this error type or code'),
  q: name.optional().describe("Free text, found in the client's metadata or the error message (case-insensitive)"),
};

export const logQuery = z.strictObject({
  ...logFilters,
  limit: z.coerce.number<string>().int().min(1).max(MAX_PAGE_SIZE).default(50).describe(`Rows per page, 1-${MAX_PAGE_SIZE} (default 50)`),
  cursor: z.string().min(1).max(2000).optional().describe('next_cursor of the previous page (keep the same filters, from and to)'),
});

export const logExportQuery = z.strictObject({
  ...logFilters,
  format: z.enum(EXPORT_FORMATS).default('jsonl').describe('jsonl: one JSON object a line, as in data; csv: a header row, then one row each, route and metadata as JSON'),
});

export const logParams = z.strictObject({ request_id: z.string().min(1).max(300) });
export const logDetailQuery = z.strictObject({ org_id: logFilters.org_id });

const routeStep = z.object({
  target: z.string().describe('<provider>/<model>'),
  status: z.number().int().nullable().describe('Null: skipped, its circuit open'),
  code: z.string().nullable(),
});

const logFields = {
  request_id: z.string(),
  time: z.string().describe('When the request ended'),
  org_id: z.string().nullable(),
  team_id: z.string().nullable(),
  user_id: z.string().nullable(),
  key_id: z.string().nullable(),
  surface: z.string(),
  operation: z.string().nullable().describe('chat, embeddings, …; null, like the other detail, in records older than the request log'),
  stream: z.boolean().nullable(),
  model: z.string().describe('As the client sent it'),
  provider: z.string(),
  provider_model: z.string(),
  status: z.number().int(),
  attempts: z.number().int(),
  error_type: z.string().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  route: z
    .object({ strategy: z.string().nullable(), steps: z.array(routeStep) })
    .nullable()
    .describe('The strategy, then each target tried in order with what it answered: the failures, and the attempt that answered'),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cached_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  cost_usd: z.number(),
  priced: z.boolean(),
  latency_ms: z.number(),
  ttft_ms: z.number().nullable(),
  cache_hit: z.boolean(),
  estimated: z.boolean(),
  client_ip: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable().describe("The body's metadata merged with the x-switchboard-metadata header's object"),
};

export const requestLog = z.strictObject(logFields);
responseSchemas.add(requestLog, { id: 'RequestLog', description: "One request's usage record with its routing detail" });

export const requestLogPage = z.strictObject({
  from: z.string(),
  to: z.string(),
  data: z.array(requestLog).describe('Newest first'),
  next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last'),
});
responseSchemas.add(requestLogPage, { id: 'RequestLogPage' });

export const requestLogDetail = z.strictObject({
  ...logFields,
  payload: z
    .strictObject({
      request_body: z.string().nullable().describe('As the client sent it (JSON), secrets masked'),
      response_body: z.string().nullable().describe('As the client got it: a JSON body, or the server-sent events of a stream; secrets masked'),
      request_truncated: z.boolean().describe('Cut at request_logs.payload_max_bytes'),
      response_truncated: z.boolean(),
    })
    .nullable()
    .describe('The captured bodies, when the key or its team had log_payloads on'),
});
responseSchemas.add(requestLogDetail, { id: 'RequestLogDetail' });

export const logExport = z.string().describe('JSON Lines or CSV, as format asks');
