// Waits for what the gateway does in the background (the usage ledger's writes, above all): polls `check` until it
// holds, and otherwise fails the test naming what never happened. A check that throws counts as not yet (a database
// still coming back); the last error is in the failure.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export async function eventually(check: () => boolean | Promise<boolean>, what: string, { timeoutMs = 10_000, everyMs = 10 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  assert.fail(`timed out waiting for: ${what}${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : ''}`);
}
