// The JSON text a canonical object was parsed from, kept beside it so that what arrived already in the canonical
// (OpenAI) format is sent on byte for byte instead of being serialised again: parse-then-stringify was a tenth of the
// gateway's CPU on OpenAI-wire traffic. Canonical objects are treated as immutable once built; a stage that changes
// one builds a new object, which then has no remembered text and is serialised.

const texts = new WeakMap<object, string>();

export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (value !== null && typeof value === 'object') texts.set(value, text);
  return value;
}

export function jsonText(value: object): string {
  return texts.get(value) ?? JSON.stringify(value);
}
