// Request-body validation shared by the surfaces: a zod schema, and the first problem as a 400 naming the field.

import type { z } from 'zod';
import { pathString } from '../config/load.ts';
import { badRequest } from '../core/errors.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object');
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const param = pathString(issue.path);
    throw badRequest(param ? `Invalid '${param}': ${issue.message}` : issue.message, param || undefined);
  }
  return result.data;
}
