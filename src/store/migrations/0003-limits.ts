// Rate limits and USD budgets set for one organization, team, user or virtual key (the admin API's, on top of the
// config file's rules).
//
// A row names its subject twice: `scope` + `subject_id`, which is what it is read and listed by, and one reference
// column (team_id, user_id or key_id; none for the organization itself) with a foreign key to `(org_id, id)` of the
// subject's table. The database therefore refuses a subject of another organization, and a check constraint keeps the
// two in agreement. Limits and budgets are attributes of their subject, not objects of their own: deleting the team,
// user or key deletes them (cascade), where a model policy, which stands on its own, blocks its team's deletion.
// One rate limit per subject; a subject may have several budgets (a daily and a monthly one, a soft and a hard one).

import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

/** The reference column, if any, that must carry subject_id; the others must be null. */
const SUBJECT_CHECK = sql`(
  (scope = 'org' and subject_id = org_id and team_id is null and user_id is null and key_id is null)
  or (scope = 'team' and team_id = subject_id and user_id is null and key_id is null)
  or (scope = 'user' and user_id = subject_id and team_id is null and key_id is null)
  or (scope = 'key' and key_id = subject_id and team_id is null and user_id is null)
)`;

function subjectColumns(table: CreateTableBuilder<string>, name: string): CreateTableBuilder<string, string> {
  return table
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('team_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('key_id', 'text')
    .addForeignKeyConstraint(`${name}_team_fk`, ['org_id', 'team_id'], 'teams', ['org_id', 'id'], (c) => c.onDelete('cascade'))
    .addForeignKeyConstraint(`${name}_user_fk`, ['org_id', 'user_id'], 'users', ['org_id', 'id'], (c) => c.onDelete('cascade'))
    .addForeignKeyConstraint(`${name}_key_fk`, ['org_id', 'key_id'], 'virtual_keys', ['org_id', 'id'], (c) => c.onDelete('cascade'))
    .addCheckConstraint(`${name}_subject_check`, SUBJECT_CHECK);
}

export function limits({ types }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // A composite foreign key needs a unique (org_id, id) on the key table, as teams and users already have.
      await db.schema.createIndex('virtual_keys_org_id_unique').on('virtual_keys').columns(['org_id', 'id']).unique().execute();

      await subjectColumns(db.schema.createTable('rate_limits'), 'rate_limits')
        .addColumn('limits', types.json, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('rate_limits_subject_unique', ['org_id', 'scope', 'subject_id'])
        .execute();

      await subjectColumns(db.schema.createTable('budgets'), 'budgets')
        .addColumn('amount_usd', 'double precision', (c) => c.notNull())
        .addColumn('period', 'text', (c) => c.notNull())
        .addColumn('window', 'text', (c) => c.notNull())
        .addColumn('enforcement', 'text', (c) => c.notNull())
        // Null: the config's budgets.alerts.thresholds, read when the key is loaded.
        .addColumn('alert_thresholds', types.json)
        .addColumn('webhook_url', 'text')
        .addColumn('webhook_format', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('budgets_org_subject').on('budgets').columns(['org_id', 'subject_id']).execute();

      // The reference columns are what the cascading deletes look rows up by.
      for (const table of ['rate_limits', 'budgets']) {
        for (const column of ['team_id', 'user_id', 'key_id']) {
          await db.schema.createIndex(`${table}_org_${column}`).on(table).columns(['org_id', column]).execute();
        }
      }
    },
  };
}
