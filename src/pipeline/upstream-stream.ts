// One upstream server-sent-event body, translated into canonical chunks and pushed to a writer. Push rather than a
// chain of async generators: chunks are translated synchronously from each buffer the socket delivers, so a stream
// costs one await per upstream read (and per backpressure wait), not several promises per chunk.

import type { ChatChunk } from '../core/types.ts';
import { transportError, type UpstreamResponse } from '../http/client.ts';
import { createSseDecoder } from '../providers/sse.ts';
import type { StreamDecoder, StreamTranslator } from '../providers/types.ts';
import type { Target } from '../routing/router.ts';
import type { RequestContext } from './context.ts';

/**
 * A canonical chunk, or the JSON text of one as the upstream sent it (see StreamTranslator.passthrough): a consumer
 * that writes OpenAI events sends the text on as it is.
 */
export type StreamChunk = ChatChunk | string;

/** A chunk that carries something beyond the opening role (content, reasoning, a tool call, a finish or usage). */
function substantive(chunk: StreamChunk): boolean {
  if (typeof chunk === 'string') return true;
  if (chunk.usage) return true;
  return chunk.choices.some((c) => c.finish_reason || c.delta.content || c.delta.reasoning_content || c.delta.tool_calls?.length);
}

export class UpstreamStream {
  private readonly decoder: StreamDecoder;
  private readonly body: AsyncIterator<Buffer>;
  /** Translated chunks not yet written. */
  private pending: StreamChunk[] = [];
  private ended = false;
  /** Set once a real chunk arrived. */
  private primed = false;
  /** Once primed, when the consumer takes chunk text and the translator can give it. */
  private passthrough = false;

  constructor(
    private readonly response: UpstreamResponse,
    private readonly release: () => void,
    readonly target: Target,
    private readonly translator: StreamTranslator,
    private readonly ctx: RequestContext,
    /** The consumer writes OpenAI chunks and takes them as JSON text (StreamChunk strings). */
    private readonly acceptsText: boolean,
  ) {
    this.decoder = target.adapter.createStreamDecoder?.() ?? createSseDecoder();
    this.body = response.body[Symbol.asyncIterator]();
  }

  /**
   * Reads until the first real chunk (or the end), so that a provider failing at once (an error event, a cut, an
   * overload right after the opening) still fails over and reaches the client as a plain HTTP error.
   */
  async prime(): Promise<void> {
    while (!this.ended && !this.primed) await this.read();
  }

  /**
   * Hands the chunks of each upstream read to `write` in one batch (one write to the client instead of one per chunk;
   * `last` marks the final one), waiting on `drained` whenever `write` reports a full buffer, until the end.
   */
  async pump(write: (batch: StreamChunk[], last: boolean) => boolean, drained: () => Promise<void>): Promise<void> {
    try {
      for (;;) {
        const batch = this.pending;
        this.pending = [];
        if ((batch.length > 0 || this.ended) && !write(batch, this.ended) && !this.ended) await drained();
        if (this.ended) return;
        await this.read();
      }
    } finally {
      this.close();
    }
  }

  /**
   * Stops the provider's clock and the upstream body; safe to call more than once. A stream that completed in-band
   * still has its last bytes (the chunked-encoding end) in flight: they are drained so the keep-alive connection goes
   * back to the pool. Anything else is destroyed, which also aborts an upstream the client left.
   */
  close(): void {
    this.release();
    const body = this.response.body;
    if (body.destroyed || body.readableEnded) return;
    if (this.translator.complete?.()) body.dump().catch(() => undefined);
    else body.destroy();
  }

  private async read(): Promise<void> {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.body.next();
    } catch (err) {
      throw transportError(err, this.target.provider, this.ctx.abort, 'body');
    }
    if (next.done) {
      this.ended = true;
      this.take(this.translator.end());
      return;
    }
    for (const event of this.decoder.feed(next.value)) {
      if (this.passthrough) {
        const chunk = this.translator.passthrough!(event);
        if (chunk !== null) this.take1(chunk);
      } else {
        this.take(this.translator.event(event));
      }
    }
    if (this.translator.complete?.()) {
      this.ended = true;
      this.take(this.translator.end());
    }
  }

  private take(chunks: ChatChunk[]): void {
    for (const chunk of chunks) this.take1(chunk);
  }

  private take1(chunk: StreamChunk): void {
    if (typeof chunk !== 'string' && chunk.usage) this.ctx.usage = chunk.usage;
    this.pending.push(chunk);
    if (!this.primed && substantive(chunk)) {
      this.primed = true;
      // Events before the first real chunk are parsed (to see whether the provider failed at once); later ones need not be.
      this.passthrough = this.acceptsText && this.translator.passthrough !== undefined;
    }
  }
}
