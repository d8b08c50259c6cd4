// The OpenAI SDK against the real gateway process in front of the Bedrock fake: Converse and the binary ConverseStream,
// every request signed with SigV4 (which the fake recomputes and checks) or carrying a Bedrock API key.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { FAKE_AWS_CREDENTIALS, FAKE_BEDROCK_API_KEY } from '../fake-providers/bedrock.ts';
import { startFakeProviders, type FakeProviders, type RecordedRequest } from '../fake-providers/server.ts';
import { startGateway, type RunningGateway } from '../helpers/gateway.ts';

type APIError = InstanceType<typeof OpenAI.APIError>;

const MODEL_ID = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODEL = `bedrock/${MODEL_ID}`;
const { longTerm, temporary } = FAKE_AWS_CREDENTIALS;

let fake: FakeProviders;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  fake = await startFakeProviders();
  const base = `base_url: "${fake.url}/bedrock"`;
  const keys = (c: { access_key_id: string; secret_access_key: string; session_token?: string }) =>
    `aws: { access_key_id: ${c.access_key_id}, secret_access_key: "${c.secret_access_key}"${c.session_token ? `, session_token: ${c.session_token}` : ''} }`;
  const config = `
logging: { level: warn }
providers:
  bedrock: { type: bedrock, region: us-east-1, ${base}, ${keys(longTerm)} }
  bedrock-temporary: { type: bedrock, region: eu-west-1, ${base}, ${keys(temporary)} }
  bedrock-key: { type: bedrock, region: us-east-1, ${base}, api_key: "${FAKE_BEDROCK_API_KEY}" }
  bedrock-env: { type: bedrock, ${base} }
  bedrock-wrong-secret: { type: bedrock, region: us-east-1, ${base}, ${keys({ ...longTerm, secret_access_key: 'not-the-secret' })} }
`;
  // bedrock-env takes its region and keys from the standard AWS variables, as the gateway's environment gives them.
  gateway = await startGateway({
    config,
    env: {
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: temporary.access_key_id,
      AWS_SECRET_ACCESS_KEY: temporary.secret_access_key,
      AWS_SESSION_TOKEN: temporary.session_token,
    },
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

function lastReceived(): RecordedRequest {
  const got = fake.received.at(-1);
  assert.ok(got, 'the bedrock fake received nothing');
  return got;
}

const PNG_DATA_URL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('OpenAI SDK -> gateway -> Bedrock Converse', () => {
  test('chat: system + developer + multi-turn, signed with SigV4, usage with cache reads', async () => {
    fake.script({ text: 'Bonjour!', usage: { input: 30, output: 4, cached: 10 } });
    const res = await client.chat.completions
      .create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'Answer in French.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: 'Greet me' },
        ],
        temperature: 0.2,
        max_tokens: 50,
        stop: ['END'],
      })
      .withResponse();
    const completion = res.data;
    assert.equal(completion.choices[0]!.message.content, 'Bonjour!');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(completion.model, MODEL_ID);
    assert.deepEqual(
      [completion.usage!.prompt_tokens, completion.usage!.completion_tokens, completion.usage!.prompt_tokens_details?.cached_tokens],
      [30, 4, 10],
    );
    assert.equal(res.response.headers.get('x-switchboard-provider'), 'bedrock');

    const got = lastReceived();
    assert.equal(got.path, '/bedrock/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse');
    const scope = `${longTerm.access_key_id}/\\d{8}/us-east-1/bedrock/aws4_request`;
    assert.match(got.headers.authorization!, new RegExp(`^AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$`));
    assert.deepEqual(got.body.system, [{ text: 'You are terse.' }, { text: 'Answer in French.' }]);
    assert.deepEqual(got.body.messages.map((m: { role: string }) => m.role), ['user', 'assistant', 'user']);
    assert.deepEqual(got.body.inferenceConfig, { maxTokens: 50, temperature: 0.2, stopSequences: ['END'] });
    assert.ok(!JSON.stringify(got).includes('sk-client'), 'the client key must never reach the provider');
  });

  test('stream: the binary event stream becomes role, content deltas, finish_reason and a usage chunk', async () => {
    fake.script({ text: 'one two three four', usage: { input: 12, output: 4, cached: 2 } });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let role: string | undefined;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      role ??= chunk.choices[0]?.delta.role;
      content += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(role, 'assistant');
    assert.equal(content, 'one two three four');
    assert.equal(finish, 'stop');
    assert.ok(chunks >= 4, 'content arrived in several chunks');
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens, usage?.prompt_tokens_details?.cached_tokens], [12, 4, 2]);
    assert.match(lastReceived().path, /\/converse-stream$/);
  });

  test('stream without include_usage sends no usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let content = '';
    for await (const chunk of stream) {
      assert.ok(!chunk.usage, 'no usage chunk expected');
      content += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(content, 'Echo: hi');
  });

  test('tools: parallel tool calls, non-stream and stream (accumulated by the SDK)', async () => {
    const calls = [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_weather', arguments: { city: 'Rome' } },
    ];
    const asked = { model: MODEL, messages: [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }], tools: [WEATHER_TOOL] };
    fake.script({ toolCalls: calls });
    const res = await client.chat.completions.create({ ...asked, tool_choice: 'required' });
    const msg = res.choices[0]!.message;
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    const named = (list: OpenAI.Chat.ChatCompletionMessageToolCall[]) => list.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : []));
    assert.deepEqual(named(msg.tool_calls!), calls.map((c) => [c.name, c.arguments]));
    assert.ok(msg.tool_calls!.every((c) => c.id.startsWith('tooluse_')));
    assert.deepEqual(lastReceived().body.toolConfig, {
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: WEATHER_TOOL.function.parameters } } }],
      toolChoice: { any: {} },
    });

    fake.script({ toolCalls: calls });
    const final = await client.chat.completions.stream(asked).finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(named(final.choices[0]!.message.tool_calls!), calls.map((c) => [c.name, c.arguments]));
  });

  test('tool results go back as toolResult blocks linked to their toolUse', async () => {
    fake.script({ text: 'It is sunny in Paris and rainy in Rome.' });
    const res = await client.chat.completions.create({
      model: MODEL,
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'tooluse_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: '{"forecast":"sunny"}' },
        { role: 'tool', tool_call_id: 'tooluse_2', content: '{"forecast":"rain"}' },
      ],
    });
    assert.equal(res.choices[0]!.message.content, 'It is sunny in Paris and rainy in Rome.');
    const [, assistant, results] = lastReceived().body.messages;
    assert.deepEqual(assistant.content.map((b: { toolUse: { toolUseId: string } }) => b.toolUse.toolUseId), ['tooluse_1', 'tooluse_2']);
    assert.equal(results.role, 'user');
    assert.deepEqual(results.content, [
      { toolResult: { toolUseId: 'tooluse_1', content: [{ text: '{"forecast":"sunny"}' }] } },
      { toolResult: { toolUseId: 'tooluse_2', content: [{ text: '{"forecast":"rain"}' }] } },
    ]);
  });

  test('images: a base64 data URL becomes image bytes; an https URL is a 400 that says what to send', async () => {
    await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG_DATA_URL } }] }],
    });
    const block = lastReceived().body.messages[0].content[1];
    assert.deepEqual(block, { image: { format: 'png', source: { bytes: PNG_DATA_URL.slice('data:image/png;base64,'.length) } } });

    fake.reset();
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] }] }),
      (e: APIError) => e.status === 400 && e.param === 'messages[0].content[0].image_url.url' && /base64 data: URL/.test(e.message),
    );
    assert.equal(fake.received.length, 0, 'nothing was sent to Bedrock');
  });

  test('response_format json_schema goes to outputConfig; json_object comes back from the forced tool as JSON content', async () => {
    fake.script({ text: '{"name":"Ada","age":36}' });
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Who wrote the first program?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
    });
    assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { name: 'Ada', age: 36 });
    const format = lastReceived().body.outputConfig.textFormat;
    assert.equal(format.type, 'json_schema');
    assert.deepEqual(JSON.parse(format.structure.jsonSchema.schema), schema);

    fake.script({ toolCalls: [{ name: 'switchboard_json_object', arguments: { name: 'Ada' } }] });
    const object = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } });
    assert.deepEqual(JSON.parse(object.choices[0]!.message.content!), { name: 'Ada' });
    assert.equal(object.choices[0]!.finish_reason, 'stop');
    assert.deepEqual(lastReceived().body.toolConfig.toolChoice, { tool: { name: 'switchboard_json_object' } });
  });

  test('reasoning_effort asks Claude for thinking; thinking comes back as reasoning_content, streamed too', async () => {
    fake.script({ reasoning: 'Let me think.', text: '42' });
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Answer?' }], reasoning_effort: 'low', max_completion_tokens: 1000 });
    const message = res.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
    assert.equal(message.content, '42');
    assert.equal(message.reasoning_content, 'Let me think.');
    const got = lastReceived().body;
    assert.deepEqual(got.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
    assert.equal(got.inferenceConfig.maxTokens, 3048);

    fake.script({ reasoning: 'Let me think.', text: '42' });
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Answer?' }], reasoning_effort: 'low', stream: true });
    let reasoning = '';
    for await (const chunk of stream) reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '';
    assert.equal(reasoning, 'Let me think.');
  });

  test('parameters Converse cannot honour are refused before anything is sent', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], seed: 1 }),
      (e: APIError) => e.status === 400 && e.code === 'unsupported_parameter' && e.param === 'seed',
    );
    assert.equal(fake.received.length, 0);
  });
});

