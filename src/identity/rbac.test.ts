import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrgRole, TeamRole } from '../store/types.ts';
import { decide, platformActor, readsWholeOrg, type Actor } from './rbac.ts';

const actor = (role: OrgRole, teams: Record<string, TeamRole> = {}, user_id: string | null = 'usr_me'): Actor => ({
  id: user_id ?? 'oidc:sub',
  org_id: 'org_a',
  role,
  user_id,
  teams: new Map(Object.entries(teams)),
});

const teamA = { team_ids: ['team_a'] };
const teamB = { team_ids: ['team_b'] };

describe('rbac', () => {
  test('the master key and the CLI may do anything, in every organization', () => {
    for (const who of [platformActor('master'), platformActor('cli')]) {
      assert.equal(who.org_id, null);
      assert.equal(decide(who, 'organization', 'write'), 'allow');
      assert.equal(decide(who, 'credential', 'write'), 'allow');
      assert.equal(decide(who, 'key', 'write', teamB), 'allow');
    }
  });

  test('owner: everything in its organization, the organization included', () => {
    const owner = actor('owner');
    for (const resource of ['organization', 'team', 'user', 'membership', 'key', 'credential', 'policy', 'audit'] as const) {
      assert.equal(decide(owner, resource, 'write', teamB), 'allow', resource);
    }
  });

  test('admin: everything in its organization but changing the organization itself', () => {
    const admin = actor('admin');
    assert.equal(decide(admin, 'organization', 'read'), 'allow');
    assert.equal(decide(admin, 'organization', 'write'), 'forbidden');
    assert.equal(decide(admin, 'credential', 'write'), 'allow');
    assert.equal(decide(admin, 'key', 'write', teamB), 'allow');
    assert.equal(decide(admin, 'audit', 'read'), 'allow');
  });

  test('viewer: reads everything in its organization, changes nothing (403, not 404)', () => {
    const viewer = actor('viewer');
    for (const resource of ['organization', 'team', 'user', 'membership', 'key', 'credential', 'policy', 'audit'] as const) {
      assert.equal(decide(viewer, resource, 'read', teamB), 'allow', resource);
      assert.equal(decide(viewer, resource, 'write', teamB), 'forbidden', resource);
    }
    assert.ok(readsWholeOrg(viewer));
  });

  test("team_admin: its team's keys and members; another team's objects are hidden (404)", () => {
    const ta = actor('team_admin', { team_a: 'team_admin' });
    assert.equal(decide(ta, 'key', 'write', teamA), 'allow');
    assert.equal(decide(ta, 'membership', 'write', { ...teamA, user_id: 'usr_x' }), 'allow');
    assert.equal(decide(ta, 'team', 'read', teamA), 'allow');
    assert.equal(decide(ta, 'team', 'write', teamA), 'forbidden', 'the team itself is managed by admins');
    assert.equal(decide(ta, 'user', 'read', { user_id: 'usr_x', team_ids: ['team_a', 'team_c'] }), 'allow', 'a member of its team');
    assert.equal(decide(ta, 'user', 'write', { user_id: 'usr_x', team_ids: ['team_a'] }), 'forbidden');
    for (const resource of ['team', 'key', 'membership', 'policy', 'user'] as const) {
      assert.equal(decide(ta, resource, 'read', teamB), 'hidden', resource);
      assert.equal(decide(ta, resource, 'write', teamB), 'hidden', resource);
    }
    assert.equal(decide(ta, 'key', 'read', { team_ids: [], user_id: 'usr_other' }), 'hidden', "another user's key");
    assert.ok(!readsWholeOrg(ta));
  });

  test('team_admin and member: no credentials or audit log, refused outright', () => {
    for (const who of [actor('team_admin', { team_a: 'team_admin' }), actor('member', { team_a: 'member' })]) {
      assert.equal(decide(who, 'credential', 'read'), 'forbidden');
      assert.equal(decide(who, 'audit', 'read'), 'forbidden');
      assert.equal(decide(who, 'organization', 'read'), 'allow');
      assert.equal(decide(who, 'organization', 'write'), 'forbidden');
    }
  });

  test("member: its own keys (in its own teams or none), not its team's", () => {
    const member = actor('member', { team_a: 'member' });
    assert.equal(decide(member, 'key', 'write', { team_ids: [], user_id: 'usr_me' }), 'allow');
    assert.equal(decide(member, 'key', 'write', { team_ids: ['team_a'], user_id: 'usr_me' }), 'allow');
    assert.equal(decide(member, 'key', 'write', { team_ids: ['team_b'], user_id: 'usr_me' }), 'forbidden', 'its key, but in a team it is not in');
    assert.equal(decide(member, 'key', 'read', { team_ids: ['team_a'], user_id: 'usr_other' }), 'hidden', "a teammate's key");
    assert.equal(decide(member, 'user', 'read', { user_id: 'usr_me' }), 'allow');
    assert.equal(decide(member, 'membership', 'read', { team_ids: ['team_a'], user_id: 'usr_other' }), 'allow', 'who is in its team');
    assert.equal(decide(member, 'membership', 'write', { team_ids: ['team_a'], user_id: 'usr_me' }), 'forbidden');
    assert.equal(decide(member, 'team', 'read', teamA), 'allow');
    assert.equal(decide(member, 'team', 'read', teamB), 'hidden');
  });

  test("a team role of viewer reads the team's keys but changes none", () => {
    const v = actor('member', { team_a: 'viewer' });
    assert.equal(decide(v, 'key', 'read', teamA), 'allow');
    assert.equal(decide(v, 'key', 'write', teamA), 'forbidden');
  });

  test('the strongest of the roles in the teams an object belongs to counts', () => {
    const who = actor('team_admin', { team_a: 'member', team_b: 'team_admin' });
    assert.equal(decide(who, 'user', 'read', { user_id: 'usr_x', team_ids: ['team_a', 'team_b'] }), 'allow');
    assert.equal(decide(who, 'membership', 'write', { team_ids: ['team_a'] }), 'forbidden');
    assert.equal(decide(who, 'membership', 'write', { team_ids: ['team_b'] }), 'allow');
  });

  test('model policies: the organization-wide ones are readable by every role, a team’s by its members', () => {
    const member = actor('member', { team_a: 'member' });
    assert.equal(decide(member, 'policy', 'read', { org_wide: true }), 'allow');
    assert.equal(decide(member, 'policy', 'read', teamA), 'allow');
    assert.equal(decide(member, 'policy', 'read', teamB), 'hidden');
    assert.equal(decide(member, 'policy', 'write', { org_wide: true }), 'forbidden');
  });

  test('an actor without a user record owns nothing', () => {
    const anonymous = actor('member', {}, null);
    assert.equal(decide(anonymous, 'key', 'read', { team_ids: [], user_id: null }), 'hidden');
  });
});
