// Who is calling the admin API. `Authorization: Bearer` carries either the master key (constant-time match: the owner
// of every organization) or, with admin.oidc configured, a JWT from the identity provider. A token's actor is bound to
// the organization its org claim names (by id or name). Its role comes from the users table when the token's user
// claim (email by default) names a user of that organization: the gateway's own grants, managed and audited through
// this API, win over the identity provider's. Otherwise the role claim decides, and the team claim lists the teams a
// team_admin or member acts for. Admin requests are not the hot path: each one resolves its actor afresh, so a changed
// role or membership applies to the very next request.

import type { GatewayConfig } from '../../config/load.ts';
import { GatewayError } from '../../core/errors.ts';
import { constantTimeMatcher } from '../../identity/keys.ts';
import { OidcError, OidcVerifier, type OidcIdentity } from '../../identity/oidc.ts';
import { ORG_ROLES, platformActor, type Actor } from '../../identity/rbac.ts';
import type { Store, TenantStore } from '../../store/store.ts';
import type { OrgRole, TeamRole } from '../../store/types.ts';
import { forbidden, unauthorized } from './errors.ts';

export type AdminAuthenticate = (authorization: string | undefined) => Promise<Actor>;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const MAX_TEAMS = 1000;

const MASTER = platformActor('master');

async function findOrganization(store: Store, ref: string) {
  return (await store.organizations.get(ref)) ?? (await store.organizations.list({ name: ref, limit: 1 })).items[0];
}

async function findTeamId(tenant: TenantStore, ref: string): Promise<string | undefined> {
  return ((await tenant.teams.get(ref)) ?? (await tenant.teams.list({ name: ref, limit: 1 })).items[0])?.id;
}

/** The first role the claim names, by privilege: a token listing several acts with the strongest. */
const claimedRole = (values: string[]): OrgRole | undefined => ORG_ROLES.find((role) => values.includes(role));

async function actorFromToken(store: Store, identity: OidcIdentity, claims: { role_claim: string; org_claim: string }): Promise<Actor> {
  if (identity.org === undefined) throw forbidden(`The token has no '${claims.org_claim}' claim naming the organization to act in`);
  const org = await findOrganization(store, identity.org);
  if (!org) throw forbidden(`The organization '${identity.org}' named by the token's '${claims.org_claim}' claim does not exist`);
  const tenant = store.tenant(org.id);

  const user = identity.user === undefined ? undefined : await tenant.users.getByEmail(identity.user);
  if (user) {
    const { items } = await tenant.memberships.list({ user_id: user.id, limit: MAX_TEAMS });
    return { id: user.id, org_id: org.id, role: user.role, user_id: user.id, teams: new Map(items.map((m) => [m.team_id, m.role])) };
  }

  const role = claimedRole(identity.roles);
  if (!role) throw forbidden(`The token's '${claims.role_claim}' claim names no role (${ORG_ROLES.join(', ')}), and it names no user of the organization`);
  const teamRole: TeamRole = role === 'team_admin' ? 'team_admin' : 'member';
  const teamIds = await Promise.all(identity.teams.slice(0, MAX_TEAMS).map((ref) => findTeamId(tenant, ref)));
  const teams = new Map(teamIds.filter((id): id is string => id !== undefined).map((id) => [id, teamRole]));
  return { id: `oidc:${identity.subject}`, org_id: org.id, role, user_id: null, teams };
}

export function adminAuthenticator(config: Pick<GatewayConfig, 'auth' | 'admin'>, store: Store): AdminAuthenticate {
  const isMasterKey = config.auth.master_key ? constantTimeMatcher(config.auth.master_key) : undefined;
  const oidc = config.admin.oidc;
  const verifier = oidc && new OidcVerifier(oidc);
  const accepted = [isMasterKey && 'the master key', verifier && "a token from the identity provider (admin.oidc)"].filter(Boolean).join(' or ');

  return async (authorization) => {
    if (!isMasterKey && !verifier) {
      throw unauthorized('The admin API is off: configure auth.master_key, or admin.oidc to sign in through an identity provider', 'admin_auth_not_configured');
    }
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) throw unauthorized(`Send ${accepted} as Authorization: Bearer <token>`, 'missing_admin_credential');
    if (isMasterKey?.(token)) return MASTER;
    if (!verifier || !JWT_SHAPE.test(token)) throw unauthorized(`Invalid admin credential: send ${accepted}`);
    let identity: OidcIdentity;
    try {
      identity = await verifier.verify(token);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      if (err.status === 503) throw new GatewayError(503, 'api_error', err.message, { code: 'identity_provider_unavailable' });
      throw unauthorized(`Invalid identity provider token: ${err.message}`, 'invalid_token');
    }
    return actorFromToken(store, identity, oidc!);
  };
}
