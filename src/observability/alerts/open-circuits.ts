// Which targets have an open circuit on some instance. Circuits are each instance's own, so each instance keeps a
// field per target it has open in one shared hash ("<target>␟<instance>" → until when it counts, epoch ms), renews
// it on every flush and removes it when the circuit closes. An instance that dies with a circuit open stops renewing,
// and its field stops counting once its time is up: the alert then resolves rather than fire for ever.

import type { Kv } from '../../store/kv/index.ts';

const KEY = 'alerts:open-circuits';
const SEP = '\u001f';

export class OpenCircuits {
  constructor(
    private readonly kv: Pick<Kv, 'hgetAll' | 'hset' | 'hdel'>,
    /** This instance, unique across the cluster. */
    private readonly instance: string,
    /** How long a field counts after it was written: a few flush intervals. */
    private readonly ttlMs: number,
  ) {}

  open(target: string, nowMs: number): Promise<void> {
    return this.kv.hset(KEY, target + SEP + this.instance, String(nowMs + this.ttlMs));
  }

  async closed(target: string): Promise<void> {
    await this.kv.hdel(KEY, target + SEP + this.instance);
  }

  /** Per target, on how many instances its circuit is open; fields whose time is up are removed on the way. */
  async live(nowMs: number): Promise<Map<string, number>> {
    const open = new Map<string, number>();
    const stale: string[] = [];
    for (const [field, until] of Object.entries(await this.kv.hgetAll(KEY))) {
      const sep = field.lastIndexOf(SEP);
      if (sep <= 0) continue;
      if (!(Number(until) > nowMs)) {
        stale.push(field);
        continue;
      }
      const target = field.slice(0, sep);
      open.set(target, (open.get(target) ?? 0) + 1);
    }
    await Promise.all(stale.map((field) => this.kv.hdel(KEY, field)));
    return open;
  }
}
