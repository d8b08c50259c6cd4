// One fake-provider server and one real gateway process configured with every provider type in front of it.

import { startFakeGateway, type FakeGateway } from '../helpers/fake-gateway.ts';

export type E2E = FakeGateway;

export const PROVIDER_MODELS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-sonnet-4-5',
  gemini: 'gemini/gemini-2.5-flash',
} as const;

export function startE2E(): Promise<E2E> {
  return startFakeGateway(
    (url) => `
server: { body_limit: 256kb }
logging: { level: warn }
providers:
  openai: { type: openai, api_key: \${FAKE_OPENAI_KEY}, base_url: "${url}/openai/v1", models: [gpt-4o-mini, text-embedding-3-small] }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${url}/anthropic" }
  gemini: { type: gemini, api_key: gemini-fake, base_url: "${url}/gemini" }
  local: { type: vllm, base_url: "${url}/openai/v1" }
  impatient: { type: openai, api_key: k, base_url: "${url}/openai/v1", timeouts: { first_byte_ms: 400, idle_ms: 400 } }
  bounded: { type: openai, api_key: k, base_url: "${url}/openai/v1", timeouts: { total_ms: 600 } }
  nowhere: { type: openai, api_key: k, base_url: "http://127.0.0.1:9/v1", timeouts: { connect_ms: 1000 } }
models:
  - name: smart
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
  - name: resilient
    strategy: fallback
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: gemini, model: gemini-2.5-flash }
  - name: embed
    targets: [{ provider: gemini, model: gemini-embedding-001 }]
`,
    { env: { FAKE_OPENAI_KEY: 'sk-openai-fake' } },
  );
}
