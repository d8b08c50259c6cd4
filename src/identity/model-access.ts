// Which models an identity may use. An allowed_models entry is an exact name (`gpt-4o`, or a configured model name
// such as `smart`) or a glob where `*` stands for any run of characters, slashes included (`anthropic/*`, `gpt-4o*`).
//
// A request is allowed when the name the client sent matches an entry, or when every target the name routes to
// matches as `<provider>/<model>`. So a key allowed `anthropic/*` may use a configured model `smart` only while all of
// smart's targets are Anthropic models, and one allowed `openai/*` may send the bare `gpt-4o` that routes to openai.
// An entry naming a configured model admits it whatever its targets: the admin named it on purpose.

import { GatewayError } from '../core/errors.ts';
import type { ModelObject } from '../core/types.ts';
import type { Route, Router } from '../routing/router.ts';
import type { Identity } from './identity.ts';

export interface ModelAccess {
  /** Whether `name` (the client's) may be used; `route`: what it resolved to, whose targets are checked too. */
  allows(name: string, route: Route | undefined): boolean;
}

const EVERYTHING: ModelAccess = { allows: () => true };

export const globToRegExp = (glob: string): RegExp => new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export function modelAccess(allowed: readonly string[]): ModelAccess {
  if (allowed.length === 0) return EVERYTHING;
  const exact = new Set(allowed.filter((entry) => !entry.includes('*')));
  const globs = allowed.filter((entry) => entry.includes('*')).map(globToRegExp);
  const matches = (name: string) => exact.has(name) || globs.some((glob) => glob.test(name));
  return {
    allows(name, route) {
      if (matches(name)) return true;
      return route !== undefined && route.targets.length > 0 && route.targets.every((t) => matches(`${t.provider.name}/${t.model}`));
    },
  };
}

// Identities are shared by all requests of a key, and so is their allowed_models array: compile each list once.
const compiled = new WeakMap<readonly string[], ModelAccess>();

function accessOf(allowed: readonly string[]): ModelAccess {
  if (allowed.length === 0) return EVERYTHING;
  let access = compiled.get(allowed);
  if (access === undefined) compiled.set(allowed, (access = modelAccess(allowed)));
  return access;
}

const ROUTE_RULE = '(a configured model is also allowed when every one of its targets, as <provider>/<model>, matches)';

/** Throws a 403 naming what the identity may use when it may not use `model` (`route`: what the name resolved to). */
export function checkModel(identity: Identity, model: string, route: Route | undefined): void {
  if (!accessOf(identity.allowed_models).allows(model, route)) {
    throw new GatewayError(403, 'permission_error', `This API key may not use the model '${model}'. It may use: ${identity.allowed_models.join(', ')} ${ROUTE_RULE}.`, {
      code: 'model_not_allowed',
      param: 'model',
    });
  }
  for (const policy of identity.policies) {
    if (accessOf(policy.allowed_models).allows(model, route)) continue;
    throw new GatewayError(
      403,
      'permission_error',
      `The model '${model}' is not allowed by the model access policy '${policy.name}' that applies to this key. The policy allows: ${policy.allowed_models.join(', ')} ${ROUTE_RULE}.`,
      { code: 'model_not_allowed', param: 'model' },
    );
  }
}

/** The models an identity may see in a listing: those it may use. */
export function visibleModels(identity: Identity, router: Router): ModelObject[] {
  const all = router.models();
  const lists = [identity.allowed_models, ...identity.policies.map((p) => p.allowed_models)].filter((list) => list.length > 0);
  if (lists.length === 0) return all;
  const accesses = lists.map(accessOf);
  return all.filter((m) => {
    const route = router.resolve(m.id);
    return accesses.every((access) => access.allows(m.id, route));
  });
}
