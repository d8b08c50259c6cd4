// The `when:` of a conditional routing rule. Operators write these in YAML and every request runs them, so the work is
// split in two. The schema turns the terse YAML (a bare value for $eq, field paths as dotted keys) into one explicit
// shape and reports each mistake at its own YAML path, so the config loader can name the line. It is parsed by hand
// rather than as a z.union of node shapes, because a union that fails reports every branch's failure, not the one
// mistake. compileCondition then does everything that does not depend on the request (splitting paths, lowercasing
// header names, building regexes, reading literals) once, so a match only reads properties and compares.
//
// The operators are MongoDB's, which operators are likely to know, with the same reading of missing and array facts:
// $ne and $nin hold when the fact is missing, and against an array (tags, a header sent twice, a metadata list) the
// other operators need one element to match while $ne and $nin need none to. Unlike MongoDB, null is a value, not
// a missing fact; $exists tests presence. Header values are always strings, and that drives how types meet: a string
// equals a number or boolean when it is that value's String() form ("5" = 5, "true" = true), and $gt/$gte/$lt/$lte
// read a decimal string ("4000", "-1.5", "2e3") as its number.

import { z } from 'zod';

/** What a rule can look at for one request. */
export interface RoutingFacts {
  /** The request body's `metadata` object, if any. */
  metadata?: Record<string, unknown> | undefined;
  /** Request headers, names lowercase (as Node gives them). */
  headers: Record<string, string | string[] | undefined>;
  /** The virtual key's tags. */
  tags: readonly string[];
  /** The team id or name of the caller, if any. */
  team?: string | undefined;
  /** The request body's top-level parameters (model, temperature, max_tokens, stream, user, ...). */
  params: Record<string, unknown>;
}

/** metadata and params paths go one object deeper per dot; a header name is everything after `headers.`. */
export type FieldPath = 'tags' | 'team' | `metadata.${string}` | `params.${string}` | `headers.${string}`;

export type Literal = string | number | boolean | null;

// Hex, Infinity, the empty string and padded text are not numbers here, though Number() would take them.
const DECIMAL = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEADER_NAME = /^[!#$%&'*+.^`|~\w-]+$/;
const FIELD_FORMS = 'metadata.<key>, params.<name>, headers.<name>, tags or team';

const literalSchema: z.ZodType<Literal> = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'expected a string, number, boolean or null',
});
const listSchema = z.array(literalSchema, { error: 'expected a list of values' }).min(1, 'expected at least one value');
// A ${VAR} reference always arrives as a string, so a number written through one is taken in its decimal form.
const numberSchema = z.union([z.number(), z.string().regex(DECIMAL).transform(Number)], { error: 'expected a number' });

const operatorsSchema = z.object({
  $eq: literalSchema.optional(),
  $ne: literalSchema.optional(),
  $in: listSchema.optional(),
  $nin: listSchema.optional(),
  $regex: z
    .string({ error: 'expected a regular expression, as a string' })
    .superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as SyntaxError).message });
      }
    })
    .optional(),
  $gt: numberSchema.optional(),
  $gte: numberSchema.optional(),
  $lt: numberSchema.optional(),
  $lte: numberSchema.optional(),
  $exists: z.union([z.boolean(), z.stringbool()], { error: 'expected true or false' }).optional(),
});

/** Every operator present must hold. */
export type Operators = z.output<typeof operatorsSchema>;
const OPERATORS = Object.keys(operatorsSchema.shape);

export interface FieldTest {
  readonly field: FieldPath;
  readonly is: Operators;
}

/** The parsed form: every field test in `fields` must hold. */
export type Condition =
  | { readonly and: readonly Condition[] }
  | { readonly or: readonly Condition[] }
  | { readonly fields: readonly FieldTest[] };

