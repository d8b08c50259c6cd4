// Usage records for ledger and store tests: complete and valid, with whatever a test cares about overridden.

import { randomUUID } from 'node:crypto';
import type { UsageRecord } from '../../src/usage/record.ts';

export function usageRecordFixture(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    request_id: `req_${randomUUID()}`,
    time: new Date().toISOString(),
    key_id: null,
    team_id: null,
    user_id: null,
    org_id: null,
    surface: 'openai',
    model: 'smart',
    provider: 'openai',
    provider_model: 'gpt-4o-mini',
    attempts: 1,
    status: 200,
    input_tokens: 10,
    output_tokens: 5,
    cached_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0.0001,
    priced: true,
    latency_ms: 12.5,
    ttft_ms: null,
    cache_hit: false,
    estimated: false,
    ...overrides,
  };
}
