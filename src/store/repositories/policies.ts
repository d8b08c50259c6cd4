import type { Selectable } from 'kysely';
import { readJson, readTime, writeJson } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ModelPoliciesTable } from '../tables.ts';
import type { ModelPolicy, Page, PageQuery } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface PolicyInput {
  name: string;
  team_id?: string | null;
  description?: string | null;
  allowed_models: string[];
  created_by: string;
}

export type PolicyPatch = Partial<Omit<PolicyInput, 'created_by'>>;

export interface PolicyQuery extends PageQuery {
  /** A team's policies; null: only the organization-wide ones. */
  team_id?: string | null;
}

const MESSAGES = { entity: 'a model policy', reference: 'team_id must name a team of this organization' };

function toPolicy(row: Selectable<ModelPoliciesTable>): ModelPolicy {
  return {
    id: row.id,
    org_id: row.org_id,
    team_id: row.team_id,
    name: row.name,
    description: row.description,
    allowed_models: readJson(row.allowed_models),
    created_by: row.created_by,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class PolicyRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: PolicyInput): Promise<ModelPolicy> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('model_policies', {
          id: newId('pol', now),
          name: input.name,
          team_id: input.team_id ?? null,
          description: input.description ?? null,
          allowed_models: writeJson(input.allowed_models),
          created_by: input.created_by,
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toPolicy(row);
  }

  async get(id: string): Promise<ModelPolicy | undefined> {
    const row = await this.scope.selectFrom('model_policies').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPolicy(row);
  }

  async list(query: PolicyQuery = {}): Promise<Page<ModelPolicy>> {
    let q = this.scope.selectFrom('model_policies').selectAll();
    if (query.team_id !== undefined) q = query.team_id === null ? q.where('team_id', 'is', null) : q.where('team_id', '=', query.team_id);
    return paginate(q, query, toPolicy);
  }

  async update(id: string, patch: PolicyPatch): Promise<ModelPolicy | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .updateTable('model_policies')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.team_id !== undefined && { team_id: patch.team_id }),
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.allowed_models !== undefined && { allowed_models: writeJson(patch.allowed_models) }),
          updated_at: this.scope.now().toISOString(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toPolicy(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('model_policies').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
