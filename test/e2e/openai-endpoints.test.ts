// The OpenAI SDK against the real gateway process on the endpoints beyond chat and embeddings: legacy completions
// (JSON and streamed), images (OpenAI, and Gemini's Imagen), audio transcriptions (multipart) and speech (streamed
// bytes), moderations, and /v1/batch. Providers without an endpoint answer a 400 that names them.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI, { toFile, type APIError } from 'openai';
import { FAKE_PNG } from '../fake-providers/openai-operations.ts';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

/** Between two frames of a fake stream: long enough for a client to tell frames streamed apart from one buffered write. */
const EVENT_DELAY_MS = 120;

before(async () => {
  fake = await startFakeProviders({ streamEventDelayMs: EVENT_DELAY_MS });
  const config = `
server: { body_limit: 256kb }
logging: { level: warn }
providers:
  openai: { type: openai, api_key: sk-openai-fake, base_url: "${fake.url}/openai/v1" }
  local: { type: vllm, base_url: "${fake.url}/openai/v1" }
  anthropic: { type: anthropic, api_key: sk-ant-fake, base_url: "${fake.url}/anthropic" }
  gemini: { type: gemini, api_key: gemini-fake, base_url: "${fake.url}/gemini" }
models:
  - name: writer
    targets:
      - { provider: openai, model: gpt-3.5-turbo-instruct }
      - { provider: local, model: llama-3-8b }
  - name: claude-writer
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }]
  - name: any-painter
    targets:
      - { provider: anthropic, model: claude-sonnet-4-5 }
      - { provider: openai, model: gpt-image-1 }
  - name: no-painter
    targets:
      - { provider: anthropic, model: claude-sonnet-4-5 }
      - { provider: gemini, model: gemini-2.5-flash }
`;
  gateway = await startGateway({ config });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

function lastReceived(provider: RecordedRequest['provider']): RecordedRequest {
  const list = fake.received.filter((r) => r.provider === provider);
  assert.ok(list.length > 0, `the ${provider} fake received nothing`);
  return list[list.length - 1]!;
}

/** A refusal for a provider without the endpoint: 400, naming the provider, nothing sent to it. */
async function assertUnsupported(call: Promise<unknown>, provider: string): Promise<void> {
  await assert.rejects(call, (e: APIError) => {
    assert.equal(e.status, 400);
    assert.match(e.message, new RegExp(`Provider '${provider}'`));
    assert.equal(e.code, 'unsupported_operation');
    return true;
  });
  assert.equal(fake.received.filter((r) => r.provider === provider).length, 0);
}

/** A mono 16-bit PCM WAV of `samples` silent samples at 16 kHz. */
function wav(samples: number): Buffer {
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(data, 40);
  return b;
}

describe('POST /v1/completions', () => {
  test('passes through to an OpenAI-wire provider, usage included', async () => {
    fake.script({ text: ' there, friend.', usage: { input: 3, output: 4 } });
    const res = await client.completions.create({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Hello', max_tokens: 8, suffix: '!', echo: false }).withResponse();
    assert.equal(res.data.object, 'text_completion');
    assert.equal(res.data.choices[0]!.text, ' there, friend.');
    assert.equal(res.data.choices[0]!.finish_reason, 'stop');
    assert.deepEqual(res.data.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'openai');
    const got = lastReceived('openai');
    assert.equal(got.path, '/openai/v1/completions');
    assert.equal(got.headers.authorization, 'Bearer sk-openai-fake');
    assert.deepEqual(got.body, { model: 'gpt-3.5-turbo-instruct', prompt: 'Hello', max_tokens: 8, suffix: '!', echo: false });
  });

  test('streams the events as they come, [DONE] and the usage chunk included', async () => {
    fake.script({ text: 'one two three four', usage: { input: 2, output: 4 } });
    const stream = await client.completions.create({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Count', stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'one two three four');
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
    assert.equal(lastReceived('openai').body.stream, true);
  });

  test('the raw stream ends with [DONE]', async () => {
    const res = await fetch(`${gateway.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Hi', stream: true }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const body = await res.text();
    assert.match(body, /"object":"text_completion"/);
    assert.ok(body.endsWith('data: [DONE]\n\n'), body.slice(-80));
  });

  test('a failing target fails over to the next one', async () => {
    fake.fault({ kind: 'status', status: 503 }, { provider: 'openai' });
    fake.script({ text: 'from the second target' });
    const res = await client.completions.create({ model: 'writer', prompt: 'Hi' }).withResponse();
    assert.equal(res.data.choices[0]!.text, 'from the second target');
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'local');
    assert.deepEqual(fake.received.map((r) => r.body.model), ['gpt-3.5-turbo-instruct', 'llama-3-8b']);
  });

  test('Anthropic and Gemini targets get a 400 naming the provider', async () => {
    await assertUnsupported(client.completions.create({ model: 'claude-writer', prompt: 'Hi' }), 'anthropic');
    await assertUnsupported(client.completions.create({ model: 'gemini/gemini-2.5-flash', prompt: 'Hi', stream: true }), 'gemini');
  });

  test('a missing model is a 400 naming the field', async () => {
    const res = await fetch(`${gateway.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"Hi"}' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    assert.equal(body.error.param, 'model');
    assert.match(body.error.message, /model is required/);
  });
});

describe('POST /v1/images/generations', () => {
  test('a target whose provider lacks the operation is passed over for one that has it; with none, the first refusal', async () => {
    const res = await client.images.generate({ model: 'any-painter', prompt: 'A red fox' }).withResponse();
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'openai');
    assert.equal(lastReceived('openai').body.model, 'gpt-image-1');
    await assert.rejects(client.images.generate({ model: 'no-painter', prompt: 'A red fox' }), (e: APIError) => e.status === 400 && /anthropic/.test(e.message));
  });

  test('streamed image generation is refused up front, not failed after the work', async () => {
    await assert.rejects(client.images.generate({ model: 'gpt-image-1', prompt: 'x', stream: true }), (e: APIError) => e.status === 400 && e.param === 'stream');
  });

  test('passes through to OpenAI', async () => {
    const res = await client.images.generate({ model: 'gpt-image-1', prompt: 'A red fox', n: 2, size: '1024x1024', quality: 'low' });
    assert.equal(res.data?.length, 2);
    assert.equal(res.data![0]!.b64_json, FAKE_PNG);
    const got = lastReceived('openai');
    assert.equal(got.path, '/openai/v1/images/generations');
    assert.deepEqual(got.body, { model: 'gpt-image-1', prompt: 'A red fox', n: 2, size: '1024x1024', quality: 'low' });
  });

  test('Gemini Imagen models are translated to :predict', async () => {
    const res = await client.images.generate({ model: 'gemini/imagen-4.0-generate-001', prompt: 'A red fox', n: 2, size: '1792x1024' }).withResponse();
    assert.deepEqual(res.data.data?.map((d) => d.b64_json), [FAKE_PNG, FAKE_PNG]);
    assert.equal(typeof res.data.created, 'number');
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'gemini');
    const got = lastReceived('gemini');
    assert.equal(got.path, '/gemini/v1beta/models/imagen-4.0-generate-001:predict');
    assert.equal(got.headers['x-goog-api-key'], 'gemini-fake');
    assert.deepEqual(got.body, { instances: [{ prompt: 'A red fox' }], parameters: { sampleCount: 2, aspectRatio: '16:9' } });
  });

  test('what Imagen cannot do is refused, naming the parameter', async () => {
    await assert.rejects(client.images.generate({ model: 'gemini/imagen-4.0-generate-001', prompt: 'x', response_format: 'url' }), (e: APIError) => {
      assert.equal(e.status, 400);
      assert.equal(e.param, 'response_format');
      return true;
    });
    await assert.rejects(client.images.generate({ model: 'gemini/gemini-2.5-flash', prompt: 'x' }), (e: APIError) => e.status === 400 && /Imagen models only/.test(e.message));
    assert.equal(fake.received.length, 0);
  });

  test('an Anthropic target gets a 400 naming the provider', async () => {
    await assertUnsupported(client.images.generate({ model: 'anthropic/claude-sonnet-4-5', prompt: 'x' }), 'anthropic');
  });
});

describe('POST /v1/audio/transcriptions', () => {
  const audio = wav(1600);

  test('forwards the upload with every field, the model replaced', async () => {
    fake.script({ text: 'hello world', usage: { input: 5, output: 2 } });
    const res = await client.audio.transcriptions
      .create({ file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }), model: 'openai/whisper-1', language: 'en', prompt: 'A greeting', temperature: 0.2, response_format: 'json' })
      .withResponse();
    assert.equal(res.data.text, 'hello world');
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'openai');
    const got = lastReceived('openai');
    assert.equal(got.path, '/openai/v1/audio/transcriptions');
    assert.equal(got.headers.authorization, 'Bearer sk-openai-fake');
    assert.deepEqual(got.body.file, { filename: 'hello.wav', type: 'audio/wav', size: audio.length });
    assert.equal(got.body.model, 'whisper-1');
    assert.equal(got.body.language, 'en');
    assert.equal(got.body.prompt, 'A greeting');
    assert.equal(got.body.temperature, '0.2');
    assert.equal(got.body.response_format, 'json');
  });

  test('timestamp granularities reach the provider, verbose JSON comes back', async () => {
    fake.script({ text: 'one two' });
    const res = await client.audio.transcriptions.create({
      file: await toFile(audio, 'a.wav'),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    assert.deepEqual(res.words?.map((w) => w.word), ['one', 'two']);
    assert.equal(res.segments?.length, 1);
    assert.deepEqual(lastReceived('openai').body['timestamp_granularities[]'], ['word', 'segment']);
  });

  test('text formats come back with their own content type', async () => {
    fake.script({ text: 'subtitled' });
    const srt = await client.audio.transcriptions.create({ file: await toFile(audio, 'a.wav'), model: 'whisper-1', response_format: 'srt' }).asResponse();
    assert.match(srt.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await srt.text(), '1\n00:00:00,000 --> 00:00:01,000\nsubtitled\n\n');
  });

  test('an upload over server.body_limit is a 413', async () => {
    await assert.rejects(client.audio.transcriptions.create({ file: await toFile(wav(200_000), 'big.wav'), model: 'whisper-1' }), (e: APIError) => {
      assert.equal(e.status, 413);
      assert.match(e.message, /server\.body_limit/);
      return true;
    });
    assert.equal(fake.received.length, 0);
  });

  test('a body that is not multipart is a 415', async () => {
    const res = await fetch(`${gateway.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"whisper-1"}' });
    assert.equal(res.status, 415);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /multipart\/form-data/);
  });

  test('a multipart body without its boundary, or cut short, is a 400', async () => {
    const post = (contentType: string, body: string) => fetch(`${gateway.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const noBoundary = await post('multipart/form-data', 'x');
    assert.equal(noBoundary.status, 400);
    const cut = await post('multipart/form-data; boundary=zz', '--zz\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1');
    assert.equal(cut.status, 400);
    assert.equal(((await cut.json()) as { error: { code: string } }).error.code, 'invalid_multipart');
  });

  test('a Gemini target gets a 400 naming the provider', async () => {
    await assertUnsupported(client.audio.transcriptions.create({ file: await toFile(audio, 'a.wav'), model: 'gemini/gemini-2.5-flash' }), 'gemini');
  });
});

describe('POST /v1/audio/speech', () => {
  test('streams the audio as it arrives, with the provider content type', async () => {
    const started = Date.now();
    const res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there', response_format: 'mp3' });
    assert.equal(res.headers.get('content-type'), 'audio/mpeg');
    assert.equal(res.headers.get('x-switchboard-provider'), 'openai');
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      arrivals.push(Date.now() - started);
      chunks.push(r.value);
    }
    const audio = Buffer.concat(chunks);
    const head = Buffer.from('fake-mp3:Hello there\n');
    assert.equal(audio.length, head.length + 2 * 8192);
    assert.ok(audio.subarray(0, head.length).equals(head));
    // Buffered, every byte would arrive at once; streamed, the last frame comes two event delays after the first.
    assert.ok(arrivals.at(-1)! - arrivals[0]! >= EVENT_DELAY_MS, `all audio arrived within ${arrivals.at(-1)! - arrivals[0]!} ms`);
    assert.deepEqual(lastReceived('openai').body, { model: 'tts-1', voice: 'alloy', input: 'Hello there', response_format: 'mp3' });
  });

  const speech = (signal?: AbortSignal) =>
    fetch(`${gateway.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'Hi' }),
      ...(signal && { signal }),
    });

  test('a provider that breaks off the audio breaks off the client response too', async () => {
    fake.fault({ kind: 'cut', afterEvents: 1 });
    const res = await speech();
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer());
  });

  test('a provider that fails before any audio gets a plain HTTP error', async () => {
    fake.fault({ kind: 'cut', afterEvents: 0 });
    const res = await speech();
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'upstream_connection_lost');
  });

  test('a client that leaves mid-audio stops the upstream call', async () => {
    const abort = new AbortController();
    const res = await speech(abort.signal);
    await res.body!.getReader().read();
    abort.abort();
    for (let i = 0; i < 50 && fake.abandoned === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.abandoned, 1);
  });

  test('an Anthropic target gets a 400 naming the provider', async () => {
    await assertUnsupported(client.audio.speech.create({ model: 'claude-writer', voice: 'alloy', input: 'x' }), 'anthropic');
  });
});

describe('POST /v1/moderations', () => {
  test('passes through to OpenAI, with OpenAI default model when none is given', async () => {
    const res = await client.moderations.create({ input: ['I will kill the process', 'What a nice day'] });
    assert.deepEqual(res.results.map((r) => r.flagged), [true, false]);
    const got = lastReceived('openai');
    assert.equal(got.path, '/openai/v1/moderations');
    assert.equal(got.body.model, 'omni-moderation-latest');
  });

  test('a Gemini target gets a 400 naming the provider', async () => {
    await assertUnsupported(client.moderations.create({ model: 'gemini/gemini-2.5-flash', input: 'x' }), 'gemini');
  });
});

describe('POST /v1/batch', () => {
  type Item = { index: number; status: number; response?: OpenAI.ChatCompletion; error?: { message: string; param: string | null; code: string | null } };

  async function batch(body: unknown): Promise<{ status: number; body: { object?: string; data?: Item[]; error?: { message: string; param: string | null } } }> {
    const res = await fetch(`${gateway.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as never };
  }

  const ask = (model: string, content: string) => ({ model, messages: [{ role: 'user', content }] });

  test('runs each item through the pipeline; results in order, each with its own status', async () => {
    const res = await batch({
      requests: [
        ask('openai/gpt-4o-mini', 'first'),
        { model: 'openai/gpt-4o-mini' },
        { ...ask('openai/gpt-4o-mini', 'streaming'), stream: true },
        ask('anthropic/claude-sonnet-4-5', 'fourth'),
        ask('no-such-model', 'fifth'),
        ask('gemini/gemini-2.5-flash', 'sixth'),
      ],
      concurrency: 3,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.object, 'batch.result');
    const data = res.body.data!;
    assert.deepEqual(data.map((d) => [d.index, d.status]), [[0, 200], [1, 400], [2, 400], [3, 200], [4, 404], [5, 200]]);
    assert.equal(data[0]!.response!.choices[0]!.message.content, 'Echo: first');
    assert.equal(data[1]!.error!.param, 'messages');
    assert.equal(data[2]!.error!.param, 'stream');
    assert.equal(data[3]!.response!.choices[0]!.message.content, 'Echo: fourth');
    assert.equal(data[4]!.error!.code, 'model_not_found');
    assert.equal(data[5]!.response!.choices[0]!.message.content, 'Echo: sixth');
    assert.ok(data[0]!.response!.usage!.total_tokens > 0);
    assert.deepEqual(fake.received.map((r) => r.provider).sort(), ['anthropic', 'gemini', 'openai']);
  });

  test('an upstream failure stays with its item', async () => {
    fake.fault({ kind: 'status', status: 429, retryAfter: '3' }, { provider: 'anthropic' });
    const res = await batch({ requests: [ask('anthropic/claude-sonnet-4-5', 'a'), ask('openai/gpt-4o-mini', 'b')] });
    assert.deepEqual(res.body.data!.map((d) => d.status), [429, 200]);
  });

  test('a client that leaves stops the items in flight', async () => {
    fake.fault({ kind: 'hang' }, { provider: 'openai' });
    const abort = new AbortController();
    const pending = fetch(`${gateway.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [ask('openai/gpt-4o-mini', 'never answered')] }),
      signal: abort.signal,
    });
    for (let i = 0; i < 50 && fake.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await assert.rejects(pending);
    for (let i = 0; i < 50 && fake.abandoned === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.abandoned, 1);
  });

  test('too many items, too much concurrency or no items is a 400', async () => {
    const many = await batch({ requests: Array.from({ length: 1001 }, () => ask('openai/gpt-4o-mini', 'x')) });
    assert.equal(many.status, 400);
    assert.match(many.body.error!.message, /at most 1000/);
    const eager = await batch({ requests: [ask('openai/gpt-4o-mini', 'x')], concurrency: 33 });
    assert.equal(eager.status, 400);
    assert.equal(eager.body.error!.param, 'concurrency');
    assert.equal((await batch({ requests: [] })).status, 400);
    assert.equal((await batch({ request: [ask('openai/gpt-4o-mini', 'x')] })).status, 400);
    assert.equal(fake.received.length, 0);
  });
});
