// POST /v1/audio/speech (JSON in, audio streamed out as it is generated) and POST /v1/audio/transcriptions (a
// multipart upload in, the transcript out in the format asked for: JSON, text, SRT or VTT).

import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest, GatewayError } from '../../core/errors.ts';
import type { FormField } from '../../providers/types.ts';
import type { Services } from '../../server/services.ts';
import { parseBody } from '../validation.ts';
import { modelField } from './operation-schemas.ts';
import { passOn } from './passthrough.ts';

const speechSchema = z.looseObject({ model: modelField });

/** Multipart errors that mean the upload is over a limit. */
const LIMIT_ERRORS = new Set(['FST_REQ_FILE_TOO_LARGE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

function tooLarge(bodyLimit: number): GatewayError {
  return new GatewayError(413, 'request_too_large', `The upload is larger than this gateway's limit of ${bodyLimit} bytes (server.body_limit)`, {
    code: 'request_too_large',
  });
}

/**
 * Every field of the form, files read whole: the provider gets the upload re-encoded with its model, and a failover
 * sends it again. The whole form is held to server.body_limit, which Fastify does not apply to a multipart body.
 */
async function readForm(req: FastifyRequest, bodyLimit: number): Promise<FormField[]> {
  const fields: FormField[] = [];
  let size = 0;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const data = await part.toBuffer();
        size += data.length;
        fields.push({ name: part.fieldname, filename: part.filename, contentType: part.mimetype, data });
      } else {
        if (part.valueTruncated) throw tooLarge(bodyLimit);
        const value = String(part.value);
        size += Buffer.byteLength(value);
        fields.push({ name: part.fieldname, value });
      }
      if (size > bodyLimit) throw tooLarge(bodyLimit);
    }
  } catch (err) {
    if (LIMIT_ERRORS.has((err as { code?: string }).code ?? '')) throw tooLarge(bodyLimit);
    if (err instanceof GatewayError) throw err;
    // Anything else the multipart parser raises (no boundary, a truncated body) is about the body the client sent.
    throw badRequest(`The multipart body could not be read: ${(err as Error).message}`, undefined, 'invalid_multipart');
  }
  return fields;
}

function textField(fields: FormField[], name: string): string | undefined {
  const field = fields.find((f) => f.name === name);
  return field && 'value' in field ? field.value : undefined;
}

export function registerAudioRoutes(app: FastifyInstance, services: Services): void {
  const bodyLimit = services.config.server.body_limit;

  app.post('/v1/audio/speech', (req, reply) => {
    const body = parseBody(speechSchema, req.body);
    return passOn(services, req, reply, { operation: 'speech', model: body.model, body, delivery: 'stream' });
  });

  // Only this route takes multipart bodies, so the parser lives in its own scope.
  app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: bodyLimit, fieldSize: bodyLimit } });
    scope.addHook('onRequest', async (req) => {
      if (!req.headers['content-type']?.toLowerCase().startsWith('multipart/form-data')) {
        throw new GatewayError(415, 'invalid_request_error', 'Send the audio as multipart/form-data, with the file in a "file" field', { code: 'unsupported_media_type' });
      }
    });
    scope.post('/v1/audio/transcriptions', async (req, reply) => {
      const fields = await readForm(req, bodyLimit);
      const model = textField(fields, 'model');
      if (!model) throw badRequest('model is required: a model name from GET /v1/models, or <provider>/<model>', 'model');
      // A streamed transcript (stream=true) arrives as server-sent events, passed on as they come.
      const delivery = textField(fields, 'stream') === 'true' ? 'stream' : 'bytes';
      return passOn(services, req, reply, { operation: 'transcriptions', model, body: fields, delivery });
    });
  });
}
