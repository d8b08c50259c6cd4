// One upstream streamed body, decoded into events, read into items for the consumer (canonical chunks, or the
// provider's own events on a native passthrough) and pushed to a writer. Push rather than a chain of async generators:
// items are produced synchronously from each buffer the socket delivers, so a stream costs one await per upstream
// read (and per backpressure wait), not several promises per item.

import { GatewayError } from '../core/errors.ts';
import type { ChatChunk } from '../core/types.ts';
import { transportError, type UpstreamResponse } from '../http/client.ts';
import { hasKey, hasText } from '../providers/openai/stream.ts';
import { createSseDecoder } from '../providers/sse.ts';
import type { StreamDecoder, StreamReader, StreamTranslator } from '../providers/types.ts';
import type { Target } from '../routing/router.ts';
import { estimateUsage, generatedText } from '../usage/estimate-tokens.ts';
import type { RequestContext } from './context.ts';

/**
 * A canonical chunk, or the JSON text of one as the upstream sent it (see StreamTranslator.passthrough): a consumer
 * that writes OpenAI events sends the text on as it is.
 */
export type StreamChunk = ChatChunk | string;

function substantiveChunk(chunk: ChatChunk): boolean {
  if (chunk.usage) return true;
  return chunk.choices.some((c) => c.finish_reason || c.delta.content || c.delta.reasoning_content || c.delta.tool_calls?.length);
}

const deltas = (chunks: readonly ChatChunk[]) => chunks.flatMap((chunk) => chunk.choices.map((c) => c.delta));

/**
 * A passed-through event is parsed only when its text says it carries a finish reason (once per choice, at the end);
 * text the client gets unparsed anyway must not fail the stream here.
 */
function finishReasons(chunk: StreamChunk, into: string[]): void {
  let parsed: ChatChunk | undefined = typeof chunk === 'string' ? undefined : chunk;
  if (typeof chunk === 'string' && hasKey(chunk, 'finish_reason', '"')) {
    try {
      parsed = JSON.parse(chunk) as ChatChunk;
    } catch {
      return;
    }
  }
  if (!Array.isArray(parsed?.choices)) return;
  for (const c of parsed.choices) if (c.finish_reason) into.push(c.finish_reason);
}

/** Canonical chunks through the provider's translator, as ChatChunk objects. */
export function canonicalReader(translator: StreamTranslator): StreamReader<ChatChunk> {
  return {
    event: (ev) => translator.event(ev),
    end: () => translator.end(),
    complete: () => translator.complete?.() ?? false,
    substantive: substantiveChunk,
    usage: (chunk) => chunk.usage ?? undefined,
    finishReasons,
    output: (chunks) => generatedText(deltas(chunks)),
  };
}

/**
 * Whether an OpenAI event's text may carry more than an opening (a role, an empty content): content, reasoning, tool
 * calls, a finish reason or usage. Text that is not a JSON object may be anything.
 */
function mayBeSubstantive(data: string): boolean {
  return (
    data.charCodeAt(0) !== 123 /* { */ ||
    hasText(data, 'content') ||
    hasKey(data, 'content', '[') ||
    hasText(data, 'reasoning_content') ||
    hasKey(data, 'tool_calls', '[') ||
    hasKey(data, 'finish_reason', '"') ||
    hasKey(data, 'usage', '{')
  );
}

/** A passed-through event's chunk, or nothing when its text is not JSON (the client got it as it came). */
function parsedChunk(chunk: StreamChunk): ChatChunk[] {
  if (typeof chunk !== 'string') return [chunk];
  try {
    return [JSON.parse(chunk) as ChatChunk];
  } catch {
    return [];
  }
}

/**
 * Canonical chunks for a consumer that writes OpenAI events: an OpenAI-format stream is handed on as event text
 * (StreamTranslator.passthrough), parsed only where it carries usage or an error. Until the stream is committed, an
 * event whose text may carry the answer is parsed in full, so that a provider sending something that is not a chunk
 * fails over rather than reaching the client; the openings before it (a role, an empty content) go on as text, an
 * error among them still parsed (parsing two events of every stream was a sixth of a streamed request's JSON work).
 */
