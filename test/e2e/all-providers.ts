// One fake-provider server and one real gateway process with one provider of every provider type in front of it, for
// tests that run the same cases across all of them (matrix.test.ts). Each provider is configured the way its own e2e
// file configures it against the fake.

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_AWS_CREDENTIALS } from '../fake-providers/bedrock.ts';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import type { ProviderName } from '../fake-providers/types.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

export interface ProviderUnderTest {
  /** The provider type, which is also its configured name. */
  type: string;
  /** What a client sends as `model`: `<provider>/<model>`. */
  model: string;
  /** The fake that receives its calls, for scripts, faults and recorded requests. */
  fake: ProviderName;
  /** Whether its wire format reports cached input tokens (Mistral's usage has only the three counts). */
  cachedTokens: boolean;
}

const entries: [type: string, model: string, fake: ProviderName][] = [
  ['openai', 'gpt-4o-mini', 'openai'],
  ['anthropic', 'claude-sonnet-4-5', 'anthropic'],
  ['gemini', 'gemini-2.5-flash', 'gemini'],
  ['azure-openai', 'gpt-4o', 'azure'],
  ['bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0', 'bedrock'],
  ['vertex', 'gemini-2.5-flash', 'vertex'],
  ['mistral', 'mistral-large-latest', 'mistral'],
  ['cohere', 'command-a-03-2025', 'cohere'],
  // An OpenAI-compatible preset, served by the OpenAI fake.
  ['vllm', 'qwen3-8b', 'openai'],
];

export const PROVIDERS: readonly ProviderUnderTest[] = entries.map(([type, model, fake]) => ({ type, model: `${type}/${model}`, fake, cachedTokens: type !== 'mistral' }));

export interface AllProviders {
  fake: FakeProviders;
  gateway: RunningGateway;
  stop(): Promise<void>;
}

/** A service-account key whose token exchange goes to the fake's OAuth endpoint. */
function serviceAccountKey(tokenUri: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const file = join(mkdtempSync(join(tmpdir(), 'switchboard-matrix-')), 'vertex-key.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'acme-prod',
      private_key_id: '0123abcd',
      private_key: privateKey,
      client_email: 'switchboard@acme-prod.iam.gserviceaccount.com',
      client_id: '1234567890',
      token_uri: tokenUri,
    }),
  );
  return file;
}

export async function startAllProviders(): Promise<AllProviders> {
  const fake = await startFakeProviders();
  const aws = FAKE_AWS_CREDENTIALS.longTerm;
  const config = `
server: { body_limit: 256kb }
logging: { level: warn }
providers:
  openai: { type: openai, api_key: sk-openai-fake, base_url: "${fake.url}/openai/v1" }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${fake.url}/anthropic" }
  gemini: { type: gemini, api_key: gemini-fake, base_url: "${fake.url}/gemini" }
  azure-openai: { type: azure-openai, api_key: azure-fake-key, base_url: "${fake.url}/azure", deployments: { gpt-4o: prod-4o } }
  bedrock:
    type: bedrock
    region: us-east-1
    base_url: "${fake.url}/bedrock"
    aws: { access_key_id: ${aws.access_key_id}, secret_access_key: "${aws.secret_access_key}" }
  vertex:
    type: vertex
    project: acme-prod
    location: us-east5
    credentials: "${serviceAccountKey(`${fake.url}/vertex/oauth/token`)}"
    base_url: "${fake.url}/vertex"
  mistral: { type: mistral, api_key: mistral-fake, base_url: "${fake.url}/mistral/v1" }
  cohere: { type: cohere, api_key: co-fake, base_url: "${fake.url}/cohere" }
  vllm: { type: vllm, base_url: "${fake.url}/openai/v1" }
`;
  const gateway = await startGateway({ config });
  return {
    fake,
    gateway,
    async stop() {
      await gateway.stop();
      await fake.close();
    },
  };
}
