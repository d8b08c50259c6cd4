// An admin route is data: method, path, schemas, and a handler that gets validated input and the calling actor. The
// Fastify plugin serves the table, the OpenAPI document is generated from it, and the CLI runs the same handlers in
// process, so validation, authorization and audit records are the same whichever way a change is made.

import type { z } from 'zod';
import type { GatewayConfig } from '../../config/load.ts';
import type { KeyAuth } from '../../identity/key-auth.ts';
import type { CredentialResolver } from '../../identity/provider-credentials.ts';
import type { Actor } from '../../identity/rbac.ts';
import type { Router } from '../../routing/router.ts';
import type { AlertEvaluator } from '../../observability/alerts/evaluator.ts';
import type { Keyring, SecretBox } from '../../identity/secrets.ts';
import { StoreError } from '../../store/errors.ts';
import type { Store } from '../../store/store.ts';
import { parseBody } from '../validation.ts';
import { fromStoreError } from './errors.ts';

/** What the handlers work with; the gateway's Services are one, the CLI builds another. */
export interface AdminDeps {
  store: Store;
  secrets: SecretBox;
  keyring: Keyring;
  /** Cached key lookups to drop, here and on every instance sharing the kv, after keys or their owners change. */
  keyAuth: Pick<KeyAuth, 'invalidate' | 'invalidateAll'>;
  /** Cached provider credentials to drop, here and on every instance sharing the kv, after an organization's change. */
  credentials: Pick<CredentialResolver, 'invalidate'>;
  /** The configured providers, which a stored credential must name. */
  config: Pick<GatewayConfig, 'providers'>;
  /** The running gateway's router (routing state); absent in the CLI, which runs none. */
  router?: Pick<Router, 'health' | 'resetCircuit' | 'configured'>;
  /** The running gateway's alert rules and their state; absent in the CLI. */
  alerts?: Pick<AlertEvaluator, 'status'>;
}

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Call<P = unknown, Q = unknown, B = unknown> {
  actor: Actor;
  deps: AdminDeps;
  params: P;
  query: Q;
  body: B;
  /** The HTTP request's id, kept in audit records; null from the CLI. */
  request_id: string | null;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface AdminRoute<P extends z.ZodType | undefined = z.ZodType | undefined, Q extends z.ZodType | undefined = z.ZodType | undefined, B extends z.ZodType | undefined = z.ZodType | undefined> {
  method: Method;
  /** Below /admin/v1, OpenAPI style: `/orgs/{org_id}/keys`. */
  path: string;
  /** Unique; also how the CLI names the route it runs. */
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  response: z.ZodType;
  /** The content types of an answer sent as a file (the handler returns a Download) rather than as JSON. */
  produces?: readonly string[];
  /** 200 when absent. */
  status?: 200 | 201;
  handler(call: Call<Input<P>, Input<Q>, Input<B>>): Promise<unknown>;
}

/** Types a route's handler by its schemas; the table holds routes of any shape. */
export function defineRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  route: AdminRoute<P, Q, B>,
): AdminRoute {
  return route as unknown as AdminRoute;
}

/** An answer sent as a file, written out as it is produced rather than held whole: an export. */
export class Download {
  constructor(
    readonly contentType: string,
    readonly filename: string,
    readonly body: AsyncIterable<string>,
  ) {}
}

export interface RawInput {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

/** Validates the input against the route's schemas and runs its handler as `actor`. */
export async function invoke(route: AdminRoute, deps: AdminDeps, actor: Actor, input: RawInput, request_id: string | null): Promise<unknown> {
  const call: Call = {
    actor,
    deps,
    params: route.params && parseBody(route.params, input.params ?? {}),
    query: route.query && parseBody(route.query, input.query ?? {}),
    body: route.body && parseBody(route.body, input.body),
    request_id,
  };
  try {
    return await route.handler(call as never);
  } catch (err) {
    throw err instanceof StoreError ? fromStoreError(err) : err;
  }
}
