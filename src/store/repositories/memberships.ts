import type { Selectable } from 'kysely';
import { readTime } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { MembershipsTable } from '../tables.ts';
import type { Membership, Page, PageQuery, TeamRole } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface MembershipInput {
  team_id: string;
  user_id: string;
  role: TeamRole;
}

export interface MembershipQuery extends PageQuery {
  team_id?: string;
  user_id?: string;
}

const MESSAGES = { entity: 'a membership', reference: 'team_id and user_id must name a team and a user of this organization' };

function toMembership(row: Selectable<MembershipsTable>): Membership {
  return {
    id: row.id,
    org_id: row.org_id,
    team_id: row.team_id,
    user_id: row.user_id,
    role: row.role as TeamRole,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class MembershipRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: MembershipInput): Promise<Membership> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('memberships', { id: newId('mem', now), team_id: input.team_id, user_id: input.user_id, role: input.role, created_at: at, updated_at: at })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toMembership(row);
  }

  async get(id: string): Promise<Membership | undefined> {
    const row = await this.scope.selectFrom('memberships').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMembership(row);
  }

  /** The membership of one user in one team. */
  async find(teamId: string, userId: string): Promise<Membership | undefined> {
    const row = await this.scope.selectFrom('memberships').selectAll().where('team_id', '=', teamId).where('user_id', '=', userId).executeTakeFirst();
    return row && toMembership(row);
  }

  async list(query: MembershipQuery = {}): Promise<Page<Membership>> {
    let q = this.scope.selectFrom('memberships').selectAll();
    if (query.team_id !== undefined) q = q.where('team_id', '=', query.team_id);
    if (query.user_id !== undefined) q = q.where('user_id', '=', query.user_id);
    return paginate(q, query, toMembership);
  }

  async update(id: string, patch: { role: TeamRole }): Promise<Membership | undefined> {
    const row = await this.scope
      .updateTable('memberships')
      .set({ role: patch.role, updated_at: this.scope.now().toISOString() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toMembership(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('memberships').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
