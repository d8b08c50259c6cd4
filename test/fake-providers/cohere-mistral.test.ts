// The Cohere and Mistral fakes themselves: the checks that make an e2e test prove the gateway's translation (a request
// in OpenAI's spelling is refused as the real API refuses it), and the shapes they answer in.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startFakeProviders, type FakeProviders } from './server.ts';

let fake: FakeProviders;
before(async () => {
  fake = await startFakeProviders();
});
after(() => fake.close());

async function post(path: string, body: unknown, auth = 'Bearer k') {
  const res = await request(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth && { authorization: auth }) },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: () => JSON.parse(text) };
}

/** The JSON data of each server-sent event, whether or not it is named by an `event:` line. */
const dataEvents = (text: string): any[] =>
  text
    .split('\n\n')
    .map((block) => block.split('\n').find((line) => line.startsWith('data: '))?.slice(6))
    .filter((data): data is string => data !== undefined && data !== '[DONE]')
    .map((data) => JSON.parse(data));

describe('mistral wire format', () => {
  const chat = (extra: Record<string, unknown>) => post('/mistral/v1/chat/completions', { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], ...extra });

  it("refuses what Mistral refuses: unknown fields, 'required', developer messages, foreign tool-call ids", async () => {
    const extra = await chat({ seed: 1 });
    assert.equal(extra.status, 422);
    assert.deepEqual(extra.json().message.detail[0].loc, ['body', 'seed']);
    assert.equal((await chat({ tool_choice: 'required' })).status, 422);
    assert.equal((await chat({ stream_options: { include_usage: true } })).status, 422);
    const developer = await chat({ messages: [{ role: 'developer', content: 'x' }] });
    assert.equal(developer.status, 422);
    const reasoning = await chat({ messages: [{ role: 'assistant', content: 'x', reasoning_content: 'y' }] });
    assert.deepEqual(reasoning.json().message.detail[0].loc, ['body', 'messages', 0, 'assistant', 'reasoning_content']);
    const id = await chat({ messages: [{ role: 'tool', tool_call_id: 'call_abc', content: '1' }] });
    assert.equal(id.status, 400);
    assert.deepEqual(id.json(), {
      object: 'error',
      message: 'Tool call id was call_abc but must be a-z, A-Z, 0-9, with a length of 9.',
      type: 'invalid_function_call',
      param: null,
      code: '3280',
    });
    assert.equal((await post('/mistral/v1/chat/completions', {}, '')).status, 401);
  });

  it('answers with 9-character tool-call ids and no type, thinking chunks, usage on the finish chunk', async () => {
    fake.script({ reasoning: 'Hmm.', text: 'Ok.' }, { provider: 'mistral' });
    const whole = (await chat({})).json();
    assert.deepEqual(whole.choices[0].message.content, [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm.' }] }, { type: 'text', text: 'Ok.' }]);
    assert.deepEqual(Object.keys(whole.usage).sort(), ['completion_tokens', 'prompt_tokens', 'total_tokens']);

    fake.script({ toolCalls: [{ name: 'f', arguments: { a: 1 } }] }, { provider: 'mistral' });
    const chunks = dataEvents((await chat({ stream: true })).text);
    const opening = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []).find((t: { id?: string }) => t.id);
    assert.match(opening.id, /^[a-zA-Z0-9]{9}$/);
    assert.equal(opening.type, undefined);
    const last = chunks.at(-1);
    assert.equal(last.choices[0].finish_reason, 'tool_calls');
    assert.ok(last.usage.total_tokens > 0);
  });
});

describe('cohere wire format', () => {
  const chat = (extra: Record<string, unknown>, auth?: string) =>
    post('/cohere/v2/chat', { model: 'command-a-03-2025', messages: [{ role: 'user', content: 'hi' }], ...extra }, auth);

  it('refuses OpenAI spellings and unlinked tool results, in the {"message"} error shape', async () => {
    const noKey = await chat({}, '');
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json().message, 'no api key supplied');
    assert.equal((await chat({ top_p: 0.5 })).status, 400);
    assert.equal((await chat({ tool_choice: 'required' })).status, 400);
    assert.equal((await chat({ p: 1 })).status, 400);
    const unlinked = await chat({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'c1', content: '1' }] });
    assert.match(unlinked.json().message, /does not match any tool call/);
    const noInputType = await post('/cohere/v2/embed', { model: 'embed-v4.0', texts: ['x'] });
    assert.equal(noInputType.status, 400);
  });

  it('streams typed events from message-start to message-end, with the plan and tool calls by index', async () => {
    fake.script({ reasoning: 'Plan.', toolCalls: [{ name: 'f', arguments: { a: 1 } }, { name: 'g', arguments: {} }] }, { provider: 'cohere' });
    const events = dataEvents((await chat({ stream: true })).text);
    const types = events.map((e) => e.type).filter((type, i, all) => type !== all[i - 1]);
    assert.deepEqual(types, ['message-start', 'tool-plan-delta', 'tool-call-start', 'tool-call-delta', 'tool-call-end', 'tool-call-start', 'tool-call-delta', 'tool-call-end', 'message-end']);
    assert.deepEqual(events.at(-1).delta.finish_reason, 'TOOL_CALL');
    const starts = events.filter((e) => e.type === 'tool-call-start');
    assert.deepEqual(starts.map((e) => [e.index, e.delta.message.tool_calls.function.name]), [[0, 'f'], [1, 'g']]);
  });
});
