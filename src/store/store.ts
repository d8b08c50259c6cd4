// The store: one repository per entity over the configured database. Everything that belongs to an organization is
// reached through `tenant(orgId)`, whose repositories can only query that organization's rows. The few unscoped
// operations are named as such: organizations themselves, the platform audit view, and `findKeyByHash` for auth.

import { ShadowRepository } from './repositories/shadow.ts';
import type { Logger } from '../observability/logger.ts';
import { databaseUrl, openDatabase, type Database } from './db.ts';
import type { DialectName } from './dialect.ts';
import { migrate } from './migrate.ts';
import { AnalyticsRepository } from './repositories/analytics.ts';
import { AuditRepository, PlatformAuditRepository } from './repositories/audit.ts';
import { BudgetRepository } from './repositories/budgets.ts';
import { CredentialRepository } from './repositories/credentials.ts';
import { KeyRepository, toVirtualKey } from './repositories/keys.ts';
import { MembershipRepository } from './repositories/memberships.ts';
import { OrganizationRepository } from './repositories/organizations.ts';
import { PolicyRepository } from './repositories/policies.ts';
import { RateLimitRepository } from './repositories/rate-limits.ts';
import { RequestLogRepository, RequestLogRetention } from './repositories/request-logs.ts';
import { OrgScope, type StoreContext } from './repositories/scope.ts';
import { TeamRepository } from './repositories/teams.ts';
import { UsageLedgerRepository, UsageReportRepository } from './repositories/usage.ts';
import { UserRepository } from './repositories/users.ts';
import type { VirtualKey } from './types.ts';

/** One organization's data. Every query made through it is limited to that organization. */
export class TenantStore {
  readonly teams: TeamRepository;
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly keys: KeyRepository;
  readonly credentials: CredentialRepository;
  readonly policies: PolicyRepository;
  readonly rateLimits: RateLimitRepository;
  readonly budgets: BudgetRepository;
  readonly usage: UsageReportRepository;
  /** Series and breakdowns from the usage rollups. */
  readonly analytics: AnalyticsRepository;
  /** The usage ledger's rows one by one, with their routing detail and captured bodies. */
  readonly logs: RequestLogRepository;
  readonly audit: AuditRepository;

  constructor(
    ctx: StoreContext,
    readonly orgId: string,
  ) {
    const scope = new OrgScope(ctx, orgId);
    this.teams = new TeamRepository(scope);
    this.users = new UserRepository(scope);
    this.memberships = new MembershipRepository(scope);
    this.keys = new KeyRepository(scope);
    this.credentials = new CredentialRepository(scope);
    this.policies = new PolicyRepository(scope);
    this.rateLimits = new RateLimitRepository(scope);
    this.budgets = new BudgetRepository(scope);
    this.usage = new UsageReportRepository(scope);
    this.analytics = new AnalyticsRepository(scope);
    this.logs = new RequestLogRepository(scope);
    this.audit = new AuditRepository(scope);
  }
}

/** What a transaction callback works with: the store, bound to the transaction. */
export type StoreTransaction = Omit<Store, 'close'>;

export class Store {
  readonly dialect: DialectName;
  /** Where the data lives, without credentials. */
  readonly description: string;
  /** Platform operations (master key): create and list organizations. The others take the organization's id. */
  readonly organizations: OrganizationRepository;
  /** Audit records across organizations (master key). Tenant code uses `tenant(orgId).audit`. */
  readonly audit: PlatformAuditRepository;
  /** The usage ledger's writes and the limiter's totals, across organizations. Reports use `tenant(orgId).usage`. */
  readonly usage: UsageLedgerRepository;
  /** Shadow traffic samples (src/shadow/), across organizations: the platform's experiment, not a tenant's data. */
  readonly shadow: ShadowRepository;
  /** The request log's retention, across organizations. Reading is `tenant(orgId).logs`. */
  readonly requestLogs: RequestLogRetention;
  readonly #ctx: StoreContext;
  readonly #database: Database;

  /** `now`: the clock for ids and timestamps (tests set it). */
  constructor(database: Database, opts: { now?: () => Date } = {}) {
    this.#database = database;
    this.#ctx = { db: database.db, sqlite: database.sqlite, dialect: database.dialect, now: opts.now ?? (() => new Date()) };
    this.dialect = database.dialect.name;
    this.description = database.description;
    this.organizations = new OrganizationRepository(this.#ctx);
    this.audit = new PlatformAuditRepository(this.#ctx);
    this.usage = new UsageLedgerRepository(this.#ctx);
    this.shadow = new ShadowRepository(this.#ctx);
    this.requestLogs = new RequestLogRetention(this.#ctx);
  }

  tenant(orgId: string): TenantStore {
    return new TenantStore(this.#ctx, orgId);
  }

  /** The auth path's lookup, across organizations: a key hash is unique everywhere. */
  async findKeyByHash(keyHash: string): Promise<VirtualKey | undefined> {
    const row = await this.#ctx.db.selectFrom('virtual_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row && toVirtualKey(row);
  }

  /** Whether any virtual key exists in any organization (the embedded quick start has none). */
  async hasKeys(): Promise<boolean> {
    return (await this.#ctx.db.selectFrom('virtual_keys').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  /**
   * Runs `fn` in one transaction: everything it writes through `tx` (a mutation and its audit record) lands together
   * or not at all. Inside, use `tx` only: on SQLite the store's one connection is held by the transaction. A nested
   * call joins the outer transaction.
   */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (this.#ctx.db.isTransaction) return fn(this);
    return this.#ctx.db.transaction().execute((trx) => fn(new Store({ ...this.#database, db: trx }, { now: this.#ctx.now })));
  }

  async close(): Promise<void> {
    await this.usage.close();
    await this.#database.close();
  }
}

/**
 * Opens the configured database (`storage.database`, else SQLite under ./.switchboard/) and brings its schema up to
 * date, as `switchboard start` does.
 */
export async function openStore(
  config: { storage?: { database?: string } },
  opts: { logger?: Logger; now?: () => Date } = {},
): Promise<Store> {
  const { logger } = opts;
  const database = openDatabase(databaseUrl(config.storage), logger && { onError: (err) => logger.error({ err }, 'database connection error') });
  try {
    const applied = await migrate(database);
    if (applied.length > 0) logger?.info({ database: database.description, migrations: applied }, 'database migrated');
  } catch (err) {
    await database.close();
    throw err;
  }
  return new Store(database, opts);
}
