// The OpenAPI document against the routes Fastify actually registers, and its schemas against the JSON Schema 2020-12
// meta-schema (ajv, which fastify itself depends on) and against real answers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../config/load.ts';
import { createLogger } from '../../observability/logger.ts';
import { buildApp } from '../../server/app.ts';
import { createServices, openGatewayDependencies, type Services } from '../../server/services.ts';
import { ADMIN_PREFIX } from './plugin.ts';

const MASTER = 'test-master-key-0123456789';

let app: FastifyInstance;
let services: Services;
const registered: string[] = [];
let doc: {
  openapi: string;
  paths: Record<string, Record<string, { parameters: { schema: object }[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, object> };
};

before(async () => {
  const config = parseConfig(`storage: { database: "sqlite::memory:" }\nauth: { master_key: ${MASTER}, secret: ${'s'.repeat(40)} }\n`, {}, 'test');
  const logger = createLogger({ level: 'silent' });
  services = createServices(config, logger, await openGatewayDependencies(config, logger, {}));
  app = buildApp(services);
  // The admin plugin's routes are added when the app gets ready, so this hook sees every one of them.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') registered.push(`${method} ${route.url}`);
  });
  await app.ready();
  const res = await app.inject({ method: 'GET', url: `${ADMIN_PREFIX}/openapi.json` });
  assert.equal(res.statusCode, 200);
  doc = res.json();
});
after(async () => {
  await app.close();
  await services.close();
});

function compiler() {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'https://switchboard.test/openapi', components: doc.components });
  return (name: string) => ajv.compile({ $ref: `https://switchboard.test/openapi#/components/schemas/${name}` });
}

describe('admin OpenAPI document', () => {
  test('is OpenAPI 3.1 and describes every registered admin route, and nothing else', () => {
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const served = registered.filter((r) => r.includes(`${ADMIN_PREFIX}/`) && r !== `GET ${ADMIN_PREFIX}/openapi.json`);
    assert.ok(served.length >= 30, `${served.length} routes`);
    assert.deepEqual([...documented].sort(), [...served].sort());
  });

  test('every component and parameter schema is a valid JSON Schema (2020-12) and every $ref resolves', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      assert.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`);
    }
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const p of op.parameters) assert.ok(ajv.validateSchema(p.schema), `${method} ${path}: ${ajv.errorsText(ajv.errors)}`);
      }
    }
    const compile = compiler();
    for (const name of Object.keys(doc.components.schemas)) compile(name);
    const refs = JSON.stringify(doc.paths).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of refs) assert.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} resolves`);
  });

  test('real answers match their documented schemas (which admit no secret fields)', async () => {
    const compile = compiler();
    const auth = { authorization: `Bearer ${MASTER}` };
    const org = await app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/orgs`, headers: auth, payload: { name: 'docs' } });
    assert.ok(compile('Organization')(org.json()));
    const key = await app.inject({ method: 'POST', url: `${ADMIN_PREFIX}/orgs/${org.json().id}/keys`, headers: auth, payload: { name: 'k' } });
    assert.equal(key.statusCode, 201);
    assert.ok(compile('IssuedKey')(key.json()));
    const listed = await app.inject({ method: 'GET', url: `${ADMIN_PREFIX}/orgs/${org.json().id}/keys`, headers: auth });
    const isPage = compile('VirtualKeyPage');
    assert.ok(isPage(listed.json()), JSON.stringify(isPage.errors));
    assert.ok(!compile('VirtualKey')({ ...key.json() }), 'a key with its secret is not a listed key');
    const denied = await app.inject({ method: 'GET', url: `${ADMIN_PREFIX}/audit` });
    assert.equal(denied.statusCode, 401);
    const isError = compile('Error');
    assert.ok(isError(denied.json()), JSON.stringify([denied.json(), isError.errors]));
  });
});
