// Constraint violations from either driver, turned into one error type the admin API can map to 409 / 400.
// Messages name columns, never values: a value may be a key hash or an email.

export type StoreErrorCode = 'conflict' | 'invalid_reference' | 'in_use';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

type Violation = { kind: 'unique'; columns: string[] } | { kind: 'foreign_key' };

/** better-sqlite3: `SQLITE_CONSTRAINT_UNIQUE` with "UNIQUE constraint failed: t.a, t.b"; pg: SQLSTATE 23505 / 23503. */
function violation(err: unknown): Violation | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, detail } = err as Error & { code?: unknown; detail?: unknown };
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const list = err.message.split(':')[1] ?? '';
    return { kind: 'unique', columns: list.split(',').map((c) => c.trim().split('.').pop()!).filter(Boolean) };
  }
  if (code === '23505') {
    const list = typeof detail === 'string' ? (/^Key \(([^)]*)\)/.exec(detail)?.[1] ?? '') : '';
    return { kind: 'unique', columns: list.split(',').map((c) => c.trim()).filter(Boolean) };
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') return { kind: 'foreign_key' };
  return undefined;
}

export interface ViolationMessages {
  /** What is being written, e.g. "a team". */
  entity: string;
  /** What a foreign key violation means for this write, e.g. "team_id must name a team of this organization". */
  reference?: string;
}

/** Runs a write and rethrows constraint violations as StoreErrors; anything else passes through unchanged. */
export async function translateViolations<T>(messages: ViolationMessages, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const v = violation(err);
    if (!v) throw err;
    if (v.kind === 'unique') {
      const columns = v.columns.filter((c) => c !== 'org_id');
      throw new StoreError('conflict', `${messages.entity} with this ${columns.join(' and ') || 'id'} already exists`);
    }
    throw new StoreError('invalid_reference', messages.reference ?? `${messages.entity} refers to something that does not exist`);
  }
}

/** Runs a delete; a foreign key violation means other rows still refer to the one being deleted. */
export async function translateInUse<T>(message: string, remove: () => Promise<T>): Promise<T> {
  try {
    return await remove();
  } catch (err) {
    if (violation(err)?.kind !== 'foreign_key') throw err;
    throw new StoreError('in_use', message);
  }
}
