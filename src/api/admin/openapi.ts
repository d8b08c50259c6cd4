// The OpenAPI 3.1 document of the admin API, built from the route table and its zod schemas: a route cannot exist
// without being described, nor be described other than as it validates.

import { z } from 'zod';
import type { AdminRoute } from './route.ts';
import { errorBody, requestSchemas, responseSchemas } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
const ERRORS: Record<string, string> = {
  '400': 'Invalid request: the message names the field',
  '401': 'Missing or invalid credential',
  '403': 'The role may not do this',
  '404': 'Not found, or not visible to this credential',
  '409': 'Conflicts with existing data',
};

/** As a component or a standalone schema: without the $schema and $id zod adds, which OpenAPI places itself. */
function bare(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const uri = (id: string) => COMPONENTS + id;
  const out: Record<string, JsonSchema> = {};
  for (const [registry, io] of [[requestSchemas, 'input'], [responseSchemas, 'output']] as const) {
    for (const [id, schema] of Object.entries(z.toJSONSchema(registry, { uri, io }).schemas)) out[id] = bare(schema as JsonSchema);
  }
  return out;
}

function schemaRef(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = (io === 'input' ? requestSchemas : responseSchemas).get(schema)?.id;
  return id ? { $ref: COMPONENTS + id } : bare(z.toJSONSchema(schema, { io }) as JsonSchema);
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: where, required: where === 'path' || (json.required ?? []).includes(name), ...(description !== undefined && { description }), schema: rest };
  });
}

const json = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });

function operation(route: AdminRoute): JsonSchema {
  const errorRef = schemaRef(errorBody, 'output');
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(route.body && { requestBody: { required: true, ...json(schemaRef(route.body, 'input')) } }),
    responses: {
      [String(route.status ?? 200)]: {
        description: 'OK',
        ...(route.produces
          ? { content: Object.fromEntries(route.produces.map((type) => [type, { schema: schemaRef(route.response, 'output') }])) }
          : json(schemaRef(route.response, 'output'))),
      },
      ...Object.fromEntries(Object.entries(ERRORS).map(([status, description]) => [status, { description, ...json(errorRef) }])),
    },
  };
}

/** `prefix`: where the routes are mounted, e.g. /admin/v1. */
export function openApiDocument(routes: readonly AdminRoute[], prefix: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) (paths[prefix + route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Switchboard admin API',
      // The API's own version, the one in its path: it changes when the API does, not with each gateway release.
      version: 'v1',
      description: 'Organizations, teams, users, virtual keys, provider credentials, model policies and the audit log.',
    },
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The master key, or a JWT from the configured identity provider' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
