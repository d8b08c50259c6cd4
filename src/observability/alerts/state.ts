// Which subjects of each rule are firing, in the kv, so every instance sees the same and a change is announced once:
// a subject starts firing for the one instance whose hsetIfAbsent sets it, and resolves for the one whose hdel removes
// it. One hash per rule, a field per firing subject.

import type { Kv } from '../../store/kv/index.ts';
import type { FiringState } from './rules.ts';

const stateKey = (rule: string) => `alerts:state:${rule}`;

function parse(text: string): FiringState | undefined {
  try {
    const state = JSON.parse(text) as FiringState;
    return typeof state.started_at === 'number' && typeof state.value === 'number' && typeof state.subject === 'object' ? state : undefined;
  } catch {
    return undefined;
  }
}

export class AlertStates {
  constructor(private readonly kv: Pick<Kv, 'hgetAll' | 'hsetIfAbsent' | 'hdel'>) {}

  /** The rule's firing subjects by key. A field that does not parse (written by some other version) is left out. */
  async firing(rule: string): Promise<Map<string, FiringState>> {
    const firing = new Map<string, FiringState>();
    for (const [key, text] of Object.entries(await this.kv.hgetAll(stateKey(rule)))) {
      const state = parse(text);
      if (state) firing.set(key, state);
    }
    return firing;
  }

  /** Whether this call set the subject firing; false when it already was. */
  fire(rule: string, key: string, state: FiringState): Promise<boolean> {
    return this.kv.hsetIfAbsent(stateKey(rule), key, JSON.stringify(state));
  }

  /** Whether this call resolved the subject; false when it was not firing (any more). */
  resolve(rule: string, key: string): Promise<boolean> {
    return this.kv.hdel(stateKey(rule), key);
  }
}
