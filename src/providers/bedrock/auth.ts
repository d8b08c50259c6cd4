// Bedrock credentials. A Bedrock API key (the provider's api_key) is a bearer token and needs nothing else; otherwise
// each call is signed with AWS Signature Version 4 over its final method, URL, headers and body, which is why this
// happens in the adapter's authorize() step, after the request is built. Signing is CPU only (HMAC-SHA256, no I/O).

import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderConfig, UpstreamCall } from '../types.ts';
import type { BedrockOptions } from './options.ts';

const SIGNING_SERVICE = 'bedrock';

/** One signer per configured provider: it keeps the derived signing key of the day, so most calls reuse it. */
const signers = new WeakMap<ProviderConfig, SignatureV4>();

function signerFor(provider: ProviderConfig, options: BedrockOptions): SignatureV4 | undefined {
  let signer = signers.get(provider);
  if (!signer && options.aws) {
    const { access_key_id, secret_access_key, session_token } = options.aws;
    signer = new SignatureV4({
      credentials: { accessKeyId: access_key_id, secretAccessKey: secret_access_key, ...(session_token && { sessionToken: session_token }) },
      region: options.region,
      service: SIGNING_SERVICE,
      sha256: Hash.bind(null, 'sha256'),
      // No x-amz-content-sha256 header: Bedrock hashes the body itself, and the header would only repeat the hash.
      applyChecksum: false,
    });
    signers.set(provider, signer);
  }
  return signer;
}

export async function authorizeBedrock(call: UpstreamCall, provider: ProviderConfig): Promise<UpstreamCall> {
  if (provider.api_key) return { ...call, headers: { ...call.headers, authorization: `Bearer ${provider.api_key}` } };
  const signer = signerFor(provider, provider.options as BedrockOptions);
  if (!signer) {
    throw new GatewayError(
      401,
      'authentication_error',
      `${provider.name}: no Bedrock credentials are configured; set api_key (a Bedrock API key), aws.access_key_id and ` +
        'aws.secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment',
      { code: 'provider_credentials_missing', provider: provider.name },
    );
  }
  const url = new URL(call.url);
  // The host is part of the signature, so it is set here rather than left to the HTTP client; undici sends it as given.
  const headers = { ...call.headers, host: url.host };
  const signed = await signer.sign({
    method: call.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port && { port: Number(url.port) }),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    ...(call.body !== undefined && { body: call.body }),
  });
  return { ...call, headers: signed.headers };
}
