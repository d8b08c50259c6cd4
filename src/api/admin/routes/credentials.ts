// Provider credentials managed at run time. The secret is write-only: sealed with the master secret (AES-256-GCM,
// bound to `provider_credential:<org>:<id>` so a sealed value copied to another record does not open), never returned,
// and recorded in the audit log only as the fact that it changed. A credential names a configured provider, whose key
// it replaces for the organization's virtual keys (identity/provider-credentials.ts); every change drops the
// organization's credentials from the caches of every instance.

import { badRequest } from '../../../core/errors.ts';
import { credentialAad } from '../../../identity/provider-credentials.ts';
import type { SecretBox } from '../../../identity/secrets.ts';
import { authorize, authorizeCreate, reachOrg } from '../access.ts';
import { changeInOrg } from '../changes.ts';
import { notFound } from '../errors.ts';
import { defineRoute, type AdminDeps, type AdminRoute } from '../route.ts';
import * as s from '../schemas.ts';
import { PROVIDER_TYPES } from '../../../providers/registry.ts';

const tag = 'Provider credentials';

/**
 * A credential for a provider the configuration does not declare would never be used, and one for a provider that
 * does not authenticate with an API key (Vertex service accounts, Azure with Entra) would be ignored or misapplied.
 */
function checkProvider(deps: AdminDeps, provider: string): void {
  const configured = deps.config.providers.get(provider);
  if (configured) {
    if (PROVIDER_TYPES[configured.type]?.takes_api_key?.(configured.options) ?? true) return;
    throw badRequest(
      `Provider '${provider}' (type ${configured.type}) does not authenticate with an API key here, so a stored credential cannot stand in for its credentials`,
      'provider',
      'provider_takes_no_api_key',
    );
  }
  const names = [...deps.config.providers.keys()];
  throw badRequest(
    `No provider '${provider}' is configured, so a credential for it would never be used; ` +
      (names.length > 0 ? `configured providers: ${names.join(', ')}` : 'this gateway configures no providers (providers: in its config file)'),
    'provider',
    'unknown_provider',
  );
}

const seal = (secrets: SecretBox, orgId: string, id: string, secret: string): string => secrets.encrypt(secret, credentialAad(orgId, id));

export const credentialRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/credentials',
    operationId: 'listCredentials',
    summary: 'List provider credentials, never their secrets',
    tag,
    params: s.orgParams,
    query: s.credentialQuery,
    response: s.credentialPage,
    async handler({ actor, deps, params, query }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      authorize(actor, 'credential', 'read', {}, params.org_id);
      return tenant.credentials.list(query);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/orgs/{org_id}/credentials',
    operationId: 'createCredential',
    summary: 'Store a provider credential; its secret is encrypted and never returned',
    tag,
    params: s.orgParams,
    body: s.credentialCreate,
    response: s.credential,
    status: 201,
    async handler(call) {
      const credential = await changeInOrg(call, call.params.org_id, async (tenant) => {
        authorizeCreate(call.actor, 'credential', {});
        checkProvider(call.deps, call.body.provider);
        const { secret, ...fields } = call.body;
        // The sealed value names the record's id, which exists only once the row does: inserted, then sealed, in
        // the same transaction, so no reader ever sees the row without its secret.
        const created = await tenant.credentials.create({ ...fields, ciphertext: '', created_by: call.actor.id });
        const credential = (await tenant.credentials.update(created.id, { ciphertext: seal(call.deps.secrets, tenant.orgId, created.id, secret) }))!;
        return { result: credential, change: { action: 'credential.create', target_type: 'credential', target_id: credential.id, after: credential } };
      });
      await call.deps.credentials.invalidate(call.params.org_id);
      return credential;
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/orgs/{org_id}/credentials/{credential_id}',
    operationId: 'getCredential',
    summary: 'Get a provider credential, never its secret',
    tag,
    params: s.credentialParams,
    response: s.credential,
    async handler({ actor, deps, params }) {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      authorize(actor, 'credential', 'read', {}, params.credential_id);
      const credential = await tenant.credentials.get(params.credential_id);
      if (!credential) throw notFound('provider credential', params.credential_id);
      return credential;
    },
  }),
  defineRoute({
    method: 'PATCH',
    path: '/orgs/{org_id}/credentials/{credential_id}',
    operationId: 'updateCredential',
    summary: 'Rename a provider credential or replace its secret',
    tag,
    params: s.credentialParams,
    body: s.credentialUpdate,
    response: s.credential,
    async handler(call) {
      const updated = await changeInOrg(call, call.params.org_id, async (tenant) => {
        const id = call.params.credential_id;
        authorize(call.actor, 'credential', 'write', {}, id);
        const before = await tenant.credentials.get(id);
        if (!before) throw notFound('provider credential', id);
        const { secret, name } = call.body;
        const after = (await tenant.credentials.update(id, {
          ...(name !== undefined && { name }),
          ...(secret !== undefined && { ciphertext: seal(call.deps.secrets, tenant.orgId, id, secret) }),
        }))!;
        return {
          result: after,
          change: { action: 'credential.update', target_type: 'credential', target_id: id, before, after: { ...after, secret_changed: secret !== undefined } },
        };
      });
      // A rename counts too: the most recently updated credential of a provider is the one used.
      await call.deps.credentials.invalidate(call.params.org_id);
      return updated;
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/orgs/{org_id}/credentials/{credential_id}',
    operationId: 'deleteCredential',
    summary: 'Delete a provider credential',
    tag,
    params: s.credentialParams,
    response: s.deleted,
    async handler(call) {
      const id = call.params.credential_id;
      await changeInOrg(call, call.params.org_id, async (tenant) => {
        authorize(call.actor, 'credential', 'write', {}, id);
        const before = await tenant.credentials.get(id);
        if (!before || !(await tenant.credentials.delete(id))) throw notFound('provider credential', id);
        return { result: undefined, change: { action: 'credential.delete', target_type: 'credential', target_id: id, before } };
      });
      await call.deps.credentials.invalidate(call.params.org_id);
      return { id, deleted: true };
    },
  }),
];
