// The request every target receives: a small chat turn, so the run measures per-request gateway cost, not bytes moved.

export const API_KEY = 'sk-bench';
/** The model the bare passthrough and Portkey forward verbatim; the gateway maps "bench-model" onto it. */
export const UPSTREAM_MODEL = 'gpt-4o-mini';

export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in five words.' },
    ],
    max_tokens: 16,
    ...(stream ? { stream: true } : {}),
  });
}