type Path = PropertyKey[];
type Report = (path: Path, message: string) => void;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldProblem(key: string): string | undefined {
  const dot = key.indexOf('.');
  const root = dot < 0 ? key : key.slice(0, dot);
  const rest = dot < 0 ? undefined : key.slice(dot + 1);
  switch (root) {
    case 'tags':
    case 'team':
      return rest === undefined ? undefined : `${root} has no sub-fields; write ${root} alone`;
    case 'headers':
      return rest !== undefined && HEADER_NAME.test(rest) ? undefined : 'headers needs a header name: headers.<name>';
    case 'metadata':
    case 'params':
      return rest !== undefined && !rest.split('.').includes('') ? undefined : `${root} needs a key: ${root}.<key>, a dot before each nested key`;
    default:
      return `unknown field "${key}"; a field is ${FIELD_FORMS} (or combine conditions with and / or)`;
  }
}

function parseOperand(field: string, value: unknown, path: Path, report: Report): Operators | undefined {
  if (Array.isArray(value)) {
    report(path, 'a list is not a value to match; to match any of several values write { $in: [...] }');
    return undefined;
  }
  if (!isMap(value)) {
    const literal = literalSchema.safeParse(value);
    if (literal.success) return { $eq: literal.data };
    report(path, literal.error.issues[0]!.message);
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    report(path, `no operators; give at least one of ${OPERATORS.join(', ')}`);
    return undefined;
  }
  // Checked here rather than by a strict object, so each unknown key is reported at its own path (and line).
  const unknown = keys.filter((k) => !OPERATORS.includes(k));
  for (const k of unknown) {
    const nested = !k.startsWith('$') && (field.startsWith('metadata.') || field.startsWith('params.'));
    const hint = nested ? ` (to test a value inside an object, extend the field path: ${field}.${k})` : '';
    report([...path, k], `unknown operator ${k}; the operators are ${OPERATORS.join(', ')}${hint}`);
  }
  const parsed = operatorsSchema.safeParse(value);
  if (!parsed.success) for (const issue of parsed.error.issues) report([...path, ...issue.path], issue.message);
  return unknown.length === 0 && parsed.success ? parsed.data : undefined;
}

function parseCondition(value: unknown, path: Path, report: Report): Condition | undefined {
  if (!isMap(value)) {
    const hint = Array.isArray(value) ? '; a list of conditions goes under and: or or:' : '';
    report(path, `a condition is a map: { and: [...] }, { or: [...] } or { <field>: <value or operators> }${hint}`);
    return undefined;
  }
  const keys = Object.keys(value);
  const joiner = Object.hasOwn(value, 'and') ? 'and' : Object.hasOwn(value, 'or') ? 'or' : undefined;
  if (joiner !== undefined) {
    const others = keys.filter((k) => k !== joiner);
    if (others.length > 0) {
      // Beside `or`, the other keys would have to hold as well, which is an `and` of the two.
      const fix = joiner === 'and' ? 'move them into the and list' : `to require both, write { and: [ { or: [...] }, { ${others[0]}: ... } ] }`;
      report(path, `${joiner} cannot share a condition with other keys (${others.join(', ')}); ${fix}`);
      return undefined;
    }
    const list = value[joiner];
    if (!Array.isArray(list) || list.length === 0) {
      report([...path, joiner], `${joiner} takes a non-empty list of conditions`);
      return undefined;
    }
    const children = list.map((c, i) => parseCondition(c, [...path, joiner, i], report));
    if (children.includes(undefined)) return undefined;
    return joiner === 'and' ? { and: children as Condition[] } : { or: children as Condition[] };
  }
  if (keys.length === 0) {
    report(path, `an empty condition; give at least one field (${FIELD_FORMS}), or and / or`);
    return undefined;
  }
  const fields: FieldTest[] = [];
  let ok = true;
  for (const key of keys) {
    const problem = fieldProblem(key);
    if (problem !== undefined) report([...path, key], problem);
    const is = problem === undefined ? parseOperand(key, value[key], [...path, key], report) : undefined;
    if (is === undefined) ok = false;
    else fields.push({ field: key as FieldPath, is });
  }
  return ok ? { fields } : undefined;
}

/** Validates and parses a condition as written in YAML. */
export const conditionSchema: z.ZodType<Condition> = z.unknown().transform((value, ctx) => {
  const condition = parseCondition(value, [], (path, message) => ctx.addIssue({ code: 'custom', message, path }));
  return condition ?? z.NEVER;
});

export type Matcher = (facts: RoutingFacts) => boolean;
type Test = (value: unknown) => boolean;

