// Masks what looks like a secret in a captured request or response body before it is journaled or stored: provider
// and gateway API keys, bearer tokens, cloud and code-host credentials, private keys, and the values of fields named
// like secrets. Bodies are JSON text, and a prompt may itself quote JSON, so field names are also matched with their
// quotes escaped. A false positive only hides a little of a log; a false negative keeps a secret, so the patterns
// lean towards masking.

export const MASK = '[REDACTED]';

/** Field names whose string values are secrets, matched whole, case-insensitively ("max_tokens" is not "token"). */
const SECRET_NAMES = [
  'api[_-]?key',
  'x-api-key',
  'secret',
  'client[_-]?secret',
  'secret[_-]?key',
  'password',
  'passwd',
  'token',
  'access[_-]?token',
  'refresh[_-]?token',
  'id[_-]?token',
  'auth[_-]?token',
  'authorization',
  'private[_-]?key',
  'aws[_-]?secret[_-]?access[_-]?key',
  'aws[_-]?session[_-]?token',
].join('|');
/** A secret's name, alone or at the end of a longer one (OPENAI_API_KEY, x-auth-token). */
const NAME = `(?:[\\w-]{0,40}[_-])?(?:${SECRET_NAMES})`;

const REPLACEMENTS: readonly [RegExp, string][] = [
  // PEM private keys, whole blocks (also with their line breaks escaped inside a JSON string).
  [/-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, MASK],
  // "api_key": "value" in JSON, and \"api_key\": \"value\" in JSON quoted inside a JSON string.
  [new RegExp(`("${NAME}"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*(")`, 'gi'), `$1${MASK}$2`],
  [new RegExp(`(\\\\"${NAME}\\\\"\\s*:\\s*\\\\")(?:(?!\\\\").)*(\\\\")`, 'gi'), `$1${MASK}$2`],
  [/\b(Bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1${MASK}`],
  [/\b(Basic\s+)[A-Za-z0-9+/]{8,}=*/g, `$1${MASK}`],
  // api_key=value, password: value in plain text (a shell line, a .env file, a URL's query); an Authorization
  // header's scheme stays, its credential was masked above.
  [new RegExp(`(?<![A-Za-z0-9])(${NAME}\\s*[=:]\\s*)(?!\\[REDACTED\\]|Bearer\\s|Basic\\s)[^\\s"'\\\\,;&]+`, 'gi'), `$1${MASK}`],
  // OpenAI, Anthropic, this gateway's virtual keys (sk-…, sk-ant-…, sk-proj-…, sk-sb-…), Stripe (sk_live_…, rk_live_…).
  [/\b(?:sk|rk)[-_][A-Za-z0-9_-]{16,}/g, MASK],
  // AWS access key ids.
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, MASK],
  // Google API keys, GitHub and Slack tokens.
  [/\bAIza[0-9A-Za-z_-]{35}/g, MASK],
  [/\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}/g, MASK],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, MASK],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, MASK],
];

export function maskSecrets(text: string): string {
  let masked = text;
  for (const [pattern, replacement] of REPLACEMENTS) masked = masked.replace(pattern, replacement);
  return masked;
}
