import type { Selectable } from 'kysely';
import { readTime } from '../dialect.ts';
import { translateInUse, translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { UsersTable } from '../tables.ts';
import type { OrgRole, Page, PageQuery, User } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface UserInput {
  email: string;
  name?: string | null;
  role: OrgRole;
}

export type UserPatch = Partial<UserInput>;

export interface UserQuery extends PageQuery {
  role?: OrgRole;
  email?: string;
  /** Only members of this team. */
  team_id?: string;
}

const MESSAGES = { entity: 'a user', reference: 'the organization does not exist' };

const normaliseEmail = (email: string) => email.trim().toLowerCase();

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    org_id: row.org_id,
    email: row.email,
    name: row.name,
    role: row.role as OrgRole,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class UserRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: UserInput): Promise<User> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('users', { id: newId('usr', now), email: normaliseEmail(input.email), name: input.name ?? null, role: input.role, created_at: at, updated_at: at })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toUser(row);
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.scope.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async getByEmail(email: string): Promise<User | undefined> {
    const row = await this.scope.selectFrom('users').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
    return row && toUser(row);
  }

  async list(query: UserQuery = {}): Promise<Page<User>> {
    let q = this.scope.selectFrom('users').selectAll();
    if (query.role !== undefined) q = q.where('role', '=', query.role);
    if (query.email !== undefined) q = q.where('email', '=', normaliseEmail(query.email));
    if (query.team_id !== undefined) {
      // The memberships subquery is scoped too; a team id from another organization matches nobody.
      q = q.where('id', 'in', this.scope.selectFrom('memberships').select('memberships.user_id').where('memberships.team_id', '=', query.team_id));
    }
    return paginate(q, query, toUser);
  }

  async update(id: string, patch: UserPatch): Promise<User | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .updateTable('users')
        .set({
          ...(patch.email !== undefined && { email: normaliseEmail(patch.email) }),
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.role !== undefined && { role: patch.role }),
          updated_at: this.scope.now().toISOString(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toUser(row);
  }

  /** Removes the user's memberships with them; refused while virtual keys name the user. */
  async delete(id: string): Promise<boolean> {
    const result = await translateInUse('the user still owns virtual keys: delete or move them first', () =>
      this.scope.deleteFrom('users').where('id', '=', id).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }
}
