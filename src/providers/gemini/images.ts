// OpenAI image generation ⇄ Imagen on the Gemini API (models/{imagen model}:predict). Imagen takes a prompt, a count
// and an aspect ratio, and answers base64 images; an OpenAI request that asks for anything else (a URL, a quality, a
// shape Imagen does not make) is refused rather than answered with something it did not ask for. Gemini's own image
// models (generateContent, text and images mixed in one answer) are not mapped: their answers have no OpenAI shape here.

import { badRequest, GatewayError, unsupportedParam } from '../../core/errors.ts';
import { nowSeconds } from '../shared.ts';
import { badUpstream } from './chat.ts';

/** The shapes Imagen generates, as width over height. */
const ASPECT_RATIOS: [string, number][] = [
  ['1:1', 1],
  ['3:4', 3 / 4],
  ['4:3', 4 / 3],
  ['9:16', 9 / 16],
  ['16:9', 16 / 9],
];
/** How far (as a factor) a requested shape may be from the Imagen shape it gets. */
const SHAPE_TOLERANCE = 1.2;
const MAX_IMAGES = 4;

/**
 * Fields read below, plus `user`, which only labels the request for OpenAI's abuse monitoring: Imagen has no such
 * field and the images do not depend on it.
 */
const KNOWN_FIELDS = new Set(['model', 'prompt', 'n', 'size', 'response_format', 'user']);

export interface ImagenRequest {
  instances: [{ prompt: string }];
  parameters: { sampleCount: number; aspectRatio?: string };
}

interface ImagenResponse {
  predictions?: { bytesBase64Encoded?: string; mimeType?: string }[];
}

/**
 * OpenAI's `size` (WIDTHxHEIGHT) as the Imagen aspect ratio nearest its shape, so OpenAI's own sizes have one
 * (1792x1024 is 16:9, 1536x1024 is 4:3); undefined for 'auto'. The pixel count is always Imagen's own: it takes no
 * size. A shape Imagen has nothing near (3:1) is refused.
 */
function aspectRatio(size: unknown, provider: string): string | undefined {
  if (size === undefined || size === null || size === 'auto') return undefined;
  const m = typeof size === 'string' ? /^(\d+)x(\d+)$/.exec(size) : null;
  const shape = m ? Number(m[1]) / Number(m[2]) : NaN;
  let best: [string, number] | undefined;
  for (const [name, ratio] of ASPECT_RATIOS) {
    const distance = Math.abs(Math.log(shape / ratio));
    if (distance <= Math.log(SHAPE_TOLERANCE) && (best === undefined || distance < best[1])) best = [name, distance];
  }
  if (best === undefined) {
    const names = ASPECT_RATIOS.map(([name]) => name).join(', ');
    throw unsupportedParam(provider, 'size', `Imagen makes images in the aspect ratios ${names} (for example 1024x1024, 1792x1024, 1024x1792); ${JSON.stringify(size)} is near none of them`);
  }
  return best[0];
}

export function buildImagenBody(body: Record<string, unknown>, model: string, provider: string): ImagenRequest {
  if (!model.startsWith('imagen-')) {
    throw new GatewayError(400, 'invalid_request_error', `Provider '${provider}' generates images through /v1/images/generations with Imagen models only (imagen-…), and '${model}' is not one`, {
      param: 'model',
      code: 'unsupported_operation',
      provider,
    });
  }
  for (const [key, value] of Object.entries(body)) {
    if (!KNOWN_FIELDS.has(key) && value !== undefined && value !== null) {
      throw unsupportedParam(provider, key, 'Imagen has no equivalent; remove it, or route the request to an OpenAI image model');
    }
  }
  const { prompt, n = 1, response_format: format } = body;
  if (typeof prompt !== 'string' || prompt === '') throw badRequest('prompt is required: a text description of the image', 'prompt');
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw badRequest('n must be a positive whole number', 'n');
  if (n > MAX_IMAGES) throw unsupportedParam(provider, 'n', `Imagen makes at most ${MAX_IMAGES} images per request`);
  if (format !== undefined && format !== null && format !== 'b64_json') {
    throw unsupportedParam(provider, 'response_format', "Imagen returns the image itself, not a URL to it; ask for 'b64_json'");
  }
  const ratio = aspectRatio(body.size, provider);
  return { instances: [{ prompt }], parameters: { sampleCount: n, ...(ratio !== undefined && { aspectRatio: ratio }) } };
}

/** Imagen's predictions as OpenAI images (b64_json). It reports no token usage. */
export function parseImagenBody(body: unknown): { created: number; data: { b64_json: string }[] } {
  const res = (body ?? {}) as ImagenResponse;
  if (res.predictions !== undefined && !Array.isArray(res.predictions)) throw badUpstream('the Imagen response has a predictions field that is not a list');
  const data = (res.predictions ?? []).flatMap((p) => (typeof p.bytesBase64Encoded === 'string' ? [{ b64_json: p.bytesBase64Encoded }] : []));
  // Imagen leaves out the images its safety filters removed, and answers with none at all when it removed them all.
  if (data.length === 0) {
    throw new GatewayError(400, 'invalid_request_error', 'gemini: Imagen generated no image for this prompt; its safety filters may have removed them', {
      param: 'prompt',
      code: 'content_policy_violation',
    });
  }
  return { created: nowSeconds(), data };
}