describe('Bedrock errors and cut streams', () => {
  test('429 keeps its status and retry-after; 500 stays a 5xx; a Bedrock validation error is a 400 with its message', async () => {
    fake.fault({ kind: 'status', status: 429, retryAfter: '7' });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e as APIError,
    );
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.headers?.get('retry-after'), '7');
    assert.match(err.message, /bedrock: Injected fault: HTTP 429/);

    fake.fault({ kind: 'status', status: 500 });
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }), (e: APIError) => e.status === 500);

    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'assistant', content: 'I go first' }] }),
      (e: APIError) => e.status === 400 && /bedrock: A conversation must start with a user message/.test(e.message),
    );
  });

  test('a stream cut before any content is a plain HTTP error', async () => {
    fake.fault({ kind: 'cut', afterEvents: 1 });
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
      // The socket breaking mid-body (as here) or a clean end before messageStop are both a 502 naming the provider.
      (e: APIError) => e.status === 502 && /^502 bedrock: /.test(e.message),
    );
  });

  test('a stream cut mid-way ends with an error the SDK raises, after the content sent so far', async () => {
    fake.script({ text: 'alpha beta gamma delta epsilon' });
    // messageStart, then the first text delta.
    fake.fault({ kind: 'cut', afterEvents: 2 });
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    let content = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
      })(),
      (e: Error) => /stream|ended|interrupted|terminated|socket|closed/i.test(e.message),
    );
    assert.ok(content.startsWith('alpha'), `content before the cut reached the client: '${content}'`);
  });
});

