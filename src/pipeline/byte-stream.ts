// An upstream body passed on as bytes, unparsed (speech audio, a transcript streamed as events): there is nothing to
// decode or translate, so the gateway forwards what arrives and only keeps the provider's clock and connection in order.

import { transportError, type UpstreamResponse } from '../http/client.ts';
import type { Target } from '../routing/router.ts';
import type { RequestContext } from './context.ts';

export class ByteStream {
  private readonly body: AsyncIterator<Buffer>;
  /** Read by `prime` and not yet handed on. */
  private first: Buffer | undefined;
  private ended = false;

  constructor(
    private readonly response: UpstreamResponse,
    private readonly release: () => void,
    readonly target: Target,
    readonly contentType: string | undefined,
    private readonly ctx: RequestContext,
  ) {
    this.body = response.body[Symbol.asyncIterator]();
  }

  /** Reads the first bytes, so that a provider failing before it sends any still fails over. */
  async prime(): Promise<void> {
    this.first = await this.read();
  }

  /** The next bytes from the provider, or undefined at the end of its answer. */
  async next(): Promise<Buffer | undefined> {
    const first = this.first;
    if (first !== undefined) {
      this.first = undefined;
      return first;
    }
    return this.ended ? undefined : this.read();
  }

  /**
   * Stops the provider's clock; safe to call more than once. A body read to its end leaves its connection to the pool;
   * one left unfinished (the client went away, the write failed) is destroyed, which aborts the upstream request.
   */
  close(): void {
    this.release();
    const body = this.response.body;
    if (!body.destroyed && !body.readableEnded) body.destroy();
  }

  private async read(): Promise<Buffer | undefined> {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.body.next();
    } catch (err) {
      throw transportError(err, this.target.provider, this.ctx.abort, 'body');
    }
    if (next.done) this.ended = true;
    return next.done ? undefined : next.value;
  }
}
