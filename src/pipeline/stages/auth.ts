// Who is calling (identity/key-auth.ts): the master key, a virtual key, or this machine in the keyless quick start.
// The identity is put on the context for the stages after this one; a refused caller ends the request here.

import type { KeyAuth } from '../../identity/key-auth.ts';
import type { Stage } from '../stages.ts';

export function authStage(keyAuth: Pick<KeyAuth, 'authenticate'>): Stage {
  return {
    name: 'auth',
    before(ctx) {
      const identity = keyAuth.authenticate(ctx.credential, ctx.clientIp);
      // A cached key answers synchronously, and then the stage does not make the pipeline await.
      if (!(identity instanceof Promise)) {
        ctx.identity = identity;
        return;
      }
      return identity.then((found) => {
        ctx.identity = found;
      });
    },
  };
}
