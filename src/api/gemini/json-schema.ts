// Gemini's `Schema` (the OpenAPI 3.0 subset of `parameters` and `responseSchema`) → standard JSON Schema, which every
// other provider takes. The two mostly share keywords; the differences are upper-case type names, `nullable`,
// `propertyOrdering`, and int64 limits that proto JSON may write as strings.

import { badRequest } from '../../core/errors.ts';
import { isPlainObject } from '../../providers/shared.ts';
import { protoFields } from './wire.ts';

const COPIED = new Set(['format', 'title', 'description', 'enum', 'required', 'pattern', 'minimum', 'maximum', 'default']);
const COUNTS = new Set(['minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength']);
const HANDLED = new Set(['type', 'nullable', 'properties', 'propertyOrdering', 'items', 'anyOf', 'example']);

export function toJsonSchema(value: unknown, param: string): Record<string, unknown> {
  const schema = protoFields(value);
  if (!isPlainObject(schema)) throw badRequest(`'${param}' must be a schema object`, param);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    if (COPIED.has(key)) out[key] = field;
    else if (COUNTS.has(key)) out[key] = count(field, `${param}.${key}`);
    else if (!HANDLED.has(key)) throw badRequest(`'${param}.${key}' is not a field of a Gemini Schema; send a JSON Schema as parametersJsonSchema or responseJsonSchema instead`, `${param}.${key}`);
  }
  const type = typeName(schema.type, `${param}.type`);
  if (type !== undefined) out.type = schema.nullable === true ? [type, 'null'] : type;
  if (schema.nullable === true && Array.isArray(out.enum)) out.enum = [...out.enum, null];
  if (schema.properties !== undefined) out.properties = properties(schema.properties, schema.propertyOrdering, `${param}.properties`);
  if (schema.items !== undefined) out.items = toJsonSchema(schema.items, `${param}.items`);
  if (schema.anyOf !== undefined) {
    if (!Array.isArray(schema.anyOf)) throw badRequest(`'${param}.anyOf' must be a list of schemas`, `${param}.anyOf`);
    out.anyOf = schema.anyOf.map((s, i) => toJsonSchema(s, `${param}.anyOf[${i}]`));
  }
  if (schema.example !== undefined) out.examples = [schema.example];
  return out;
}

function typeName(value: unknown, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`'${param}' must be a type name such as OBJECT or STRING`, param);
  const name = value.toLowerCase();
  if (name === 'type_unspecified') return undefined;
  if (!['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'].includes(name)) throw badRequest(`'${param}' '${value}' is not a Gemini Schema type`, param);
  return name;
}

/** Gemini answers in propertyOrdering's order; other providers follow the order of `properties`, so that is set. */
function properties(value: unknown, ordering: unknown, param: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw badRequest(`'${param}' must map property names to schemas`, param);
  const names = Object.keys(value);
  const order = Array.isArray(ordering) ? [...ordering.filter((n): n is string => typeof n === 'string' && n in value), ...names.filter((n) => !ordering.includes(n))] : names;
  return Object.fromEntries(order.map((name) => [name, toJsonSchema(value[name], `${param}.${name}`)]));
}

/** int64 fields arrive as numbers from SDKs and as decimal strings in proto JSON. */
function count(value: unknown, param: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw badRequest(`'${param}' must be a non-negative integer`, param);
  return n;
}
