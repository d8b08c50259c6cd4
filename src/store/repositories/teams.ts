import type { Selectable } from 'kysely';
import { readBool, readJson, readTime, writeJson } from '../dialect.ts';
import { translateInUse, translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { TeamsTable } from '../tables.ts';
import type { Metadata, Page, PageQuery, Team } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface TeamInput {
  name: string;
  metadata?: Metadata;
  log_payloads?: boolean;
}

export type TeamPatch = Partial<TeamInput>;

export interface TeamQuery extends PageQuery {
  name?: string;
}

const MESSAGES = { entity: 'a team', reference: 'the organization does not exist' };

function toTeam(row: Selectable<TeamsTable>): Team {
  return {
    id: row.id,
    org_id: row.org_id,
    name: row.name,
    metadata: readJson(row.metadata),
    log_payloads: readBool(row.log_payloads),
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

export class TeamRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: TeamInput): Promise<Team> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('teams', {
          id: newId('team', now),
          name: input.name,
          metadata: writeJson(input.metadata ?? {}),
          log_payloads: this.scope.dialect.bool(input.log_payloads ?? false),
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toTeam(row);
  }

  async get(id: string): Promise<Team | undefined> {
    const row = await this.scope.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTeam(row);
  }

  async list(query: TeamQuery = {}): Promise<Page<Team>> {
    let q = this.scope.selectFrom('teams').selectAll();
    if (query.name !== undefined) q = q.where('name', '=', query.name);
    return paginate(q, query, toTeam);
  }

  async update(id: string, patch: TeamPatch): Promise<Team | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .updateTable('teams')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.metadata !== undefined && { metadata: writeJson(patch.metadata) }),
          ...(patch.log_payloads !== undefined && { log_payloads: this.scope.dialect.bool(patch.log_payloads) }),
          updated_at: this.scope.now().toISOString(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toTeam(row);
  }

  /** Removes the team's memberships with it; refused while virtual keys or model policies name the team. */
  async delete(id: string): Promise<boolean> {
    const result = await translateInUse('the team still owns virtual keys or model policies: delete or move them first', () =>
      this.scope.deleteFrom('teams').where('id', '=', id).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }
}
