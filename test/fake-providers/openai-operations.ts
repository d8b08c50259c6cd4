// OpenAI's endpoints beyond chat and embeddings: legacy completions (JSON and SSE), image generation, audio
// transcriptions (a multipart upload, which the server hands over as its fields, answered in the format asked for),
// speech (audio bytes in several frames, so a client can see them arrive one by one) and moderations.

import { nextId, pieces, unixNow } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved } from './types.ts';

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(status: number, message: string, param: string | null = null, code: string | null = null): JsonReply {
  return { kind: 'json', status, body: { error: { message, type: 'invalid_request_error', param, code } } };
}

const missing = (param: string): JsonReply => fail(400, `Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

const textConversation = (text: string): Conversation => ({ chars: text.length, lastUserText: text, endsWithToolResult: false });

/** A 1x1 PNG, the image every fake generation returns. */
export const FAKE_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const tokenUsage = (r: Resolved) => ({ prompt_tokens: r.usage.input, completion_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output });

function completion(model: string, r: Resolved): Reply {
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('cmpl-'),
      object: 'text_completion',
      created: unixNow(),
      model,
      choices: [{ text: r.text, index: 0, logprobs: null, finish_reason: r.finish }],
      usage: tokenUsage(r),
    },
  };
}

function completionStream(model: string, includeUsage: boolean, r: Resolved): Reply {
  const base = { id: nextId('cmpl-'), object: 'text_completion', created: unixNow(), model };
  const event = (body: object) => `data: ${JSON.stringify({ ...base, ...body })}\n\n`;
  const events = pieces(r.text).map((text) => event({ choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }));
  events.push(event({ choices: [{ text: '', index: 0, logprobs: null, finish_reason: r.finish }] }));
  if (includeUsage) events.push(event({ choices: [], usage: tokenUsage(r) }));
  events.push('data: [DONE]\n\n');
  return { kind: 'sse', events };
}

export function completions(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return fail(400, 'you must provide a model parameter');
  if (body.prompt === undefined) return missing('prompt');
  const prompt = Array.isArray(body.prompt) ? body.prompt.filter((p: unknown) => typeof p === 'string').join(' ') : String(body.prompt);
  const model = body.model;
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    conversation: textConversation(prompt),
    render: (r) => (body.stream === true ? completionStream(model, includeUsage, r) : completion(model, r)),
  };
}

export function images(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.prompt !== 'string') return missing('prompt');
  const n = typeof body.n === 'number' ? body.n : 1;
  const asUrl = body.response_format === 'url';
  return {
    conversation: textConversation(body.prompt),
    render: (r) => ({
      kind: 'json',
      status: 200,
      body: {
        created: unixNow(),
        data: Array.from({ length: n }, () => (asUrl ? { url: `https://images.fake.test/${nextId('img-')}.png` } : { b64_json: FAKE_PNG })),
        usage: { input_tokens: r.usage.input, output_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output },
      },
    }),
  };
}

/** The transcript in the response_format asked for: JSON objects, or text with OpenAI's text/plain content type. */
function transcript(fields: Record<string, any>, r: Resolved): Reply {
  const text = r.text;
  const plain = (body: string): Reply => ({ kind: 'json', status: 200, body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  switch (fields.response_format ?? 'json') {
    case 'text':
      return plain(`${text}\n`);
    case 'srt':
      return plain(`1\n00:00:00,000 --> 00:00:01,000\n${text}\n\n`);
    case 'vtt':
      return plain(`WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${text}\n\n`);
    case 'verbose_json': {
      const granularities = [fields['timestamp_granularities[]'] ?? 'segment'].flat();
      const words = text.split(/\s+/).filter(Boolean).map((word, i) => ({ word, start: i * 0.5, end: i * 0.5 + 0.4 }));
      return {
        kind: 'json',
        status: 200,
        body: {
          task: 'transcribe',
          language: fields.language ?? 'english',
          duration: 1,
          text,
          ...(granularities.includes('word') && { words }),
          ...(granularities.includes('segment') && { segments: [{ id: 0, start: 0, end: 1, text }] }),
        },
      };
    }
    default:
      return {
        kind: 'json',
        status: 200,
        body: { text, usage: { type: 'tokens', input_tokens: r.usage.input, output_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output } },
      };
  }
}

export function transcriptions(fields: any): Generation | JsonReply {
  if (!isObject(fields) || !isObject(fields.file)) return missing('file');
  if (typeof fields.model !== 'string') return fail(400, 'you must provide a model parameter');
  return {
    conversation: textConversation(typeof fields.prompt === 'string' ? fields.prompt : fields.file.filename),
    render: (r) => transcript(fields, r),
  };
}

const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export function speech(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return fail(400, 'you must provide a model parameter');
  if (typeof body.input !== 'string') return missing('input');
  if (typeof body.voice !== 'string') return missing('voice');
  const format = body.response_format ?? 'mp3';
  const contentType = AUDIO_TYPES[format];
  if (contentType === undefined) return fail(400, `Invalid response_format '${format}'`, 'response_format');
  return {
    conversation: textConversation(body.input),
    // A header naming what was said, then two frames of "audio"; streamed with the server's event delay between them.
    render: () => ({ kind: 'binary', contentType, frames: [Buffer.from(`fake-${format}:${body.input}\n`), Buffer.alloc(8192, 0x61), Buffer.alloc(8192, 0x62)] }),
  };
}

const CATEGORIES = ['harassment', 'hate', 'self-harm', 'sexual', 'violence'];

export function moderations(body: any): Generation | JsonReply {
  if (!isObject(body) || body.input === undefined) return missing('input');
  const inputs: string[] = (Array.isArray(body.input) ? body.input : [body.input]).map((x: any) => (typeof x === 'string' ? x : typeof x?.text === 'string' ? x.text : ''));
  const model = typeof body.model === 'string' ? body.model : 'omni-moderation-latest';
  return {
    conversation: textConversation(inputs.join(' ')),
    render: () => ({
      kind: 'json',
      status: 200,
      body: {
        id: nextId('modr-'),
        model,
        results: inputs.map((text) => {
          // Flags violence, enough for tests to tell a flagged input from a clean one.
          const violent = /\b(kill|attack)\b/i.test(text);
          return {
            flagged: violent,
            categories: Object.fromEntries(CATEGORIES.map((c) => [c, c === 'violence' && violent])),
            category_scores: Object.fromEntries(CATEGORIES.map((c) => [c, c === 'violence' && violent ? 0.97 : 0.001])),
          };
        }),
      },
    }),
  };
}
