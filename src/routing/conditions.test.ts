import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compileCondition, conditionSchema, type RoutingFacts } from './conditions.ts';

function facts(over: Partial<RoutingFacts> = {}): RoutingFacts {
  return { headers: {}, tags: [], params: {}, ...over };
}

function matches(when: unknown, over: Partial<RoutingFacts> = {}): boolean {
  return compileCondition(conditionSchema.parse(when))(facts(over));
}

/** The schema's issues as "dotted.path: message". */
function problems(when: unknown): string[] {
  const result = conditionSchema.safeParse(when);
  assert.equal(result.success, false, 'expected a schema error');
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

test('a bare value parses to $eq, and and/or keep their shape', () => {
  assert.deepEqual(conditionSchema.parse({ 'metadata.tier': 'premium', team: { $ne: 'x', $gt: '5' } }), {
    fields: [
      { field: 'metadata.tier', is: { $eq: 'premium' } },
      { field: 'team', is: { $ne: 'x', $gt: 5 } },
    ],
  });
  assert.deepEqual(conditionSchema.parse({ or: [{ and: [{ tags: 'a' }] }, { team: null }] }), {
    or: [{ and: [{ fields: [{ field: 'tags', is: { $eq: 'a' } }] }] }, { fields: [{ field: 'team', is: { $eq: null } }] }],
  });
});

test('$eq, bare or explicit, for strings, numbers, booleans and null', () => {
  assert.equal(matches({ 'metadata.tier': 'premium' }, { metadata: { tier: 'premium' } }), true);
  assert.equal(matches({ 'metadata.tier': 'premium' }, { metadata: { tier: 'basic' } }), false);
  assert.equal(matches({ 'params.max_tokens': { $eq: 100 } }, { params: { max_tokens: 100 } }), true);
  assert.equal(matches({ 'params.max_tokens': { $eq: 100 } }, { params: { max_tokens: 101 } }), false);
  assert.equal(matches({ 'params.stream': true }, { params: { stream: true } }), true);
  assert.equal(matches({ 'params.stream': true }, { params: { stream: false } }), false);
  assert.equal(matches({ 'params.user': null }, { params: { user: null } }), true);
  assert.equal(matches({ 'params.user': null }, { params: { user: 'u' } }), false);
  assert.equal(matches({ team: 'research' }, { team: 'research' }), true);
  assert.equal(matches({ team: 'research' }, { team: 'Research' }), false);
});

test('$ne holds for a different value and fails for an equal one', () => {
  assert.equal(matches({ team: { $ne: 'research' } }, { team: 'sales' }), true);
  assert.equal(matches({ team: { $ne: 'research' } }, { team: 'research' }), false);
  assert.equal(matches({ 'params.temperature': { $ne: 0 } }, { params: { temperature: 0.5 } }), true);
  assert.equal(matches({ 'params.temperature': { $ne: 0 } }, { params: { temperature: 0 } }), false);
});

test('$in and $nin', () => {
  const env = { 'headers.x-env': { $in: ['staging', 'dev'] } };
  assert.equal(matches(env, { headers: { 'x-env': 'dev' } }), true);
  assert.equal(matches(env, { headers: { 'x-env': 'prod' } }), false);
  const notEnv = { 'headers.x-env': { $nin: ['staging', 'dev'] } };
  assert.equal(matches(notEnv, { headers: { 'x-env': 'prod' } }), true);
  assert.equal(matches(notEnv, { headers: { 'x-env': 'staging' } }), false);
  assert.equal(matches({ 'params.n': { $in: [1, 2] } }, { params: { n: 2 } }), true);
  assert.equal(matches({ 'params.n': { $in: [1, 2] } }, { params: { n: 3 } }), false);
});

test('$regex tests strings only', () => {
  const gpt = { 'params.model': { $regex: '^gpt-' } };
  assert.equal(matches(gpt, { params: { model: 'gpt-4o' } }), true);
  assert.equal(matches(gpt, { params: { model: 'claude-gpt-' } }), false);
  assert.equal(matches({ 'params.max_tokens': { $regex: '^4' } }, { params: { max_tokens: 4000 } }), false);
  assert.equal(matches({ 'params.max_tokens': { $regex: '^4' } }, { params: { max_tokens: '4000' } }), true);
});

test('$gt, $gte, $lt and $lte at and around their bounds', () => {
  const at = (op: string, operand: number, value: unknown) => matches({ 'params.max_tokens': { [op]: operand } }, { params: { max_tokens: value } });
  assert.deepEqual([at('$gt', 4000, 4001), at('$gt', 4000, 4000), at('$gt', 4000, 3999)], [true, false, false]);
  assert.deepEqual([at('$gte', 4000, 4001), at('$gte', 4000, 4000), at('$gte', 4000, 3999)], [true, true, false]);
  assert.deepEqual([at('$lt', 0.5, 0.4), at('$lt', 0.5, 0.5), at('$lt', 0.5, 0.6)], [true, false, false]);
  assert.deepEqual([at('$lte', 0.5, 0.4), at('$lte', 0.5, 0.5), at('$lte', 0.5, 0.6)], [true, true, false]);
});

test('comparisons read a decimal string as its number and fail on anything else', () => {
  const big = { 'headers.x-budget': { $gt: 1000 } };
  assert.equal(matches(big, { headers: { 'x-budget': '1500' } }), true);
  assert.equal(matches(big, { headers: { 'x-budget': '999' } }), false);
  // Numerically, not as text: "999" > "1000" as strings.
  assert.equal(matches({ 'headers.x-budget': { $lt: 1000 } }, { headers: { 'x-budget': '999' } }), true);
  assert.equal(matches(big, { headers: { 'x-budget': '1.5e3' } }), true);
  assert.equal(matches({ 'headers.x-budget': { $lt: 0 } }, { headers: { 'x-budget': '-0.5' } }), true);
  for (const notANumber of ['', ' 1500', '0x5dc', 'Infinity', '1500 tokens', 'abc']) {
    assert.equal(matches(big, { headers: { 'x-budget': notANumber } }), false, JSON.stringify(notANumber));
    assert.equal(matches({ 'headers.x-budget': { $lt: 1e9 } }, { headers: { 'x-budget': notANumber } }), false, JSON.stringify(notANumber));
  }
  assert.equal(matches({ 'params.stream': { $lt: 5 } }, { params: { stream: true } }), false);
  assert.equal(matches({ 'params.x': { $gte: 0 } }, { params: { x: null } }), false);
  assert.equal(matches({ 'params.x': { $gte: 0 } }, { params: { x: { n: 1 } } }), false);
});

test('a comparison operand may be a decimal string, as a ${VAR} reference gives it', () => {
  assert.deepEqual(conditionSchema.parse({ 'params.max_tokens': { $gt: '4000', $lte: '1e5' } }), {
    fields: [{ field: 'params.max_tokens', is: { $gt: 4000, $lte: 100000 } }],
  });
  assert.deepEqual(problems({ 'params.max_tokens': { $gt: 'lots' } }), ['params.max_tokens.$gt: expected a number']);
  assert.deepEqual(problems({ 'params.max_tokens': { $gt: true } }), ['params.max_tokens.$gt: expected a number']);
});

test('$exists', () => {
  assert.equal(matches({ 'metadata.trace': { $exists: true } }, { metadata: { trace: 'x' } }), true);
  assert.equal(matches({ 'metadata.trace': { $exists: true } }, { metadata: {} }), false);
  assert.equal(matches({ 'metadata.trace': { $exists: false } }, { metadata: {} }), true);
  assert.equal(matches({ 'metadata.trace': { $exists: false } }, { metadata: { trace: null } }), false);
  assert.equal(matches({ team: { $exists: 'true' } }, { team: 't' }), true);
});

test('every operator in one map must hold, and every field in one condition', () => {
  const range = { 'params.max_tokens': { $gte: 100, $lt: 200 } };
  assert.deepEqual([50, 100, 150, 200].map((n) => matches(range, { params: { max_tokens: n } })), [false, true, true, false]);
  const both = { team: 'research', 'params.model': { $regex: '^gpt-' } };
  assert.equal(matches(both, { team: 'research', params: { model: 'gpt-4o' } }), true);
  assert.equal(matches(both, { team: 'research', params: { model: 'claude' } }), false);
  assert.equal(matches(both, { team: 'sales', params: { model: 'gpt-4o' } }), false);
});

test('and / or nest to any depth', () => {
  const when = {
    or: [
      { and: [{ team: 'research' }, { or: [{ tags: 'gpu' }, { and: [{ 'params.stream': true }, { 'params.n': { $gt: 1 } }] }] }] },
      { 'headers.x-force': 'yes' },
    ],
  };
  assert.equal(matches(when, { headers: { 'x-force': 'yes' } }), true);
  assert.equal(matches(when, { team: 'research', tags: ['gpu'] }), true);
  assert.equal(matches(when, { team: 'research', params: { stream: true, n: 2 } }), true);
  assert.equal(matches(when, { team: 'research', params: { stream: true, n: 1 } }), false);
  assert.equal(matches(when, { team: 'sales', tags: ['gpu'] }), false);
  assert.equal(matches({ and: [{ team: 'a' }] }, { team: 'a' }), true);
  assert.equal(matches({ or: [{ team: 'a' }, { team: 'b' }] }, { team: 'c' }), false);
});

test('array facts: $eq, $in and $regex need one element; $ne and $nin need none', () => {
  const tags = ['prod', 'eu'];
  assert.equal(matches({ tags: 'eu' }, { tags }), true);
  assert.equal(matches({ tags: 'us' }, { tags }), false);
  assert.equal(matches({ tags: { $ne: 'eu' } }, { tags }), false);
  assert.equal(matches({ tags: { $ne: 'us' } }, { tags }), true);
  assert.equal(matches({ tags: { $in: ['us', 'eu'] } }, { tags }), true);
  assert.equal(matches({ tags: { $in: ['us', 'ap'] } }, { tags }), false);
  assert.equal(matches({ tags: { $nin: ['restricted'] } }, { tags }), true);
  assert.equal(matches({ tags: { $nin: ['restricted', 'prod'] } }, { tags }), false);
  assert.equal(matches({ tags: { $regex: '^e' } }, { tags }), true);
  assert.equal(matches({ tags: { $regex: '^x' } }, { tags }), false);
  // No tags: nothing matches, and nothing is excluded.
  assert.equal(matches({ tags: { $in: ['prod'] } }, { tags: [] }), false);
  assert.equal(matches({ tags: { $nin: ['prod'] } }, { tags: [] }), true);

  const twice = { headers: { 'x-env': ['prod', 'dev'] } };
  assert.equal(matches({ 'headers.x-env': 'dev' }, twice), true);
  assert.equal(matches({ 'headers.x-env': { $ne: 'dev' } }, twice), false);
  assert.equal(matches({ 'headers.x-env': { $gt: 1 } }, { headers: { 'x-env': ['a', '2'] } }), true);

  const metadata = { regions: ['eu-west', 'us-east'], sizes: [1, 50] };
  assert.equal(matches({ 'metadata.regions': { $regex: '^us-' } }, { metadata }), true);
  assert.equal(matches({ 'metadata.sizes': { $gt: 10 } }, { metadata }), true);
  assert.equal(matches({ 'metadata.sizes': { $gt: 100 } }, { metadata }), false);
});

test('a missing fact fails $eq, $in, $regex and comparisons, and passes $ne and $nin', () => {
  const absent: [string, Partial<RoutingFacts>][] = [
    ['metadata.tier', {}],
    ['metadata.tier', { metadata: {} }],
    ['metadata.user.tier', { metadata: { user: 'flat' } }],
    ['metadata.user.tier', { metadata: { user: [{ tier: 'x' }] } }],
    ['headers.x-env', { headers: { 'x-env': undefined } }],
    ['params.max_tokens', {}],
    ['team', {}],
  ];
  for (const [field, over] of absent) {
    const at = (operand: unknown) => matches({ [field]: operand }, over);
    const label = `${field} in ${JSON.stringify(over)}`;
    assert.equal(at('x'), false, label);
    assert.equal(at({ $in: ['x'] }), false, label);
    assert.equal(at({ $regex: '.*' }), false, label);
    assert.equal(at({ $gt: -1e9 }), false, label);
    assert.equal(at({ $lte: 1e9 }), false, label);
    assert.equal(at({ $ne: 'x' }), true, label);
    assert.equal(at({ $nin: ['x'] }), true, label);
    assert.equal(at({ $exists: false }), true, label);
  }
});

test('metadata and params paths go into nested objects, own properties only', () => {
  const metadata = { user: { plan: { tier: 'gold' } } };
  assert.equal(matches({ 'metadata.user.plan.tier': 'gold' }, { metadata }), true);
  assert.equal(matches({ 'metadata.user.plan.tier': 'silver' }, { metadata }), false);
  assert.equal(matches({ 'params.response_format.type': 'json_schema' }, { params: { response_format: { type: 'json_schema' } } }), true);
  assert.equal(matches({ 'metadata.constructor': { $exists: true } }, { metadata: {} }), false);
  assert.equal(matches({ 'metadata.user.toString': { $exists: true } }, { metadata }), false);
});

test('header names match case-insensitively', () => {
  assert.equal(matches({ 'headers.X-Env': 'staging' }, { headers: { 'x-env': 'staging' } }), true);
  assert.equal(matches({ 'headers.X-ENV': { $in: ['staging'] } }, { headers: { 'x-env': 'staging' } }), true);
  assert.equal(matches({ 'headers.X-Env': 'staging' }, { headers: { 'x-other': 'staging' } }), false);
  // Values are not names: they still compare exactly.
  assert.equal(matches({ 'headers.x-env': 'staging' }, { headers: { 'x-env': 'Staging' } }), false);
});

test('a string equals a number or boolean when it is its String() form', () => {
  assert.equal(matches({ 'headers.x-n': 5 }, { headers: { 'x-n': '5' } }), true);
  assert.equal(matches({ 'headers.x-n': 5 }, { headers: { 'x-n': '5.0' } }), false);
  assert.equal(matches({ 'headers.x-n': 5 }, { headers: { 'x-n': '6' } }), false);
  assert.equal(matches({ 'headers.x-n': 0.5 }, { headers: { 'x-n': '0.5' } }), true);
  assert.equal(matches({ 'headers.x-debug': true }, { headers: { 'x-debug': 'true' } }), true);
  assert.equal(matches({ 'headers.x-debug': true }, { headers: { 'x-debug': '1' } }), false);
  assert.equal(matches({ 'headers.x-n': { $in: [1, 5] } }, { headers: { 'x-n': '5' } }), true);
  assert.equal(matches({ 'headers.x-n': { $ne: 5 } }, { headers: { 'x-n': '5' } }), false);
  assert.equal(matches({ 'headers.x-n': { $nin: [5] } }, { headers: { 'x-n': '5' } }), false);
  // The other way round too: a quoted literal (or a ${VAR}) against a number or boolean in the body.
  assert.equal(matches({ 'params.max_tokens': '100' }, { params: { max_tokens: 100 } }), true);
  assert.equal(matches({ 'params.max_tokens': '100.0' }, { params: { max_tokens: 100 } }), false);
  assert.equal(matches({ 'params.stream': 'false' }, { params: { stream: false } }), true);
  assert.equal(matches({ 'params.stream': 'false' }, { params: { stream: true } }), false);
  // null is only null.
  assert.equal(matches({ 'headers.x-n': null }, { headers: { 'x-n': 'null' } }), false);
  assert.equal(matches({ 'params.user': 'null' }, { params: { user: null } }), false);
});

test('a compiled matcher builds no regex and splits or lowercases nothing when it runs', () => {
  const match = compileCondition(
    conditionSchema.parse({
      or: [{ 'metadata.a.b': { $regex: '^x' } }, { 'headers.X-Env': { $regex: 'y$' } }, { 'params.a.b': { $gt: 1 } }],
    }),
  );
  const all = facts({ metadata: { a: { b: 'q' } }, headers: { 'x-env': 'q' }, params: { a: { b: '0' } } });
  const OriginalRegExp = globalThis.RegExp;
  const { split, toLowerCase } = String.prototype;
  let calls = 0;
  globalThis.RegExp = new Proxy(OriginalRegExp, {
    construct(target, args) {
      calls++;
      return new target(...(args as [string]));
    },
    apply(target, _this, args) {
      calls++;
      return target(...(args as [string]));
    },
  });
  String.prototype.split = function (this: string, ...args: Parameters<typeof split>) {
    calls++;
    return split.apply(this, args);
  } as typeof split;
  String.prototype.toLowerCase = function (this: string) {
    calls++;
    return toLowerCase.call(this);
  };
  let result;
  try {
    result = [match(all), match(all), match(facts({ headers: { 'x-env': 'ay' } }))];
  } finally {
    globalThis.RegExp = OriginalRegExp;
    String.prototype.split = split;
    String.prototype.toLowerCase = toLowerCase;
  }
  assert.deepEqual(result, [false, false, true]);
  assert.equal(calls, 0);
});

test('the rules from YAML, as operators write them', () => {
  const { rules } = parseYaml(`
rules:
  - when: { metadata.tier: premium }
    use: big-model
  - when: { or: [ { headers.x-env: { $in: [staging, dev] } }, { params.max_tokens: { $gt: 4000 } } ] }
    use: cheap-model
  - when: { and: [ { team: research }, { tags: { $nin: [restricted] } }, { params.model: { $regex: "^gpt-" } } ] }
    use: other
`) as { rules: { when: unknown; use: string }[] };
  const compiled = rules.map((r) => ({ match: compileCondition(conditionSchema.parse(r.when)), use: r.use }));
  const route = (f: Partial<RoutingFacts>) => compiled.find((r) => r.match(facts(f)))?.use;
  assert.equal(route({ metadata: { tier: 'premium' } }), 'big-model');
  assert.equal(route({ headers: { 'x-env': 'dev' } }), 'cheap-model');
  assert.equal(route({ params: { max_tokens: 8000 } }), 'cheap-model');
  assert.equal(route({ params: { max_tokens: 4000 } }), undefined);
  assert.equal(route({ team: 'research', tags: ['a'], params: { model: 'gpt-4o' } }), 'other');
  assert.equal(route({ team: 'research', tags: ['restricted'], params: { model: 'gpt-4o' } }), undefined);
});

test('an unknown root is an error at that key naming the fields', () => {
  assert.deepEqual(problems({ 'body.model': 'x' }), [
    'body.model: unknown field "body.model"; a field is metadata.<key>, params.<name>, headers.<name>, tags or team (or combine conditions with and / or)',
  ]);
  assert.deepEqual(problems({ AND: [] }), [
    'AND: unknown field "AND"; a field is metadata.<key>, params.<name>, headers.<name>, tags or team (or combine conditions with and / or)',
  ]);
  assert.deepEqual(problems({ 'tags.0': 'x' }), ['tags.0: tags has no sub-fields; write tags alone']);
  assert.deepEqual(problems({ metadata: { tier: 'x' } }), ['metadata: metadata needs a key: metadata.<key>, a dot before each nested key']);
  assert.deepEqual(problems({ 'params.a..b': 1 }), ['params.a..b: params needs a key: params.<key>, a dot before each nested key']);
  assert.deepEqual(problems({ 'headers.': 'x' }), ['headers.: headers needs a header name: headers.<name>']);
  assert.deepEqual(problems({ 'headers.x env': 'x' }), ['headers.x env: headers needs a header name: headers.<name>']);
});

test('an unknown or missing operator is an error at its key listing the operators', () => {
  const list = '$eq, $ne, $in, $nin, $regex, $gt, $gte, $lt, $lte, $exists';
  assert.deepEqual(problems({ team: { $eq: 'a', $like: 'b%' } }), [`team.$like: unknown operator $like; the operators are ${list}`]);
  assert.deepEqual(problems({ 'metadata.user': { tier: 'gold' } }), [
    `metadata.user.tier: unknown operator tier; the operators are ${list} (to test a value inside an object, extend the field path: metadata.user.tier)`,
  ]);
  assert.deepEqual(problems({ team: {} }), [`team: no operators; give at least one of ${list}`]);
});

test('an invalid regex is an error at its $regex', () => {
  assert.deepEqual(problems({ 'params.model': { $regex: '^gpt-(' } }), ['params.model.$regex: Invalid regular expression: /^gpt-(/: Unterminated group']);
  assert.deepEqual(problems({ 'params.model': { $regex: 5 } }), ['params.model.$regex: expected a regular expression, as a string']);
});

test('and / or beside other keys is an error that says how to write it', () => {
  assert.deepEqual(problems({ and: [{ team: 'a' }], tags: 'x' }), [': and cannot share a condition with other keys (tags); move them into the and list']);
  assert.deepEqual(problems({ or: [{ team: 'a' }], tags: 'x' }), [
    ': or cannot share a condition with other keys (tags); to require both, write { and: [ { or: [...] }, { tags: ... } ] }',
  ]);
  assert.deepEqual(problems({ or: [{ team: 'a' }], and: [{ tags: 'x' }] }), [': and cannot share a condition with other keys (or); move them into the and list']);
});

test('other malformed conditions are errors at their paths', () => {
  assert.deepEqual(problems({}), [': an empty condition; give at least one field (metadata.<key>, params.<name>, headers.<name>, tags or team), or and / or']);
  assert.deepEqual(problems({ or: [] }), ['or: or takes a non-empty list of conditions']);
  assert.deepEqual(problems({ and: { team: 'a' } }), ['and: and takes a non-empty list of conditions']);
  assert.deepEqual(problems('team'), [': a condition is a map: { and: [...] }, { or: [...] } or { <field>: <value or operators> }']);
  assert.deepEqual(problems({ or: [[{ team: 'a' }]] }), [
    'or.0: a condition is a map: { and: [...] }, { or: [...] } or { <field>: <value or operators> }; a list of conditions goes under and: or or:',
  ]);
  assert.deepEqual(problems({ tags: ['a', 'b'] }), ['tags: a list is not a value to match; to match any of several values write { $in: [...] }']);
  assert.deepEqual(problems({ tags: { $in: 'a' } }), ['tags.$in: expected a list of values']);
  assert.deepEqual(problems({ tags: { $nin: [] } }), ['tags.$nin: expected at least one value']);
  assert.deepEqual(problems({ 'params.n': Number.NaN }), ['params.n: expected a string, number, boolean or null']);
  assert.deepEqual(problems({ team: { $exists: 'maybe' } }), ['team.$exists: expected true or false']);
});

test('every problem is reported, each under the path of the rule that embeds the condition', () => {
  const rules = z.array(z.object({ when: conditionSchema, use: z.string() }).strict());
  const result = rules.safeParse([
    { when: { team: 'a' }, use: 'm' },
    { when: { or: [{ team: 'a' }, { and: [{ 'body.x': 1 }, { tags: { $regex: '[' } }] }] }, use: 'm' },
  ]);
  assert.equal(result.success, false);
  assert.deepEqual(
    result.error!.issues.map((i) => i.path),
    [
      [1, 'when', 'or', 1, 'and', 0, 'body.x'],
      [1, 'when', 'or', 1, 'and', 1, 'tags', '$regex'],
    ],
  );
});
