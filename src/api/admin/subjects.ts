// Rate limits and budgets in the admin API: both are rows bound to one subject (the organization, a team, a user or a
// key), seen and changed by whoever may see or change their subject, and read into the auth cache with every key they
// bind. This module holds what their two route modules share: the subject a body names, what the role checks see of
// it, how a list is narrowed for those who see only part of the organization, which cached keys a change reaches, and
// the handlers built on those. Each route module keeps its route table (paths, operationIds, schemas) and what
// differs: how a body becomes a row, and what an answer shows of one.

import { readsWholeOrg, type Actor, type Target } from '../../identity/rbac.ts';
import type { SubjectScope } from '../../limits/rules.ts';
import type { Subject, SubjectQuery, SubjectRows, SubjectTable, SubjectVisibility } from '../../store/repositories/subjects.ts';
import type { TenantStore } from '../../store/store.ts';
import type { Page } from '../../store/types.ts';
import { authorize, authorizeCreate, keyTarget, reachOrg } from './access.ts';
import { changeInOrg, type Change } from './changes.ts';
import { notFound } from './errors.ts';
import type { AdminDeps, Call } from './route.ts';

type SubjectBody = { scope: SubjectScope; subject_id?: string | undefined };

/** For scope org, subject_id may be left out: the organization in the path is the subject. */
function subjectOf(orgId: string, body: SubjectBody): Subject {
  return { scope: body.scope, subject_id: body.subject_id ?? orgId };
}

/**
 * A team's limits belong to the team, a user's to the user, a key's to the key's team and owner; the organization's
 * to no team, so only roles that see the whole organization see them. A key that does not exist belongs to nobody
 * (the database refuses it afterwards).
 */
async function subjectTarget(tenant: TenantStore, subject: Subject): Promise<Target> {
  switch (subject.scope) {
    case 'org':
      return { org_wide: true };
    case 'team':
      return { team_ids: [subject.subject_id] };
    case 'user':
      return { user_id: subject.subject_id };
    case 'key': {
      const key = await tenant.keys.get(subject.subject_id);
      return key ? keyTarget(key) : {};
    }
  }
}

/** The filters to list with: as asked, and for team-scoped roles also only what binds their teams, themselves or their keys. */
function listFilters<Q extends object>(actor: Actor, query: Q): Q & { visible_to?: SubjectVisibility } {
  return readsWholeOrg(actor) ? query : { ...query, visible_to: { team_ids: [...actor.teams.keys()], user_id: actor.user_id } };
}

/** Limits and budgets travel with every key they bind: a key's reaches that key, anything else may reach any key. */
function invalidateSubject(keyAuth: AdminDeps['keyAuth'], subject: Subject): Promise<void> {
  return subject.scope === 'key' ? keyAuth.invalidate(subject.subject_id) : keyAuth.invalidateAll();
}

type OrgParams = { org_id: string };
type ItemParams<Id extends string> = OrgParams & { [K in Id]: string };

/** What the handlers need to know of one kind of subject-bound row. */
export interface SubjectEntity<E extends Subject & { id: string }, V, Id extends string> {
  /** The RBAC resource, also the audit records' target_type and their actions' prefix (`limit.create`). */
  resource: 'limit' | 'budget';
  /** What a "not found" answer calls one. */
  name: string;
  /** The path parameter naming one. */
  idParam: Id;
  rows(tenant: TenantStore): Pick<SubjectRows<SubjectTable, E>, 'get' | 'list' | 'delete'>;
  /** What answers and audit records show of one. */
  view(entity: E): V;
}

/** The owner of a new row, as the route module's create function gets it. */
export type NewSubject = Subject & { created_by: string };

/**
 * The handlers of the list, create, get, update and delete routes. create and update take the route module's own
 * step, which turns the call's body into a row; the rest is the same for every subject-bound entity.
 */
export function subjectHandlers<E extends Subject & { id: string }, V, Id extends string>(entity: SubjectEntity<E, V, Id>) {
  const { resource, view } = entity;

  /** The one in the path, if the actor may see it (404 otherwise) and, for 'write', change it (403 otherwise). */
  async function read(call: Call<ItemParams<Id>>, tenant: TenantStore, operation: 'read' | 'write'): Promise<E> {
    const id = call.params[entity.idParam];
    const found = await entity.rows(tenant).get(id);
    if (!found) throw notFound(entity.name, id);
    authorize(call.actor, resource, operation, await subjectTarget(tenant, found), id);
    return found;
  }

  /** In one transaction with its audit record; then the keys the row binds are dropped from the auth cache. */
  async function change(call: Call<OrgParams>, make: (tenant: TenantStore) => Promise<{ result: E; change: Change }>): Promise<E> {
    const result = await changeInOrg(call, call.params.org_id, make);
    await invalidateSubject(call.deps.keyAuth, result);
    return result;
  }

  return {
    async list({ actor, deps, params, query }: Call<OrgParams, SubjectQuery>): Promise<Page<V>> {
      const tenant = await reachOrg(deps.store, actor, params.org_id);
      const page = await entity.rows(tenant).list(listFilters(actor, query));
      return { ...page, items: page.items.map(view) };
    },

    async create(call: Call<OrgParams, unknown, SubjectBody>, create: (tenant: TenantStore, subject: NewSubject) => Promise<E>): Promise<V> {
      const created = await change(call, async (tenant) => {
        const subject = subjectOf(call.params.org_id, call.body);
        authorizeCreate(call.actor, resource, await subjectTarget(tenant, subject));
        const created = await create(tenant, { ...subject, created_by: call.actor.id });
        return { result: created, change: { action: `${resource}.create`, target_type: resource, target_id: created.id, after: view(created) } };
      });
      return view(created);
    },

    async get(call: Call<ItemParams<Id>>): Promise<V> {
      return view(await read(call, await reachOrg(call.deps.store, call.actor, call.params.org_id), 'read'));
    },

    /** `update` gets the row as it was and gives it back changed. */
    async update(call: Call<ItemParams<Id>>, update: (tenant: TenantStore, before: E) => Promise<E>): Promise<V> {
      const after = await change(call, async (tenant) => {
        const before = await read(call, tenant, 'write');
        const after = await update(tenant, before);
        return { result: after, change: { action: `${resource}.update`, target_type: resource, target_id: before.id, before: view(before), after: view(after) } };
      });
      return view(after);
    },

    async delete(call: Call<ItemParams<Id>>): Promise<{ id: string; deleted: true }> {
      const before = await change(call, async (tenant) => {
        const before = await read(call, tenant, 'write');
        await entity.rows(tenant).delete(before.id);
        return { result: before, change: { action: `${resource}.delete`, target_type: resource, target_id: before.id, before: view(before) } };
      });
      return { id: before.id, deleted: true };
    },
  };
}
