// Tenants, teams, users, memberships, virtual keys, provider credentials, model policies and the audit log.
//
// Rows that point at a team or user carry their org_id and reference (org_id, id), so the database itself refuses a
// key, membership or policy that names another organization's team or user. Deleting an organization removes
// everything in it; deleting a team or user removes its memberships but is refused while keys or policies still name
// it. Audit records have no foreign key: they outlive what they describe.

import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function identity({ types }: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('metadata', types.json, (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('organizations_name_unique', ['name'])
        .execute();

      await db.schema
        .createTable('teams')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('metadata', types.json, (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('teams_org_name_unique', ['org_id', 'name'])
        .addUniqueConstraint('teams_org_id_unique', ['org_id', 'id'])
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('users_org_email_unique', ['org_id', 'email'])
        .addUniqueConstraint('users_org_id_unique', ['org_id', 'id'])
        .execute();

      await db.schema
        .createTable('memberships')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('team_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('memberships_team_user_unique', ['team_id', 'user_id'])
        .addForeignKeyConstraint('memberships_team_fk', ['org_id', 'team_id'], 'teams', ['org_id', 'id'], (c) => c.onDelete('cascade'))
        .addForeignKeyConstraint('memberships_user_fk', ['org_id', 'user_id'], 'users', ['org_id', 'id'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('memberships_org_user').on('memberships').columns(['org_id', 'user_id']).execute();

      await db.schema
        .createTable('virtual_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('team_id', 'text')
        .addColumn('user_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('allowed_models', types.json, (c) => c.notNull())
        .addColumn('allowed_surfaces', types.json, (c) => c.notNull())
        .addColumn('ip_allowlist', types.json, (c) => c.notNull())
        .addColumn('metadata', types.json, (c) => c.notNull())
        .addColumn('expires_at', types.timestamp)
        .addColumn('enabled', types.boolean, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addColumn('revoked_at', types.timestamp)
        .addUniqueConstraint('virtual_keys_hash_unique', ['key_hash'])
        .addForeignKeyConstraint('virtual_keys_team_fk', ['org_id', 'team_id'], 'teams', ['org_id', 'id'])
        .addForeignKeyConstraint('virtual_keys_user_fk', ['org_id', 'user_id'], 'users', ['org_id', 'id'])
        .execute();
      await db.schema.createIndex('virtual_keys_org_team').on('virtual_keys').columns(['org_id', 'team_id']).execute();
      await db.schema.createIndex('virtual_keys_org_user').on('virtual_keys').columns(['org_id', 'user_id']).execute();

      await db.schema
        .createTable('provider_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('provider_credentials_org_name_unique', ['org_id', 'name'])
        .execute();

      await db.schema
        .createTable('model_policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('team_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('allowed_models', types.json, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .addColumn('updated_at', types.timestamp, (c) => c.notNull())
        .addUniqueConstraint('model_policies_org_name_unique', ['org_id', 'name'])
        .addForeignKeyConstraint('model_policies_team_fk', ['org_id', 'team_id'], 'teams', ['org_id', 'id'])
        .execute();
      await db.schema.createIndex('model_policies_org_team').on('model_policies').columns(['org_id', 'team_id']).execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        .addColumn('before', types.json)
        .addColumn('after', types.json)
        .addColumn('request_id', 'text')
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      // Ids sort by time, so (org_id, id) serves "newest first in this org" and its cursor; the others serve filters.
      await db.schema.createIndex('audit_log_org_id').on('audit_log').columns(['org_id', 'id']).execute();
      await db.schema.createIndex('audit_log_org_time').on('audit_log').columns(['org_id', 'created_at']).execute();
      await db.schema.createIndex('audit_log_target').on('audit_log').columns(['org_id', 'target_type', 'target_id']).execute();
      await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['org_id', 'actor']).execute();
    },
  };
}
