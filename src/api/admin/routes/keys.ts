// Virtual keys. The secret exists in one answer only (create, rotate); the database keeps its keyed hash. Every change
// drops the key from the auth caches of every instance (services.keyAuth), a new key included: the first key in an
// instance ends its keyless quick start.

import { generateKey, hashKey } from '../../../identity/keys.ts';
import type { Keyring } from '../../../identity/secrets.ts';
import type { TenantStore } from '../../../store/store.ts';
import type { VirtualKey } from '../../../store/types.ts';
import { authorize, authorizeCreate, EMPTY_PAGE, keyTarget, narrowList, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { conflict, notFound } from '../errors.ts';
import { defineRoute, type AdminRoute, type Call } from '../route.ts';
import * as s from '../schemas.ts';

const tag = 'Keys';

function newSecret(keyring: Keyring): { key: string; key_hash: string; key_prefix: string } {
  const { key, prefix } = generateKey();
  return { key, key_hash: hashKey(key, keyring.current.pepper), key_prefix: prefix };
}

/** Reads the key, checks the actor may change it, applies `apply` and records it; then drops it from the caches. */
async function changeKey<T>(
  call: Call<{ org_id: string; key_id: string }>,
  verb: 'update' | 'revoke' | 'rotate' | 'delete',
  apply: (before: VirtualKey, tenant: TenantStore) => Promise<{ result: T; after?: VirtualKey }>,
): Promise<T> {
  const id = call.params.key_id;
  const result = await changeInOrg(call, call.params.org_id, async (tenant) => {
    const before = await tenant.keys.get(id);
    if (!before) throw notFound('virtual key', id);
    authorize(call.actor, 'key', 'write', keyTarget(before), id);
    const { result, after } = await apply(before, tenant);
    return { result, change: { action: `key.${verb}`, target_type: 'key', target_id: id, before, after } };
  });
  await call.deps.keyAuth.invalidate(id);
  return result;
}

export const keyRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/keys',
    operationId: 'listKeys',
    summary: "List virtual keys, never their secrets (team-scoped roles: a team's they administer or view, else their own)",
    tag,
    params: s.orgParams,
    query: s.keyQuery,
    response: s.keyPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const narrowed = narrowList(actor, 'key', query);
      return narrowed ? tenant.keys.list(narrowed) : EMPTY_PAGE;
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/keys',
    operationId: 'createKey',
    summary: 'Create a virtual key: the answer holds its secret, shown this once',
    tag,
    params: s.orgParams,
    body: s.keyCreate,
    response: s.issuedKey,
    status: 201,
    async handler(call) {
      const issued = await changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'key', keyTarget({ team_id: call.body.team_id ?? null, user_id: call.body.user_id ?? null }));
        const { key, ...secret } = newSecret(call.deps.keyring);
        const created = await tenant.keys.create({ ...call.body, ...secret, created_by: call.actor.id });
        return { result: { ...created, key }, change: { action: 'key.create', target_type: 'key', target_id: created.id, after: created } };
      });
      await call.deps.keyAuth.invalidate(issued.id);
      return issued;
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/keys/{key_id}',
    operationId: 'getKey',
    summary: 'Get a virtual key, never its secret',
    tag,
    params: s.keyParams,
    response: s.virtualKey,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const key = await tenant.keys.get(params.key_id);
      if (!key) throw notFound('virtual key', params.key_id);
      authorize(actor, 'key', 'read', keyTarget(key), key.id);
      return key;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/keys/{key_id}',
    operationId: 'updateKey',
    summary: "Change a key's name, allowed models and surfaces, IP allowlist, expiry, enabled flag, metadata or payload capture (log_payloads)",
    tag,
    params: s.keyParams,
    body: s.keyUpdate,
    response: s.virtualKey,
    handler: (call) =>
      changeKey(call, 'update', async (_before, tenant) => {
        const after = (await tenant.keys.update(call.params.key_id, call.body))!;
        return { result: after, after };
      }),
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/keys/{key_id}/revoke',
    operationId: 'revokeKey',
    summary: 'Revoke a key for good (every instance refuses it at once)',
    tag,
    params: s.keyParams,
    response: s.virtualKey,
    handler: (call) =>
      changeKey(call, 'revoke', async (_before, tenant) => {
        const after = (await tenant.keys.revoke(call.params.key_id))!;
        return { result: after, after };
      }),
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/keys/{key_id}/rotate',
    operationId: 'rotateKey',
    summary: 'Replace the secret of a key: the old one stops working, the answer holds the new one, shown this once',
    tag,
    params: s.keyParams,
    response: s.issuedKey,
    handler: (call) =>
      changeKey(call, 'rotate', async (before, tenant) => {
        if (before.revoked_at) throw conflict(`The virtual key '${before.id}' is revoked; create a new key instead`, 'key_revoked');
        const { key, ...secret } = newSecret(call.deps.keyring);
        const after = (await tenant.keys.rotate(before.id, secret))!;
        return { result: { ...after, key }, after };
      }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/keys/{key_id}',
    operationId: 'deleteKey',
    summary: 'Delete a key (revoking keeps it listed; deleting does not)',
    tag,
    params: s.keyParams,
    response: s.deleted,
    async handler(call) {
      await changeKey(call, 'delete', async (_before, tenant) => {
        await tenant.keys.delete(call.params.key_id);
        return { result: undefined };
      });
      return { id: call.params.key_id, deleted: true };
    },
  }),
];
