// Organizations are the tenants themselves. Each method but create and list names the organization it acts on,
// which is its tenant scope; create and list are platform operations for the master key.

import type { Kysely, Selectable } from 'kysely';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { OrganizationsTable, Tables } from '../tables.ts';
import type { Metadata, Organization, Page, PageQuery } from '../types.ts';
import { paginate } from './page.ts';
import type { StoreContext } from './scope.ts';

export interface OrganizationInput {
  name: string;
  metadata?: Metadata;
}

export type OrganizationPatch = Partial<OrganizationInput>;

export interface OrganizationQuery extends PageQuery {
  name?: string;
}

const MESSAGES = { entity: 'an organization' };

function toOrganization(row: Selectable<OrganizationsTable>): Organization {
  return {
    id: row.id,
    name: row.name,
    metadata: readJson(row.metadata),
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class OrganizationRepository {
  readonly #db: Kysely<Tables>;
  readonly #now: () => Date;

  constructor(ctx: StoreContext) {
    this.#db = ctx.db;
    this.#now = ctx.now;
  }

  async create(input: OrganizationInput): Promise<Organization> {
    const now = this.#now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.#db
        .insertInto('organizations')
        .values({ id: newId('org', now), name: input.name, metadata: writeJson(input.metadata ?? {}), created_at: at, updated_at: at })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toOrganization(row);
  }

  async get(orgId: string): Promise<Organization | undefined> {
    const row = await this.#db.selectFrom('organizations').selectAll().where('id', '=', orgId).executeTakeFirst();
    return row && toOrganization(row);
  }

  async list(query: OrganizationQuery = {}): Promise<Page<Organization>> {
    let q = this.#db.selectFrom('organizations').selectAll();
    if (query.name !== undefined) q = q.where('name', '=', query.name);
    return paginate(q, query, toOrganization);
  }

  async update(orgId: string, patch: OrganizationPatch): Promise<Organization | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.#db
        .updateTable('organizations')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.metadata !== undefined && { metadata: writeJson(patch.metadata) }),
          updated_at: this.#now().toISOString(),
        })
        .where('id', '=', orgId)
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toOrganization(row);
  }

  /** Deletes the organization and everything in it (teams, users, keys, credentials, policies); its audit records stay. */
  async delete(orgId: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('organizations').where('id', '=', orgId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
