// The model access policies that bind a virtual key: its organization's (those with no team) and its team's. Read when
// the key is loaded into the auth cache, so they cost nothing per request; admin changes to a policy invalidate it.

import type { Store } from '../store/store.ts';
import type { VirtualKey } from '../store/types.ts';
import type { AccessPolicy } from './identity.ts';

/** One page of the largest size the store serves: an organization with more policies than this is not a real one. */
const ALL = 1000;

export type PolicyLoader = (key: VirtualKey) => Promise<AccessPolicy[]>;

export function policyLoader(store: Pick<Store, 'tenant'>): PolicyLoader {
  return async (key) => {
    const policies = store.tenant(key.org_id).policies;
    const [org, team] = await Promise.all([
      policies.list({ team_id: null, limit: ALL }),
      key.team_id ? policies.list({ team_id: key.team_id, limit: ALL }) : undefined,
    ]);
    return [...org.items, ...(team?.items ?? [])].map((p) => ({ name: p.name, allowed_models: p.allowed_models }));
  };
}
