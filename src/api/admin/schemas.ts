// Every body, query and answer of the admin API as a zod schema. The routes validate with them, and the OpenAPI
// document is generated from them (openapi.ts), so what is documented is what is enforced. Named schemas are the
// document's components: requests are described as clients write them (input), answers as the gateway sends them.

import { z } from 'zod';
import { cidrProblem } from '../../identity/addresses.ts';
import { ORG_ROLES, TEAM_ROLES } from '../../identity/rbac.ts';
import { SURFACES } from '../../pipeline/context.ts';
import { MAX_PAGE_SIZE } from '../../store/repositories/page.ts';

type Meta = { id: string; description?: string };
export const requestSchemas = z.registry<Meta>();
export const responseSchemas = z.registry<Meta>();

function named<S extends z.ZodType>(registry: typeof requestSchemas, id: string, schema: S, description?: string): S {
  registry.add(schema as z.ZodType, { id, ...(description && { description }) });
  return schema;
}
const request = <S extends z.ZodType>(id: string, schema: S, description?: string): S => named(requestSchemas, id, schema, description);
const response = <S extends z.ZodType>(id: string, schema: S, description?: string): S => named(responseSchemas, id, schema, description);

// ---- building blocks

const id = z.string().min(1).max(64);
const name = z.string().trim().min(1).max(200);
const metadata = z.record(z.string(), z.unknown()).describe('Free-form tags, passed on to routing and logs');
const logPayloads = z
  .boolean()
  .describe('Capture request and response bodies (secrets masked, cut at request_logs.payload_max_bytes) in the request log; a key is captured when it or its team says so');
const time = z.iso.datetime({ offset: true });
const futureTime = time.refine((t) => Date.parse(t) > Date.now(), 'must be in the future');
const modelPatterns = z.array(z.string().trim().min(1).max(200)).max(1000).describe("Model names, group names and globs such as 'anthropic/*'");

/** An IPv4 or IPv6 address or CIDR block; a bare address stands for itself (/32, /128). */
const cidr = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('An IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or 2001:db8::/32');

