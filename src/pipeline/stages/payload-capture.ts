// Starts capturing a request's bodies (request-logs/capture.ts) when the caller's key or team asks for it
// (log_payloads). After auth, which says whose the request is; for everyone else this is one property check.

import { PayloadCapture } from '../../request-logs/capture.ts';
import type { Stage } from '../stages.ts';

export function payloadCaptureStage(maxBytes: number): Stage {
  return {
    name: 'payload-capture',
    before(ctx) {
      if (ctx.identity?.log_payloads) ctx.payload = new PayloadCapture(maxBytes);
    },
  };
}
