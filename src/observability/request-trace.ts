// What the pipeline sees of a request's trace (observability/tracing.ts makes them when tracing is on): the request
// span lives on the context, and each upstream attempt gets a child span whose context travels upstream.

import type { Target } from '../routing/router.ts';

/** One upstream attempt's span: the headers that carry its context to the provider (traceparent), and its end. */
export interface AttemptTrace {
  readonly headers: Readonly<Record<string, string>>;
  /** `status` is the provider's HTTP status when it answered; `error` why the attempt failed, if it did. */
  end(outcome: { status?: number | undefined; error?: unknown }): void;
}

/** The request span, set on the context by the tracing stage. */
export interface RequestTrace {
  attempt(target: Target, attempt: number): AttemptTrace;
}
