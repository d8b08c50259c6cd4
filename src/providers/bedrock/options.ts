// The fields a `type: bedrock` provider entry takes beyond the common ones, and the address they imply.
//
// Region and AWS credentials fall back to the standard AWS environment variables, and they are read when the config is
// resolved rather than at every signature. A process's environment cannot change under it, so reading it later would
// gain nothing; reading it once turns a missing region or half a key pair into a config problem with its YAML path at
// startup (and in `switchboard config check`) instead of a failure on the first request. Which credentials are in
// force is then visible in one place, and the signer built from them is reused for every call. The environment is a
// parameter so that tests can pass their own; the registry passes the gateway's.

import { z } from 'zod';

interface AwsCredentials {
  access_key_id: string;
  secret_access_key: string;
  session_token?: string;
}

export type BedrockOptions = {
  region: string;
  /** Absent when neither the entry nor the environment gives keys: the provider then needs a Bedrock API key (api_key). */
  aws?: AwsCredentials;
};

const nonEmpty = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`) })
    .min(1, `${what} must not be empty`);

const credentials = z.strictObject({
  access_key_id: nonEmpty('access_key_id'),
  secret_access_key: nonEmpty('secret_access_key'),
  // `${AWS_SESSION_TOKEN:-}` resolves to '' for long-term keys; that means no token.
  session_token: z.string().optional(),
});

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function bedrockOptionsSchema(env: NodeJS.ProcessEnv): z.ZodType<BedrockOptions> {
  return z
    .strictObject({
      region: z.string().regex(REGION, 'region must be an AWS region such as us-east-1').optional(),
      aws: credentials.optional(),
    })
    .transform((options, ctx): BedrockOptions => {
      const region = options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
      if (!region) {
        const message = 'Bedrock needs a region: set region (e.g. us-east-1), or AWS_REGION in the environment';
        ctx.addIssue({ code: 'custom', path: ['region'], message });
        return z.NEVER;
      }
      const aws = options.aws ?? credentialsFromEnv(env);
      if (typeof aws === 'string') {
        ctx.addIssue({ code: 'custom', path: ['aws'], message: aws });
        return z.NEVER;
      }
      if (!aws) return { region };
      const { session_token, ...keys } = aws;
      return { region, aws: session_token ? { ...keys, session_token } : keys };
    });
}

/** The standard variables as a key pair, nothing when neither half is set, or a message when only one is. */
function credentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentials | string | undefined {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    const [set, unset] = id ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
    return `${unset} is not set while ${set} is: set both, or give aws.access_key_id and aws.secret_access_key`;
  }
  return { access_key_id: id, secret_access_key: secret, ...(env.AWS_SESSION_TOKEN && { session_token: env.AWS_SESSION_TOKEN }) };
}

export function bedrockBaseUrl(options: Record<string, unknown>): string {
  return `https://bedrock-runtime.${String(options.region)}.amazonaws.com`;
}
