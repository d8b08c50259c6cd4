// Capability filtering: a request a target cannot serve (tools to a model without function calling, an image to a
// text-only model, a JSON schema to a model without structured output, a prompt longer than its context window) skips
// that target instead of failing on it. What a target can do comes from its configuration, and its context window
// from the price table when the configuration is silent; what nobody declared counts as able, so the provider decides.

import { badRequest } from '../core/errors.ts';
import type { ChatRequest } from '../core/types.ts';
import { estimateTokens } from '../usage/estimate-tokens.ts';
import type { Route, Target } from './router.ts';

export interface Capabilities {
  /** Prompt plus output tokens the model takes. */
  context_window?: number | undefined;
  tools?: boolean | undefined;
  vision?: boolean | undefined;
  json_schema?: boolean | undefined;
}

interface Needs {
  tools: boolean;
  vision: boolean;
  json_schema: boolean;
  /** Tokens of prompt and output, worked out only when some window could be too small (see promptTokens). */
  tokens: () => number;
}

function hasImage(req: ChatRequest): boolean {
  for (const m of req.messages) {
    if (Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url')) return true;
  }
  return false;
}

/** Characters of every string in the prompt: never fewer than its tokens, and far cheaper to count. */
function characters(value: unknown): number {
  if (typeof value === 'string') return value.length;
  let n = 0;
  if (Array.isArray(value)) for (const v of value) n += characters(v);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) n += characters(v);
  return n;
}

function needsOf(req: ChatRequest): Needs {
  let tokens: number | undefined;
  return {
    tools: (req.tools?.length ?? 0) > 0,
    vision: hasImage(req),
    json_schema: req.response_format?.type === 'json_schema',
    tokens: () => (tokens ??= estimateTokens([req.messages, req.tools]) + (req.max_completion_tokens ?? req.max_tokens ?? 0)),
  };
}

function serves(caps: Capabilities | undefined, needs: Needs, upperBound: number): boolean {
  if (!caps) return true;
  if ((needs.tools && caps.tools === false) || (needs.vision && caps.vision === false) || (needs.json_schema && caps.json_schema === false)) return false;
  const window = caps.context_window;
  // Tokenizing only when the cheap bound says the prompt might not fit.
  return window === undefined || upperBound <= window || needs.tokens() <= window;
}

/** Whether any of `targets` declared a limit, and if so the tightest of each. */
function tightest(targets: readonly Target[]): { tools: boolean; vision: boolean; json_schema: boolean; window: number } | undefined {
  let declared = false;
  let tools = false;
  let vision = false;
  let json_schema = false;
  let window = Infinity;
  for (const t of targets) {
    const c = t.capabilities;
    if (!c) continue;
    declared = true;
    tools ||= c.tools === false;
    vision ||= c.vision === false;
    json_schema ||= c.json_schema === false;
    if (c.context_window !== undefined && c.context_window < window) window = c.context_window;
  }
  return declared ? { tools, vision, json_schema, window } : undefined;
}

/**
 * The route with only the targets that can serve the request; the route itself when all can. None able is the
 * client's error, named: sending it anyway would only collect the same refusal from every provider. `request` is the
 * request in canonical form, or how to make it: surfaces that pass requests through untranslated make it only here,
 * for routes whose targets declare limits. `sizeBound`, when known, is more than the request's tokens (its body's
 * bytes plus the output it asked for): with only context windows declared (as the price table does for every known
 * model), a request within the smallest is let through without making or walking it, which is every request in
 * practice.
 */
export function capableRoute(route: Route, request: ChatRequest | (() => ChatRequest), sizeBound?: number): Route {
  if (route.targets.length < 2) return route;
  const limits = tightest(route.targets);
  if (!limits) return route;
  if (!limits.tools && !limits.vision && !limits.json_schema && sizeBound !== undefined && sizeBound <= limits.window) return route;
  const req = typeof request === 'function' ? request() : request;
  const needs = needsOf(req);
  const upperBound = characters(req.messages) + characters(req.tools) + (req.max_completion_tokens ?? req.max_tokens ?? 0);
  const able = route.targets.filter((t) => serves(t.capabilities, needs, upperBound));
  if (able.length === route.targets.length) return route;
  if (able.length === 0) throw noCapableTarget(route, needs);
  return { ...route, targets: able };
}

function noCapableTarget(route: Route, needs: Needs): Error {
  const wanted = [needs.tools && 'tools', needs.vision && 'images', needs.json_schema && 'a JSON schema'].filter(Boolean);
  const what = wanted.length > 0 ? `a request with ${wanted.join(', ')} of about ${needs.tokens()} tokens` : `a request of about ${needs.tokens()} tokens`;
  return badRequest(`No target of '${route.name}' can serve ${what}: ${route.targets.map(describe).join('; ')}`, 'model', 'no_capable_target');
}

function describe(t: Target): string {
  const c = t.capabilities ?? {};
  const parts = [c.context_window !== undefined && `context window ${c.context_window}`, c.tools === false && 'no tools', c.vision === false && 'no images', c.json_schema === false && 'no JSON schema'].filter(Boolean);
  return `${t.id} (${parts.join(', ') || 'no limits declared'})`;
}
