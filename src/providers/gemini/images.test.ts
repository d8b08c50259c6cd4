import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ProviderConfig } from '../types.ts';
import { buildImagenBody, parseImagenBody } from './images.ts';
import { geminiAdapter } from './index.ts';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const provider: ProviderConfig = {
  name: 'gem',
  type: 'gemini',
  api_key: 'AIza-test-key',
  base_url: 'https://generativelanguage.googleapis.com',
  headers: {},
  timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
  models: [],
  options: {},
};

const MODEL = 'imagen-4.0-generate-001';
const build = (body: Record<string, unknown>, model = MODEL) => buildImagenBody({ model: 'client-name', prompt: 'A fox', ...body }, model, 'gem');

const refusal = thrownGatewayError;

test('an image request goes to the Imagen model as :predict', () => {
  const call = geminiAdapter.operations!.images!.buildRequest({ model: 'x', prompt: 'A fox', n: 2 }, `models/${MODEL}`, provider);
  assert.equal(call.url, `https://generativelanguage.googleapis.com/v1beta/models/${MODEL}:predict`);
  assert.equal(call.headers['x-goog-api-key'], 'AIza-test-key');
  assert.deepEqual(JSON.parse(call.body!), { instances: [{ prompt: 'A fox' }], parameters: { sampleCount: 2 } });
});

test('prompt, n and the shape of size map; user and b64_json are accepted', () => {
  assert.deepEqual(build({}), { instances: [{ prompt: 'A fox' }], parameters: { sampleCount: 1 } });
  assert.deepEqual(build({ n: 4, size: 'auto', response_format: 'b64_json', user: 'u-1' }).parameters, { sampleCount: 4 });
  const shapes: Record<string, string> = {
    '1024x1024': '1:1',
    '256x256': '1:1',
    '1792x1024': '16:9',
    '1024x1792': '9:16',
    '1536x1024': '4:3',
    '1024x1536': '3:4',
    '768x1024': '3:4',
    '1024x576': '16:9',
  };
  for (const [size, ratio] of Object.entries(shapes)) assert.equal(build({ size }).parameters.aspectRatio, ratio, size);
});

test('what Imagen cannot honour is refused, naming the parameter', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ response_format: 'url' }, 'response_format'],
    [{ n: 5 }, 'n'],
    [{ n: 0 }, 'n'],
    [{ size: '3072x1024' }, 'size'],
    [{ size: 'large' }, 'size'],
    [{ quality: 'hd' }, 'quality'],
    [{ style: 'vivid' }, 'style'],
    [{ output_format: 'webp' }, 'output_format'],
    [{ prompt: '' }, 'prompt'],
  ];
  for (const [body, param] of cases) {
    const err = refusal(() => build(body));
    assert.equal(err.status, 400, param);
    assert.equal(err.param, param);
  }
  assert.doesNotThrow(() => build({ quality: null, style: undefined }));
});

test('a Gemini model that is not Imagen is refused, naming the model', () => {
  const err = refusal(() => build({}, 'gemini-2.5-flash-image'));
  assert.equal(err.status, 400);
  assert.equal(err.param, 'model');
  assert.equal(err.code, 'unsupported_operation');
  assert.match(err.message, /Imagen models only/);
});

test('predictions become OpenAI images, in order', () => {
  const body = fixture('imagen-predict.json') as { predictions: { bytesBase64Encoded: string }[] };
  const res = parseImagenBody(body);
  assert.equal(typeof res.created, 'number');
  assert.deepEqual(res.data, body.predictions.map((p) => ({ b64_json: p.bytesBase64Encoded })));
  assert.equal(res.data.length, 2);
});

test('an answer with no image (all filtered) is a content policy 400; a malformed one a 502', () => {
  for (const body of [{}, { predictions: [] }, { predictions: [{ raiFilteredReason: 'blocked' }] }]) {
    const err = refusal(() => parseImagenBody(body));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'content_policy_violation');
  }
  assert.equal(refusal(() => parseImagenBody({ predictions: 'x' })).status, 502);
});
