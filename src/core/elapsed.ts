/** Milliseconds between two performance.now() readings, to the hundredth: what logs, records and reports show. */
export function elapsedMs(from: number, to = performance.now()): number {
  return Math.round((to - from) * 100) / 100;
}
