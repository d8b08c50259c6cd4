// Every change through the admin API is made in one transaction with its audit record: both land, or neither does.

import type { Actor } from '../../identity/rbac.ts';
import type { StoreTransaction, TenantStore } from '../../store/store.ts';
import { reachOrg } from './access.ts';
import type { Call } from './route.ts';

export interface Change {
  /** `<target_type>.<verb>`, e.g. `key.create`. */
  action: string;
  target_type: string;
  target_id: string;
  before?: unknown;
  after?: unknown;
}

// The domain objects carry no secrets; these names are stripped anyway, so a secret added to one later cannot reach
// the audit log by accident.
const SECRET_FIELDS = new Set(['key', 'key_hash', 'secret', 'ciphertext', 'api_key', 'password', 'token']);

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? '[redacted]' : redact(v)]));
}

export async function recordChange(tenant: TenantStore, who: { actor: Actor; request_id: string | null }, change: Change): Promise<void> {
  await tenant.audit.record({
    actor: who.actor.id,
    action: change.action,
    target_type: change.target_type,
    target_id: change.target_id,
    before: redact(change.before),
    after: redact(change.after),
    request_id: who.request_id,
  });
}

/**
 * Runs `make` inside one transaction on the organization in the path (not found if the actor may not reach it) and
 * records what it reports. Inside, use only the tenant and transaction handed in.
 */
export function changeInOrg<T>(call: Call, orgId: string, make: (tenant: TenantStore, tx: StoreTransaction) => Promise<{ result: T; change: Change }>): Promise<T> {
  return call.deps.store.transaction(async (tx) => {
    const tenant = await reachOrg(tx, call.actor, orgId);
    const { result, change } = await make(tenant, tx);
    await recordChange(tenant, call, change);
    return result;
  });
}