// Indexed loops: a for-of makes an iterator per call until the optimiser removes it.
function all<A>(tests: ((a: A) => boolean)[]): (a: A) => boolean {
  if (tests.length === 1) return tests[0]!;
  return (a) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(a)) return false;
    return true;
  };
}

function any<A>(tests: ((a: A) => boolean)[]): (a: A) => boolean {
  if (tests.length === 1) return tests[0]!;
  return (a) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(a)) return true;
    return false;
  };
}

const anyElement = (test: Test): Test => (v) => (Array.isArray(v) ? v.some(test) : test(v));
const none = (test: Test): Test => {
  const some = anyElement(test);
  return (v) => !some(v);
};

/** A string equals a number or boolean when it is that value's String() form; both sides are worked out here. */
function equals(literal: Literal): Test {
  if (typeof literal === 'string') {
    const asNumber = Number(literal);
    const numberForm = String(asNumber) === literal;
    const asBoolean = literal === 'true' ? true : literal === 'false' ? false : undefined;
    return (v) => v === literal || (numberForm && v === asNumber) || (asBoolean !== undefined && v === asBoolean);
  }
  if (literal === null) return (v) => v === null;
  const text = String(literal);
  return (v) => v === literal || v === text;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && DECIMAL.test(v) ? Number(v) : undefined;
}

const compare = (holds: (x: number) => boolean): Test =>
  anyElement((v) => {
    const x = toNumber(v);
    return x !== undefined && holds(x);
  });

function compileOperators(is: Operators): Test {
  const tests: Test[] = [];
  if (is.$eq !== undefined) tests.push(anyElement(equals(is.$eq)));
  if (is.$ne !== undefined) tests.push(none(equals(is.$ne)));
  if (is.$in !== undefined) tests.push(anyElement(any(is.$in.map(equals))));
  if (is.$nin !== undefined) tests.push(none(any(is.$nin.map(equals))));
  if (is.$regex !== undefined) {
    const re = new RegExp(is.$regex);
    tests.push(anyElement((v) => typeof v === 'string' && re.test(v)));
  }
  const { $gt: gt, $gte: gte, $lt: lt, $lte: lte, $exists: exists } = is;
  if (gt !== undefined) tests.push(compare((x) => x > gt));
  if (gte !== undefined) tests.push(compare((x) => x >= gte));
  if (lt !== undefined) tests.push(compare((x) => x < lt));
  if (lte !== undefined) tests.push(compare((x) => x <= lte));
  if (exists !== undefined) tests.push((v) => (v !== undefined) === exists);
  return all(tests);
}

function dig(value: unknown, keys: readonly string[]): unknown {
  let v = value;
  for (let i = 0; i < keys.length; i++) {
    // Own properties only, or metadata.constructor would find Object.prototype's. An array mid-path is not entered.
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, keys[i]!)) return undefined;
    v = (v as Record<string, unknown>)[keys[i]!];
  }
  return v;
}

function reader(field: FieldPath): (facts: RoutingFacts) => unknown {
  if (field === 'tags') return (f) => f.tags;
  if (field === 'team') return (f) => f.team;
  const dot = field.indexOf('.');
  const rest = field.slice(dot + 1);
  switch (field.slice(0, dot)) {
    case 'headers': {
      // Node lowercases header names, so lowercasing the rule's makes the match case-insensitive.
      const name = [rest.toLowerCase()];
      return (f) => dig(f.headers, name);
    }
    case 'metadata': {
      const keys = rest.split('.');
      return (f) => dig(f.metadata, keys);
    }
    case 'params': {
      const keys = rest.split('.');
      return (f) => dig(f.params, keys);
    }
  }
  throw new Error(`unknown routing field "${field}"; a field is ${FIELD_FORMS}`);
}

function compileField({ field, is }: FieldTest): Matcher {
  const read = reader(field);
  const test = compileOperators(is);
  return (facts) => test(read(facts));
}

/** A condition from conditionSchema as a function of the request's facts. */
export function compileCondition(cond: Condition): Matcher {
  if ('and' in cond) return all(cond.and.map(compileCondition));
  if ('or' in cond) return any(cond.or.map(compileCondition));
  return all(cond.fields.map(compileField));
}
