// Shadow samples (migration 0004): written by the shadow runner, read by the admin comparison, pruned by age.

import type { Selectable } from 'kysely';
import type { ShadowRecord, ShadowSide } from '../../shadow/record.ts';
import { readBool, readTime, writeTime } from '../dialect.ts';
import type { ShadowSamplesTable } from '../tables.ts';
import type { StoreContext } from './scope.ts';

type Side = 'primary' | 'shadow';

function sideColumns(side: Side, s: ShadowSide) {
  // A NaN or an infinity from a provider's odd usage would be refused by PostgreSQL and lose the sample.
  const n = (v: number) => (Number.isFinite(v) ? v : 0);
  return {
    [`${side}_target`]: s.target,
    [`${side}_status`]: Math.round(n(s.status)),
    [`${side}_latency_ms`]: n(s.latency_ms),
    [`${side}_input_tokens`]: Math.round(n(s.input_tokens)),
    [`${side}_output_tokens`]: Math.round(n(s.output_tokens)),
    [`${side}_cost_usd`]: n(s.cost_usd),
    [`${side}_output_chars`]: Math.round(n(s.output_chars)),
    [`${side}_output`]: s.output,
    [`${side}_error`]: s.error,
  };
}

function readSide(row: Selectable<ShadowSamplesTable>, side: Side): ShadowSide {
  const r = row as unknown as Record<string, unknown>;
  const num = (column: string) => Number(r[`${side}_${column}`]);
  return {
    target: r[`${side}_target`] as string | null,
    status: num('status'),
    latency_ms: num('latency_ms'),
    input_tokens: num('input_tokens'),
    output_tokens: num('output_tokens'),
    cost_usd: num('cost_usd'),
    output_chars: num('output_chars'),
    output: r[`${side}_output`] as string,
    error: r[`${side}_error`] as string | null,
  };
}

export class ShadowRepository {
  constructor(private readonly ctx: StoreContext) {}

  async insert(record: ShadowRecord): Promise<void> {
    await this.ctx.db
      .insertInto('shadow_samples')
      .values({
        id: record.id,
        model: record.model,
        time: writeTime(record.time),
        request_id: record.request_id,
        exact_match: this.ctx.dialect.bool(record.exact_match),
        ...sideColumns('primary', record.primary),
        ...sideColumns('shadow', record.shadow),
      } as never)
      .execute();
  }

  /** The model's samples in [from, to), newest first, at most `limit`. */
  async list(model: string, from: string, to: string, limit: number): Promise<ShadowRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('shadow_samples')
      .selectAll()
      .where('model', '=', model)
      .where('time', '>=', writeTime(from))
      .where('time', '<', writeTime(to))
      .orderBy('time', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      model: row.model,
      time: readTime(row.time),
      request_id: row.request_id,
      exact_match: readBool(row.exact_match),
      primary: readSide(row, 'primary'),
      shadow: readSide(row, 'shadow'),
    }));
  }

  /** Deletes samples older than `before`; returns how many. */
  async prune(before: string): Promise<number> {
    const result = await this.ctx.db.deleteFrom('shadow_samples').where('time', '<', writeTime(before)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
