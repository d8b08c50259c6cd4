// What the route modules need to serve a request, built once at start.

import type { GatewayConfig } from '../config/load.ts';
import { UpstreamClient } from '../http/client.ts';
import type { Logger } from '../observability/logger.ts';
import { ProviderCaller } from '../pipeline/call.ts';
import { Pipeline } from '../pipeline/stages.ts';
import { accessLogStage } from '../pipeline/stages/access-log.ts';
import { authenticator, authStage, type Authenticate } from '../pipeline/stages/auth.ts';
import { routeStage } from '../pipeline/stages/route.ts';
import { Router } from '../routing/router.ts';

export interface Services {
  config: GatewayConfig;
  logger: Logger;
  router: Router;
  pipeline: Pipeline;
  caller: ProviderCaller;
  client: UpstreamClient;
  authenticate: Authenticate;
}

export function createServices(config: GatewayConfig, logger: Logger): Services {
  const router = new Router(config);
  const client = new UpstreamClient();
  const authenticate = authenticator(config.auth);
  return {
    config,
    logger,
    router,
    client,
    authenticate,
    caller: new ProviderCaller(client),
    pipeline: new Pipeline([accessLogStage(logger), authStage(authenticate), routeStage(router)]),
  };
}
