// Writes a provider's answer to the client as the bytes arrive (speech audio), with the provider's content type. The
// caller has already read the first bytes (ByteStream.prime), so a provider that failed at once got a plain HTTP
// error. A binary body has no in-band way to report a later failure, so the response is cut: the client sees an
// incomplete answer rather than a truncated file it could mistake for a whole one.

import type { FastifyReply } from 'fastify';
import { CLIENT_CLOSED } from '../core/errors.ts';
import { ClientAbortedError } from '../http/client.ts';
import type { ByteStream } from '../pipeline/byte-stream.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { toGatewayError } from './errors.ts';
import { OVERHEAD_HEADER, overheadHeaderValue } from '../observability/overhead.ts';
import { drained } from './sse.ts';

export async function writeBytes(reply: FastifyReply, stream: ByteStream, ctx: RequestContext, bodyLimit: number): Promise<void> {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    'content-type': stream.contentType ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    // Tells nginx-style proxies in front of the gateway not to buffer the audio.
    'x-accel-buffering': 'no',
    // A hijacked reply skips Fastify's headers, so the request id is set here too.
    'x-request-id': ctx.id,
    'x-switchboard-provider': stream.target.provider.name,
    [OVERHEAD_HEADER]: overheadHeaderValue(ctx.startedAt, ctx.upstreamMs),
  });
  ctx.ttftMs = performance.now() - ctx.startedAt;
  try {
    for (let chunk = await stream.next(); chunk !== undefined; chunk = await stream.next()) {
      if (!res.write(chunk)) await drained(res, ctx);
    }
    res.end();
  } catch (err) {
    ctx.error = err instanceof ClientAbortedError ? CLIENT_CLOSED : toGatewayError(err, bodyLimit);
    res.destroy();
  } finally {
    stream.close();
  }
}
