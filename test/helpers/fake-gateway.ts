// The fake providers and one real gateway process in front of them, with an openai SDK client on the gateway: what
// most end-to-end files start before their tests and stop after them.

import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from './gateway.ts';

export interface FakeGateway {
  fake: FakeProviders;
  gateway: RunningGateway;
  /** No retries, so a test sees each failure as the gateway gave it. */
  client: OpenAI;
  stop(): Promise<void>;
}

/** The YAML opening most routing tests share: quiet logs and one provider per main wire format on the fake providers. */
export const threeProviders = (url: string): string => `
logging: { level: warn }
providers:
  openai: { type: openai, api_key: sk-fake, base_url: "${url}/openai/v1" }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${url}/anthropic" }
  gemini: { type: gemini, api_key: g-fake, base_url: "${url}/gemini" }`;

/** `config` gets the fake providers' base URL and returns the gateway's YAML. */
export async function startFakeGateway(config: (fakeUrl: string) => string, opts: { env?: NodeJS.ProcessEnv; apiKey?: string } = {}): Promise<FakeGateway> {
  const fake = await startFakeProviders();
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config: config(fake.url), ...(opts.env ? { env: opts.env } : {}) });
  } catch (err) {
    await fake.close();
    throw err;
  }
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: opts.apiKey ?? 'sk-client', maxRetries: 0 });
  return {
    fake,
    gateway,
    client,
    async stop() {
      await gateway.stop();
      await fake.close();
    },
  };
}
