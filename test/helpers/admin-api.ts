// The admin API as end-to-end tests call it: `call` answers whatever came back, `ok` insists on a 200 or 201 and
// returns the parsed body. Requests carry the given token, or the master key.

import assert from 'node:assert/strict';
import { request } from 'undici';

export type Json = Record<string, any>;

export interface AdminCall {
  token?: string;
  method?: string;
  body?: unknown;
}

export interface AdminApi {
  call(path: string, opts?: AdminCall): Promise<{ status: number; headers: Record<string, unknown>; text: string; body: Json }>;
  ok(path: string, opts?: AdminCall): Promise<Json>;
}

/** `baseUrl` is read at each call: tests make the client before the gateway they start in `before`. */
export function adminApi(baseUrl: () => string, master: string): AdminApi {
  const call: AdminApi['call'] = async (path, opts = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? master}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${baseUrl()}/admin/v1${path}`, { method: (opts.method ?? 'GET') as 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.body.text();
    let body: Json = {};
    if (text && /^application\/json/.test(String(res.headers['content-type']))) body = JSON.parse(text) as Json;
    return { status: res.statusCode, headers: res.headers, text, body };
  };
  return {
    call,
    async ok(path, opts = {}) {
      const res = await call(path, opts);
      assert.ok(res.status === 200 || res.status === 201, `${opts.method ?? 'GET'} ${path}: ${res.status} ${res.text}`);
      return JSON.parse(res.text) as Json;
    },
  };
}
