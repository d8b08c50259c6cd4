// The request log: every request's usage record with its routing detail, filtered and paged newest first, one record
// with its captured bodies, and exports of everything matching as JSON Lines or CSV. Who sees what is the usage
// reports' rule (visibility.ts): the whole organization, or a team-scoped person's teams and own records; another
// organization's record is not found.

import type { z } from 'zod';
import { badRequest } from '../../../core/errors.ts';
import type { Actor } from '../../../identity/rbac.ts';
import { decodeCursor, encodeCursor } from '../../../request-logs/cursor.ts';
import { CONTENT_TYPES, exportText } from '../../../request-logs/export.ts';
import type { LogQuery } from '../../../store/repositories/request-logs.ts';
import type { TenantStore } from '../../../store/store.ts';
import { reachOrg } from '../access.ts';
import { notFound } from '../errors.ts';
import { logDetailQuery, logExport, logExportQuery, logParams, logQuery, requestLogDetail, requestLogPage, type logFilters } from '../log-schemas.ts';
import { period } from '../period.ts';
import { defineRoute, Download, type AdminDeps, type AdminRoute } from '../route.ts';
import { recordVisibility, seesRecord, type Visible } from '../visibility.ts';

const tag = 'Request logs';

const DAY_MS = 86_400_000;
/** Rows read per query while exporting. */
const EXPORT_PAGE = 500;

type Filters = z.output<z.ZodObject<typeof logFilters>>;

/** The organization asked for (the actor's own by default; named, with the master key), and what of it the actor sees. */
async function reach(actor: Actor, deps: AdminDeps, orgId: string | undefined): Promise<{ orgId: string; tenant: TenantStore }> {
  const org = orgId ?? actor.org_id;
  if (org === null) throw badRequest('org_id is required with the master key: request logs are kept per organization', 'org_id');
  return { orgId: org, tenant: await reachOrg(deps.store, actor, org) };
}

/** The filters as the repository takes them, over [from, to) (default: the last 24 hours). */
function logFilter(query: Filters, visible: Visible, now = new Date()): Omit<LogQuery, 'limit' | 'after'> {
  const to = query.to === undefined ? now : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - DAY_MS) : new Date(query.from);
  const range = period(from, to, query.from !== undefined);
  const status = query.status?.toLowerCase();
  const error = query.error;
  return {
    ...range,
    key_id: query.key_id,
    team_id: query.team_id,
    user_id: query.user_id,
    model: query.model,
    provider: query.provider,
    status: status === undefined ? undefined : status.endsWith('xx') ? { min: Number(status[0]) * 100, max: Number(status[0]) * 100 + 99 } : { min: Number(status), max: Number(status) },
    error: error === 'true' ? true : error === 'false' ? false : error,
    q: query.q,
    visible,
  };
}

export const logRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/logs',
    operationId: 'listRequestLogs',
    summary: "An organization's requests, newest first, with their routing detail: filter by time, key, team, user, model, provider, status, error or free text",
    tag,
    query: logQuery,
    response: requestLogPage,
    async handler({ actor, deps, query }) {
      const { tenant } = await reach(actor, deps, query.org_id);
      const filter = logFilter(query, recordVisibility(actor, query, 'request logs'));
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && !after) throw badRequest("'cursor' is not a cursor of this API: pass next_cursor of the previous page as it came", 'cursor');
      const page = await tenant.logs.list({ ...filter, after, limit: query.limit });
      return { from: filter.from, to: filter.to, data: page.items, next_cursor: page.next && encodeCursor(page.next) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/logs/export',
    operationId: 'exportRequestLogs',
    summary: 'Every request matching the filters, as JSON Lines or CSV, streamed as a file',
    tag,
    query: logExportQuery,
    response: logExport,
    produces: Object.values(CONTENT_TYPES),
    async handler({ actor, deps, query }) {
      const { orgId, tenant } = await reach(actor, deps, query.org_id);
      const filter = logFilter(query, recordVisibility(actor, query, 'request logs'));
      const first = await tenant.logs.list({ ...filter, limit: EXPORT_PAGE });
      const body = exportText(query.format, first, (after) => tenant.logs.list({ ...filter, after, limit: EXPORT_PAGE }));
      const day = (iso: string) => iso.slice(0, 10);
      return new Download(CONTENT_TYPES[query.format], `request-logs-${orgId}-${day(filter.from)}-${day(filter.to)}.${query.format}`, body);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/logs/{request_id}',
    operationId: 'getRequestLog',
    summary: 'One request with its routing detail and, when its key or team captured them, its request and response bodies',
    tag,
    params: logParams,
    query: logDetailQuery,
    response: requestLogDetail,
    async handler({ actor, deps, params, query }) {
      const { tenant } = await reach(actor, deps, query.org_id);
      const log = await tenant.logs.get(params.request_id);
      // Another team's or person's record is answered like one that does not exist.
      if (!log || !seesRecord(recordVisibility(actor, {}, 'request logs'), log)) throw notFound('request log', params.request_id);
      return log;
    },
  }),
];
