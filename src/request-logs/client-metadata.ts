// What a client tells the request log about its request: the body's `metadata` object, if it sent one, and the
// x-switchboard-metadata header holding a JSON object (which wins where both name a key). Read when the record is
// stored, off the request path; anything malformed is left out rather than ever failing the request or the insert.

export const METADATA_HEADER = 'x-switchboard-metadata';

/** Past this, the remaining entries are left out and `_truncated` says so. */
export const METADATA_MAX_BYTES = 8 * 1024;

const TRUNCATED = ',"_truncated":true}';

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function fromHeader(header: unknown): Record<string, unknown> | undefined {
  if (typeof header !== 'string' || header.length > 4 * METADATA_MAX_BYTES) return undefined;
  try {
    return plainObject(JSON.parse(header));
  } catch {
    return undefined;
  }
}

/** The merged metadata as JSON text, at most METADATA_MAX_BYTES long; null when there is none. */
export function clientMetadata(bodyMetadata: unknown, header: unknown): string | null {
  const merged = { ...plainObject(bodyMetadata), ...fromHeader(header) };
  const entries = Object.entries(merged);
  if (entries.length === 0) return null;
  let text = '{';
  let bytes = 1;
  for (const [key, value] of entries) {
    const entry = `${text.length > 1 ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`;
    const size = Buffer.byteLength(entry);
    if (bytes + size + TRUNCATED.length > METADATA_MAX_BYTES) return text.length > 1 ? text + TRUNCATED : '{"_truncated":true}';
    text += entry;
    bytes += size;
  }
  return `${text}}`;
}
