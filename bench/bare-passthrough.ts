// The floor the gateway is compared with: the least a proxy on the same stack (Fastify 5 + an undici Pool) must do.
// It parses the JSON body as any Fastify route does and forwards it verbatim; no routing, auth, translation or logging.
//   node --import tsx bench/bare-passthrough.ts --port 0 --upstream http://127.0.0.1:PORT/openai/v1

import Fastify from 'fastify';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
  },
});
if (!values.upstream) throw new Error('--upstream <base url, e.g. http://127.0.0.1:PORT/openai/v1> is required');

const upstream = new URL(values.upstream);
const upstreamPath = `${upstream.pathname.replace(/\/$/, '')}/chat/completions`;
const pool = new Pool(upstream.origin);
const app = Fastify();

app.post('/v1/chat/completions', async (request, reply) => {
  const body = request.body as { stream?: unknown };
  const response = await pool.request({
    path: upstreamPath,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: request.headers.authorization ?? '' },
    body: JSON.stringify(body),
  });
  reply.code(response.statusCode).header('content-type', response.headers['content-type'] ?? 'application/json');
  return reply.send(body.stream === true ? response.body : await response.body.text());
});

const address = await app.listen({ host: values.host, port: Number(values.port) });
console.log(`bare-passthrough listening on ${address}`);
