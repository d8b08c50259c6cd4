import type { Selectable } from 'kysely';
import { readTime } from '../dialect.ts';
import { translateViolations } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ProviderCredentialsTable } from '../tables.ts';
import type { Page, PageQuery, ProviderCredential } from '../types.ts';
import { paginate } from './page.ts';
import type { OrgScope } from './scope.ts';

export interface CredentialInput {
  provider: string;
  name: string;
  /** Produced and read by the credential cipher; stored as given. */
  ciphertext: string;
  created_by: string;
}

export type CredentialPatch = Partial<Pick<CredentialInput, 'name' | 'ciphertext'>>;

export interface CredentialQuery extends PageQuery {
  provider?: string;
}

/** A credential as the resolver needs it to put the secret to use: with its ciphertext, so never for a response or a log. */
export interface SealedCredential {
  id: string;
  provider: string;
  ciphertext: string;
  updated_at: string;
}

const MESSAGES = { entity: 'a provider credential', reference: 'the organization does not exist' };

// The ciphertext is left out of every object returned, so listing credentials cannot leak it.
function toCredential(row: Omit<Selectable<ProviderCredentialsTable>, 'ciphertext'>): ProviderCredential {
  return {
    id: row.id,
    org_id: row.org_id,
    provider: row.provider,
    name: row.name,
    created_by: row.created_by,
    created_at: readTime(row.created_at),
    updated_at: readTime(row.updated_at),
  };
}

const PUBLIC_COLUMNS = ['id', 'org_id', 'provider', 'name', 'created_by', 'created_at', 'updated_at'] as const;

export class CredentialRepository {
  constructor(private readonly scope: OrgScope) {}

  async create(input: CredentialInput): Promise<ProviderCredential> {
    const now = this.scope.now();
    const at = now.toISOString();
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .insertInto('provider_credentials', { id: newId('cred', now), ...input, created_at: at, updated_at: at })
        .returning(PUBLIC_COLUMNS)
        .executeTakeFirstOrThrow(),
    );
    return toCredential(row);
  }

  async get(id: string): Promise<ProviderCredential | undefined> {
    const row = await this.scope.selectFrom('provider_credentials').select(PUBLIC_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toCredential(row);
  }

  /** For the cipher only: never put it in a response or a log. */
  async getCiphertext(id: string): Promise<string | undefined> {
    const row = await this.scope.selectFrom('provider_credentials').select('ciphertext').where('id', '=', id).executeTakeFirst();
    return row?.ciphertext;
  }

  /**
   * For the credential resolver only: every credential of the organization with its ciphertext, in one query, the
   * most recently updated first (the id, which sorts by creation, breaks ties).
   */
  async listSealed(): Promise<SealedCredential[]> {
    const rows = await this.scope
      .selectFrom('provider_credentials')
      .select(['id', 'provider', 'ciphertext', 'updated_at'])
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((row) => ({ id: row.id, provider: row.provider, ciphertext: row.ciphertext, updated_at: readTime(row.updated_at) }));
  }

  async list(query: CredentialQuery = {}): Promise<Page<ProviderCredential>> {
    let q = this.scope.selectFrom('provider_credentials').select(PUBLIC_COLUMNS);
    if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
    return paginate(q, query, toCredential);
  }

  async update(id: string, patch: CredentialPatch): Promise<ProviderCredential | undefined> {
    const row = await translateViolations(MESSAGES, () =>
      this.scope
        .updateTable('provider_credentials')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.ciphertext !== undefined && { ciphertext: patch.ciphertext }),
          updated_at: this.scope.now().toISOString(),
        })
        .where('id', '=', id)
        .returning(PUBLIC_COLUMNS)
        .executeTakeFirst(),
    );
    return row && toCredential(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.scope.deleteFrom('provider_credentials').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