/** Query-string booleans. */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const page = {
  limit: z.coerce.number<string>().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Items per page, 1-${MAX_PAGE_SIZE} (default 100)`),
  cursor: z.string().min(1).optional().describe('next_cursor of the previous page'),
};

// ---- path parameters

export const orgParams = z.strictObject({ org_id: id });
export const teamParams = orgParams.extend({ team_id: id });
export const userParams = orgParams.extend({ user_id: id });
export const membershipParams = orgParams.extend({ membership_id: id });
export const keyParams = orgParams.extend({ key_id: id });
export const credentialParams = orgParams.extend({ credential_id: id });
export const policyParams = orgParams.extend({ policy_id: id });

// ---- queries

export const organizationQuery = z.strictObject({ ...page, name: name.optional() });
export const teamQuery = z.strictObject({ ...page, name: name.optional() });
export const userQuery = z.strictObject({ ...page, role: z.enum(ORG_ROLES).optional(), email: z.string().optional(), team_id: id.optional() });
export const membershipQuery = z.strictObject({ ...page, team_id: id.optional(), user_id: id.optional() });
export const keyQuery = z.strictObject({
  ...page,
  team_id: id.optional(),
  user_id: id.optional(),
  enabled: flag.optional(),
  revoked: flag.optional().describe('true: only revoked keys; false: only keys not revoked'),
});
export const credentialQuery = z.strictObject({ ...page, provider: z.string().min(1).optional() });
export const policyQuery = z.strictObject({
  ...page,
  team_id: id.optional().describe("One team's policies"),
  org_wide: flag.optional().describe('true: only the policies for the whole organization (what team-scoped roles get without team_id)'),
});
export const auditQuery = z.strictObject({
  ...page,
  org_id: id.optional().describe('One organization (the master key sees every organization without it)'),
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional().describe("e.g. 'key.create'"),
  target_type: z.string().min(1).optional(),
  target_id: z.string().min(1).optional(),
  since: time.optional().describe('Inclusive'),
  until: time.optional().describe('Exclusive'),
});

// ---- request bodies

export const organizationCreate = request('OrganizationCreate', z.strictObject({ name, metadata: metadata.optional() }));
export const organizationUpdate = request('OrganizationUpdate', z.strictObject({ name: name.optional(), metadata: metadata.optional() }));

export const teamCreate = request('TeamCreate', z.strictObject({ name, metadata: metadata.optional(), log_payloads: logPayloads.optional() }));
export const teamUpdate = request('TeamUpdate', z.strictObject({ name: name.optional(), metadata: metadata.optional(), log_payloads: logPayloads.optional() }));

export const userCreate = request(
  'UserCreate',
  z.strictObject({ email: z.email(), name: name.nullable().optional(), role: z.enum(ORG_ROLES).describe('The role in the organization') }),
);
export const userUpdate = request('UserUpdate', z.strictObject({ email: z.email().optional(), name: name.nullable().optional(), role: z.enum(ORG_ROLES).optional() }));

export const membershipCreate = request('MembershipCreate', z.strictObject({ team_id: id, user_id: id, role: z.enum(TEAM_ROLES).default('member') }));
export const membershipUpdate = request('MembershipUpdate', z.strictObject({ role: z.enum(TEAM_ROLES) }));

const keySettings = {
  allowed_models: modelPatterns.optional().describe('Empty: every model'),
  allowed_surfaces: z.array(z.enum(SURFACES)).optional().describe('Empty: every surface'),
  ip_allowlist: z.array(cidr).max(1000).optional().describe('Empty: any address'),
  metadata: metadata.optional(),
  expires_at: futureTime.nullable().optional().describe('Null or absent: never'),
  enabled: z.boolean().optional(),
  log_payloads: logPayloads.optional(),
};
export const keyCreate = request(
  'KeyCreate',
  z.strictObject({ name, team_id: id.nullable().optional().describe('The owning team'), user_id: id.nullable().optional().describe('The owning user'), ...keySettings }),
);
export const keyUpdate = request('KeyUpdate', z.strictObject({ name: name.optional(), ...keySettings }));

const secret = z.string().min(1).max(16_384).describe('The provider secret (e.g. an API key). Write-only: never returned');
export const credentialCreate = request(
  'CredentialCreate',
  z.strictObject({ provider: z.string().regex(/^[a-zA-Z0-9_.-]+$/).describe("A provider configured under providers:, whose api_key the secret replaces for this organization's virtual keys"), name, secret }),
);
export const credentialUpdate = request('CredentialUpdate', z.strictObject({ name: name.optional(), secret: secret.optional() }));

export const policyCreate = request(
  'PolicyCreate',
  z.strictObject({
    name,
    team_id: id.nullable().optional().describe('Null or absent: the whole organization'),
    description: z.string().max(2000).nullable().optional(),
    allowed_models: modelPatterns,
  }),
);
export const policyUpdate = request(
  'PolicyUpdate',
  z.strictObject({ name: name.optional(), team_id: id.nullable().optional(), description: z.string().max(2000).nullable().optional(), allowed_models: modelPatterns.optional() }),
);

// ---- answers

const stamps = { created_at: z.string(), updated_at: z.string() };

export const organization = response('Organization', z.strictObject({ id: z.string(), name: z.string(), metadata, ...stamps }));
export const team = response('Team', z.strictObject({ id: z.string(), org_id: z.string(), name: z.string(), metadata, log_payloads: logPayloads, ...stamps }));
export const user = response(
  'User',
  z.strictObject({ id: z.string(), org_id: z.string(), email: z.string(), name: z.string().nullable(), role: z.enum(ORG_ROLES), ...stamps }),
);
export const membership = response(
  'Membership',
  z.strictObject({ id: z.string(), org_id: z.string(), team_id: z.string(), user_id: z.string(), role: z.enum(TEAM_ROLES), ...stamps }),
);
const keyFields = {
  id: z.string(),
  org_id: z.string(),
  team_id: z.string().nullable(),
  user_id: z.string().nullable(),
  name: z.string(),
  key_prefix: z.string().describe('The first characters of the key, to recognise it by'),
  allowed_models: z.array(z.string()),
  allowed_surfaces: z.array(z.string()),
  ip_allowlist: z.array(z.string()),
  metadata,
  expires_at: z.string().nullable(),
  enabled: z.boolean(),
  created_by: z.string(),
  ...stamps,
  revoked_at: z.string().nullable(),
  log_payloads: logPayloads,
};
export const virtualKey = response('VirtualKey', z.strictObject(keyFields), 'A virtual key, without its secret');
export const issuedKey = response(
  'IssuedKey',
  z.strictObject({ ...keyFields, key: z.string().describe('The secret key: shown in this answer only, store it now') }),
  'A virtual key with its secret, answered once: when it is created or rotated',
);
export const credential = response(
  'ProviderCredential',
  z.strictObject({ id: z.string(), org_id: z.string(), provider: z.string(), name: z.string(), created_by: z.string(), ...stamps }),
  'A provider credential; its secret is never returned',
);
export const policy = response(
  'ModelPolicy',
  z.strictObject({
    id: z.string(),
    org_id: z.string(),
    team_id: z.string().nullable(),
    name: z.string(),
    description: z.string().nullable(),
    allowed_models: z.array(z.string()),
    created_by: z.string(),
    ...stamps,
  }),
);
export const auditRecord = response(
  'AuditRecord',
  z.strictObject({
    id: z.string(),
    org_id: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    target_type: z.string(),
    target_id: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    request_id: z.string().nullable(),
    created_at: z.string(),
  }),
);
export const actor = response(
  'Actor',
  z.strictObject({
    id: z.string(),
    org_id: z.string().nullable().describe('Null: every organization'),
    role: z.enum(ORG_ROLES),
    user_id: z.string().nullable(),
    teams: z.record(z.string(), z.enum(TEAM_ROLES)).describe('Team id to the role in that team'),
  }),
  'Who the credential of this request belongs to and what it may do',
);
export const deleted = response('Deleted', z.strictObject({ id: z.string(), deleted: z.literal(true) }));
export const errorBody = response(
  'Error',
  z.strictObject({ error: z.strictObject({ message: z.string(), type: z.string(), code: z.string().nullable(), param: z.string().nullable() }) }),
);

const pageOf = (item: z.ZodType, of: string) =>
  response(`${of}Page`, z.strictObject({ items: z.array(item), next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last') }));

export const organizationPage = pageOf(organization, 'Organization');
export const teamPage = pageOf(team, 'Team');
export const userPage = pageOf(user, 'User');
export const membershipPage = pageOf(membership, 'Membership');
export const keyPage = pageOf(virtualKey, 'VirtualKey');
export const credentialPage = pageOf(credential, 'ProviderCredential');
export const policyPage = pageOf(policy, 'ModelPolicy');
export const auditPage = pageOf(auditRecord, 'AuditRecord');