describe('Bedrock credentials', () => {
  const ask = (provider: string, stream = false) =>
    client.chat.completions.create({ model: `${provider}/${MODEL_ID}`, messages: [{ role: 'user', content: 'hi' }], stream }) as Promise<unknown>;

  test('temporary keys send their session token, signed, for their own region', async () => {
    await ask('bedrock-temporary');
    const headers = lastReceived().headers;
    assert.equal(headers['x-amz-security-token'], temporary.session_token);
    assert.match(headers.authorization!, /\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/);
  });

  test('region and keys can come from the AWS environment variables', async () => {
    await ask('bedrock-env');
    assert.match(lastReceived().headers.authorization!, new RegExp(`Credential=${temporary.access_key_id}/\\d{8}/ap-northeast-1/bedrock/aws4_request`));
  });

  test('a Bedrock API key is sent as a bearer token, streaming included', async () => {
    await ask('bedrock-key');
    assert.equal(lastReceived().headers.authorization, `Bearer ${FAKE_BEDROCK_API_KEY}`);
    assert.equal(lastReceived().headers['x-amz-date'], undefined);
    const stream = (await ask('bedrock-key', true)) as AsyncIterable<OpenAI.Chat.ChatCompletionChunk>;
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    assert.equal(content, 'Echo: hi');
  });

  test('a wrong secret gives a signature Bedrock rejects: 403 with its message', async () => {
    await assert.rejects(ask('bedrock-wrong-secret'), (e: APIError) => {
      assert.equal(e.status, 403);
      assert.equal(e.type, 'permission_error');
      assert.match(e.message, /bedrock-wrong-secret: The request signature we calculated does not match/);
      return true;
    });
  });
});