export function openaiTextReader(translator: StreamTranslator): StreamReader<StreamChunk> {
  let primed = false;
  return {
    event: (ev) => {
      if (!translator.passthrough || (!primed && mayBeSubstantive(ev.data))) return translator.event(ev);
      const chunk = translator.passthrough(ev);
      return chunk === null ? [] : [chunk];
    },
    end: () => translator.end(),
    complete: () => translator.complete?.() ?? false,
    substantive: (chunk) => typeof chunk !== 'string' && substantiveChunk(chunk),
    usage: (chunk) => (typeof chunk === 'string' ? undefined : (chunk.usage ?? undefined)),
    finishReasons,
    primed: () => {
      primed = true;
    },
    // Passed-through events are parsed only now, in the rare stream that ended without the usage it was asked for.
    output: (chunks) => generatedText(deltas(chunks.flatMap(parsedChunk))),
  };
}

export class UpstreamStream<T> {
  private readonly decoder: StreamDecoder;
  private readonly body: AsyncIterator<Buffer>;
  /** Items not yet written. */
  private pending: T[] = [];
  private ended = false;
  /** Set once a substantive item arrived. */
  private primed = false;
  /** An error raised after items of the same upstream read: thrown once those items are written. */
  private failure: unknown = undefined;
  /**
   * Every item, kept for a token estimate should the stream end without usage, or for the answer's text when the
   * request is mirrored to a shadow (readers with `output` only).
   */
  private readonly seen: T[] | undefined;
  /** Where the items' finish reasons go: only a traced request's, from a reader that knows them. */
  private readonly finishes: string[] | undefined;

  constructor(
    private readonly response: UpstreamResponse,
    private readonly release: () => void,
    readonly target: Target,
    private readonly reader: StreamReader<T>,
    private readonly ctx: RequestContext,
  ) {
    this.decoder = target.adapter.createStreamDecoder?.() ?? createSseDecoder();
    this.body = response.body[Symbol.asyncIterator]();
    this.seen = reader.output && (!reader.reportsUsage || ctx.shadow) ? [] : undefined;
    this.finishes = ctx.trace && reader.finishReasons ? (ctx.finishReasons = []) : undefined;
  }

  /**
   * Reads until the first substantive item (or the end), so that a provider failing at once (an error event, a cut,
   * an overload right after the opening) still fails over and reaches the client as a plain HTTP error.
   */
  async prime(): Promise<void> {
    while (!this.ended && !this.primed) await this.read();
  }

  /**
   * Hands the items of each upstream read to `write` in one batch (one write to the client instead of one per item;
   * `last` marks the final one), waiting on `drained` whenever `write` reports a full buffer, until the end.
   */
  async pump(write: (batch: T[], last: boolean) => boolean, drained: () => Promise<void>): Promise<void> {
    try {
      for (;;) {
        const batch = this.pending;
        this.pending = [];
        if ((batch.length > 0 || this.ended) && !write(batch, this.ended) && !this.ended) await drained();
        if (this.failure !== undefined) throw this.failure;
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
    if (this.reader.complete()) body.dump().catch(() => undefined);
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
      this.finish();
      return;
    }
    const wasPrimed = this.primed;
    try {
      for (const event of this.decoder.feed(next.value)) this.take(this.reader.event(event));
      if (this.reader.complete()) this.finish();
    } catch (err) {
      if (err instanceof GatewayError && err.usage) this.ctx.usage = err.usage;
      // Before the stream was committed, a failure still fails over. After, what the same read brought before the
      // error (text the provider did send) reaches the client ahead of the error event.
      if (!wasPrimed || this.pending.length === 0) throw err;
      this.ended = false;
      this.failure = err;
    }
  }

  private finish(): void {
    this.ended = true;
    this.take(this.reader.end());
    if (!this.seen || (this.ctx.usage && !this.ctx.shadow)) return;
    const output = this.reader.output!(this.seen);
    if (!this.ctx.usage) estimateUsage(this.ctx, output);
    if (this.ctx.shadow) this.ctx.shadow.output = output;
  }

  private take(items: T[]): void {
    for (const item of items) {
      this.seen?.push(item);
      if (this.finishes) this.reader.finishReasons!(item, this.finishes);
      const usage = this.reader.usage(item);
      if (usage) this.ctx.usage = usage;
      this.pending.push(item);
      if (!this.primed && this.reader.substantive(item)) {
        this.primed = true;
        // Events before the first real item are read in full (to see whether the provider failed at once).
        this.reader.primed?.();
      }
    }
  }
}
