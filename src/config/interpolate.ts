// ${VAR} and ${VAR:-default} in the configuration file. References are swapped for inert placeholder tokens before the
// YAML is parsed (`{ api_key: ${KEY} }` is otherwise a YAML syntax error: `{` opens a flow map), and the values are put
// into the parsed strings afterwards, so a secret containing `:` or a newline can never change the document's
// structure. Line numbers stay those of the file.

export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

interface Reference {
  name: string;
  fallback: string | undefined;
}

export interface Template {
  /** The YAML text with each reference replaced by a placeholder token. */
  text: string;
  references: Reference[];
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const PLACEHOLDER = /__SWITCHBOARD_ENV_(\d+)__/g;
const HAS_PLACEHOLDER = /__SWITCHBOARD_ENV_\d+__/;

/** `$$` stands for a literal `$`. */
export function extractReferences(text: string): Template {
  const references: Reference[] = [];
  const out = text.replace(REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    references.push({ name: name!, fallback });
    return `__SWITCHBOARD_ENV_${references.length - 1}__`;
  });
  return { text: out, references };
}

function substitute(value: string, template: Template, env: NodeJS.ProcessEnv, path: (string | number)[], problems: InterpolationProblem[]) {
  let unset = false;
  const out = value.replace(PLACEHOLDER, (_whole, index: string) => {
    const { name, fallback } = template.references[Number(index)]!;
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    unset = true;
    problems.push({ path, message: `environment variable ${name} is not set (export it, or write \${${name}:-default}; \${${name}:-} makes it optional)` });
    return '';
  });
  return unset ? undefined : out;
}

/**
 * Returns a copy of the parsed document with every reference filled in. Values stay strings (`port: ${PORT}` gives
 * "4100"); the schema coerces the fields that are numbers or booleans, so a quoted all-digit secret stays a string.
 * A reference to an unset variable with no default is a problem: silently leaving the setting out could, for a
 * base_url, send a provider key to the default host.
 */
export function interpolate(
  value: unknown,
  template: Template,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[] = [],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return substitute(value, template, env, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, template, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (HAS_PLACEHOLDER.test(k)) problems.push({ path, message: 'a key here uses ${…}; environment references are only allowed in values' });
      const r = interpolate(v, template, env, problems, [...path, k]);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}
