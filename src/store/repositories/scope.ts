// The only way repositories reach a table that belongs to an organization. Every query it starts already carries
// `org_id = <scope>` (and every insert its org_id), and tenant repositories are given this object instead of the
// Kysely instance, so a query without the tenant filter cannot be written in them.

import type { DeleteQueryBuilder, DeleteResult, Insertable, InsertQueryBuilder, InsertResult, Kysely, SelectQueryBuilder, UpdateQueryBuilder, UpdateResult } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqlDialect } from '../dialect.ts';
import type { Tables } from '../tables.ts';

export interface StoreContext {
  db: Kysely<Tables>;
  /** The embedded database's handle (SQLite only): see Database.sqlite. */
  sqlite?: BetterSqlite3.Database | undefined;
  dialect: SqlDialect;
  now: () => Date;
}

export type OrgTable = { [T in keyof Tables]: 'org_id' extends keyof Tables[T] ? T : never }[keyof Tables];

export class OrgScope {
  readonly dialect: SqlDialect;
  readonly now: () => Date;
  // Untyped inside this class only: Kysely cannot check a column reference against a generic table name.
  readonly #db: Kysely<any>;

  constructor(
    ctx: StoreContext,
    readonly orgId: string,
  ) {
    this.#db = ctx.db;
    this.dialect = ctx.dialect;
    this.now = ctx.now;
  }

  selectFrom<T extends OrgTable>(table: T): SelectQueryBuilder<Tables, T, {}> {
    return this.#db.selectFrom(table as string).where(orgColumn(table), '=', this.orgId) as never;
  }

  updateTable<T extends OrgTable>(table: T): UpdateQueryBuilder<Tables, T, T, UpdateResult> {
    return this.#db.updateTable(table as string).where(orgColumn(table), '=', this.orgId) as never;
  }

  deleteFrom<T extends OrgTable>(table: T): DeleteQueryBuilder<Tables, T, DeleteResult> {
    return this.#db.deleteFrom(table as string).where(orgColumn(table), '=', this.orgId) as never;
  }

  insertInto<T extends OrgTable>(table: T, values: Omit<Insertable<Tables[T]>, 'org_id'>): InsertQueryBuilder<Tables, T, InsertResult> {
    return this.#db.insertInto(table as string).values({ ...values, org_id: this.orgId }) as never;
  }
}

/** Qualified, so the filter stays on this table when a query joins or nests another. */
function orgColumn(table: OrgTable): string {
  return `${table}.org_id`;
}
