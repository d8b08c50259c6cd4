// Who may use the gateway. With auth.master_key set, every proxied request must present it (Authorization: Bearer,
// or x-api-key / api-key as the Anthropic and Azure SDKs send it). Without one, the gateway serves this machine only,
// so a quick-start instance bound to a public address cannot spend the operator's provider keys for strangers.

import type { GatewayConfig } from '../../config/load.ts';
import { GatewayError } from '../../core/errors.ts';
import { constantTimeMatcher } from '../../identity/keys.ts';
import type { Stage } from '../stages.ts';

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export type Authenticate = (credential: string | undefined, ip: string) => void;

export function authenticator(auth: GatewayConfig['auth']): Authenticate {
  if (!auth.master_key) {
    return (_credential, ip) => {
      if (!isLoopback(ip)) {
        throw new GatewayError(403, 'permission_error', 'This gateway has no auth.master_key, so it only serves requests from its own machine. Set auth.master_key to serve other hosts.', {
          code: 'local_only',
        });
      }
    };
  }
  const isMasterKey = constantTimeMatcher(auth.master_key);
  return (credential) => {
    if (!isMasterKey(credential)) {
      throw new GatewayError(401, 'authentication_error', 'Missing or invalid API key: send the gateway key as Authorization: Bearer <key>.', {
        code: 'invalid_api_key',
      });
    }
  };
}

export function authStage(authenticate: Authenticate): Stage {
  return {
    name: 'auth',
    before(ctx) {
      authenticate(ctx.credential, ctx.clientIp);
    },
  };
}
