import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import { toEmbeddingsRequest } from './embeddings.ts';
import { toJsonSchema } from './json-schema.ts';
import { includeThoughts, toChatRequest } from './request.ts';
import { parseBatchEmbedContents, parseCountTokens, parseEmbedContent, parseGenerateContent } from './wire.ts';

const where = "provider 'openai' (type openai)";
const translate = (body: unknown, stream = false) => toChatRequest(parseGenerateContent(body), 'smart', stream, where);

const refused = (param: string) => (e: GatewayError) => e.status === 400 && e.param === param && e.message.includes(where);

test('contents, system instruction and sampling become the canonical request', () => {
  const req = translate({
    systemInstruction: { parts: [{ text: 'Be terse.' }] },
    contents: [
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Hello.' }] },
      { parts: [{ text: 'Part one. ' }, { text: 'Part two.' }] },
    ],
    generationConfig: {
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 100,
      stopSequences: ['END'],
      seed: 7,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      responseLogprobs: true,
      logprobs: 3,
    },
    labels: { team: 'a' },
  });
  assert.deepEqual(req, {
    model: 'smart',
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: [{ type: 'text', text: 'Part one. ' }, { type: 'text', text: 'Part two.' }] },
    ],
    temperature: 0.3,
    top_p: 0.9,
    max_completion_tokens: 100,
    stop: ['END'],
    seed: 7,
    n: 2,
    presence_penalty: 0.5,
    frequency_penalty: 0.25,
    logprobs: true,
    top_logprobs: 3,
  });
});

test('a stream asks the target for usage; topK goes on for OpenAI-wire servers that sample by it', () => {
  const req = translate({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { topK: 40 } }, true);
  assert.equal(req.stream, true);
  assert.deepEqual(req.stream_options, { include_usage: true });
  assert.equal(req.top_k, 40);
});

test('snake_case field names, as in Google curl examples, read the same; nulls mean unset', () => {
  const req = translate({
    system_instruction: { parts: [{ text: 'S' }] },
    contents: [{ role: 'user', parts: [{ inline_data: { mime_type: 'image/jpeg', data: 'QUJD' } }] }],
    generation_config: { max_output_tokens: 5, temperature: null },
  });
  assert.deepEqual(req.messages, [
    { role: 'system', content: 'S' },
    { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } }] },
  ]);
  assert.equal(req.max_completion_tokens, 5);
  assert.equal(req.temperature, undefined);
});

test('images: inlineData as a data URL, http fileData as its URL; other media and Files API URIs are refused', () => {
  const req = translate({
    contents: [{ parts: [{ text: 'Compare' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }, { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a.webp' } }] }],
  });
  assert.deepEqual(req.messages[0]!.content, [
    { type: 'text', text: 'Compare' },
    { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    { type: 'image_url', image_url: { url: 'https://example.com/a.webp' } },
  ]);
  assert.throws(() => translate({ contents: [{ parts: [{ inlineData: { mimeType: 'audio/wav', data: 'AAAA' } }] }] }), refused('contents[0].parts[0].inlineData'));
  for (const fileUri of ['https://generativelanguage.googleapis.com/v1beta/files/abc', 'gs://b/o.png']) {
    assert.throws(() => translate({ contents: [{ parts: [{ fileData: { fileUri } }] }] }), refused('contents[0].parts[0].fileData.fileUri'));
  }
});

test('function calls and responses: parallel calls, pairing by id, else by name in order; thoughts and signatures', () => {
  const req = translate({
    contents: [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Let me think.', thought: true },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
          { functionCall: { id: 'fc-1', name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'fc-1', name: 'get_time', response: { time: '10:00' } } },
          { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } },
          { functionResponse: { name: 'get_weather', response: { output: 'rain' } } },
          { text: 'Thanks' },
        ],
      },
    ],
  });
  const assistant = req.messages[1]!;
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.content, null);
  assert.equal(assistant.reasoning_content, 'Let me think.');
  const calls = assistant.tool_calls!;
  assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [
    ['get_weather', '{"city":"Paris"}'],
    ['get_weather', '{"city":"Rome"}'],
    ['get_time', '{}'],
  ]);
  assert.match(calls[0]!.id, /^call_/);
  assert.equal(calls[2]!.id, 'fc-1');
  assert.deepEqual(req.messages.slice(2), [
    { role: 'tool', tool_call_id: 'fc-1', content: '{"time":"10:00"}' },
    { role: 'tool', tool_call_id: calls[0]!.id, content: '{"output":"sunny"}' },
    { role: 'tool', tool_call_id: calls[1]!.id, content: '{"output":"rain"}' },
    { role: 'user', content: 'Thanks' },
  ]);
  assert.throws(
    () => translate({ contents: [{ role: 'user', parts: [{ functionResponse: { name: 'nobody', response: {} } }] }] }),
    (e: GatewayError) => e.status === 400 && e.param === 'contents[0].parts[0].functionResponse',
  );
});

test('tools: parametersJsonSchema as is, OpenAPI parameters converted; tool config modes', () => {
  const tools = [
    {
      functionDeclarations: [
        { name: 'a', description: 'A', parametersJsonSchema: { type: 'object', properties: { x: { type: ['string', 'null'] } } } },
        { name: 'b', parameters: { type: 'OBJECT', properties: { n: { type: 'INTEGER', nullable: true } }, required: ['n'] } },
        { name: 'c' },
      ],
    },
  ];
  const contents = [{ parts: [{ text: 'go' }] }];
  const req = translate({ contents, tools, toolConfig: { functionCallingConfig: { mode: 'AUTO' } } });
  assert.deepEqual(req.tools, [
    { type: 'function', function: { name: 'a', description: 'A', parameters: { type: 'object', properties: { x: { type: ['string', 'null'] } } } } },
    { type: 'function', function: { name: 'b', parameters: { type: 'object', required: ['n'], properties: { n: { type: ['integer', 'null'] } } } } },
    { type: 'function', function: { name: 'c' } },
  ]);
  assert.equal(req.tool_choice, 'auto');
  const mode = (functionCallingConfig: unknown) => translate({ contents, tools, toolConfig: { functionCallingConfig } });
  assert.equal(mode({ mode: 'NONE' }).tool_choice, 'none');
  assert.equal(mode({ mode: 'ANY' }).tool_choice, 'required');
  assert.deepEqual(mode({ mode: 'ANY', allowedFunctionNames: ['b'] }).tool_choice, { type: 'function', function: { name: 'b' } });
  const several = mode({ mode: 'ANY', allowedFunctionNames: ['a', 'c'] });
  assert.equal(several.tool_choice, 'required');
  assert.deepEqual(several.tools!.map((t) => t.function.name), ['a', 'c']);
  assert.throws(() => mode({ mode: 'VALIDATED' }), refused('toolConfig.functionCallingConfig.mode'));
  assert.throws(() => mode({ mode: 'AUTO', allowedFunctionNames: ['a'] }), (e: GatewayError) => e.status === 400);
});

test('Gemini Schema to JSON Schema: type names, nullable enums, property order, int64 strings, examples', () => {
  const schema = toJsonSchema(
    {
      type: 'OBJECT',
      description: 'A recipe',
      properties: { steps: { type: 'ARRAY', items: { type: 'STRING' }, max_items: '5' }, name: { type: 'STRING', example: 'Soup' }, kind: { type: 'STRING', enum: ['a', 'b'], nullable: true } },
      propertyOrdering: ['name', 'kind'],
      anyOf: [{ type: 'OBJECT' }],
    },
    'generationConfig.responseSchema',
  );
  assert.deepEqual(schema, {
    type: 'object',
    description: 'A recipe',
    properties: {
      name: { type: 'string', examples: ['Soup'] },
      kind: { type: ['string', 'null'], enum: ['a', 'b', null] },
      steps: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    },
    anyOf: [{ type: 'object' }],
  });
  assert.deepEqual(Object.keys(schema.properties as object), ['name', 'kind', 'steps']);
  assert.throws(() => toJsonSchema({ type: 'OBJECT', $ref: '#/x' }, 'p'), (e: GatewayError) => e.status === 400 && e.param === 'p.$ref');
});

test('JSON output: bare application/json, responseSchema and responseJsonSchema; enum output refused', () => {
  const contents = [{ parts: [{ text: 'x' }] }];
  const format = (generationConfig: unknown) => translate({ contents, generationConfig }).response_format;
  assert.deepEqual(format({ responseMimeType: 'application/json' }), { type: 'json_object' });
  assert.deepEqual(format({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'NUMBER' } } } }), {
    type: 'json_schema',
    json_schema: { name: 'response', schema: { type: 'object', properties: { a: { type: 'number' } } } },
  });
  const jsonSchema = { type: 'object', properties: { a: { type: 'number' } }, additionalProperties: false };
  assert.deepEqual(format({ responseMimeType: 'application/json', responseJsonSchema: jsonSchema }), { type: 'json_schema', json_schema: { name: 'response', schema: jsonSchema } });
  assert.equal(format({ responseMimeType: 'text/plain' }), undefined);
  assert.throws(() => format({ responseMimeType: 'text/x.enum', responseSchema: { type: 'STRING', enum: ['a'] } }), refused('generationConfig.responseMimeType'));
  assert.throws(() => format({ responseSchema: { type: 'STRING' } }), (e: GatewayError) => e.status === 400 && e.param === 'generationConfig.responseMimeType');
});

test('thinking: budget to the smallest effort allowing it, 0 off, -1 the target default, levels by name', () => {
  const contents = [{ parts: [{ text: 'x' }] }];
  const effort = (thinkingConfig: unknown) => translate({ contents, generationConfig: { thinkingConfig } }).reasoning_effort;
  assert.equal(effort({ thinkingBudget: 0 }), 'none');
  assert.equal(effort({ thinkingBudget: -1 }), undefined);
  assert.equal(effort({ thinkingBudget: 1024 }), 'minimal');
  assert.equal(effort({ thinkingBudget: 5000 }), 'medium');
  assert.equal(effort({ thinkingBudget: 100000 }), 'xhigh');
  assert.equal(effort({ thinkingLevel: 'HIGH' }), 'high');
  assert.equal(includeThoughts(parseGenerateContent({ contents, generationConfig: { thinkingConfig: { includeThoughts: true } } })), true);
  assert.equal(includeThoughts(parseGenerateContent({ contents })), false);
});

test('what the canonical shape cannot carry is refused, naming the field and the target', () => {
  const contents = [{ parts: [{ text: 'x' }] }];
  assert.throws(() => translate({ contents, cachedContent: 'cachedContents/abc' }), refused('cachedContent'));
  assert.throws(() => translate({ contents, tools: [{ googleSearch: {} }] }), refused('tools[0].googleSearch'));
  assert.throws(() => translate({ contents, tools: [{ functionDeclarations: [{ name: 'f', behavior: 'NON_BLOCKING' }] }] }), refused('tools[0].functionDeclarations[0].behavior'));
  assert.throws(() => translate({ contents, generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } }), refused('generationConfig.responseModalities'));
  assert.throws(() => translate({ contents, generationConfig: { speechConfig: { voiceConfig: {} } } }), refused('generationConfig.speechConfig'));
  assert.throws(() => translate({ contents: [{ parts: [{ executableCode: { code: '1' } }] }] }), refused('contents[0].parts[0].executableCode'));
  assert.throws(
    () => translate({ contents, safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_LOW_AND_ABOVE' }] }),
    refused('safetySettings[0].threshold'),
  );
  // Lowering Gemini's own filters asks nothing of another provider.
  assert.doesNotThrow(() => translate({ contents, safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }], generationConfig: { responseModalities: ['TEXT'] } }));
});

test('malformed requests are 400s naming the field', () => {
  assert.throws(() => parseGenerateContent({ contents: [] }), (e: GatewayError) => e.status === 400 && e.param === 'contents');
  assert.throws(() => parseGenerateContent({ contents: [{ role: 'system', parts: [] }] }), (e: GatewayError) => e.status === 400 && e.param === 'contents[0].role');
  assert.throws(() => parseGenerateContent({ contents: [{ parts: [] }], generationConfig: { temperature: 'hot' } }), (e: GatewayError) => e.param === 'generationConfig.temperature');
});

test('countTokens takes bare contents or a whole generateContentRequest', () => {
  assert.deepEqual(parseCountTokens({ contents: [{ parts: [{ text: 'a' }] }] }), { contents: [{ parts: [{ text: 'a' }] }] });
  const inner = parseCountTokens({ generateContentRequest: { model: 'models/x', contents: [{ parts: [{ text: 'b' }] }], systemInstruction: { parts: [{ text: 's' }] } } });
  assert.equal(inner.systemInstruction?.parts[0]?.text, 's');
  assert.throws(() => parseCountTokens({}), (e: GatewayError) => e.status === 400 && e.param === 'contents');
});

test('embeddings: one text per request with the asked dimensions; task types are refused', () => {
  assert.deepEqual(toEmbeddingsRequest([parseEmbedContent({ content: { parts: [{ text: 'a' }, { text: 'b' }] }, outputDimensionality: 8 })], 'emb', where, false), {
    model: 'emb',
    input: ['a\nb'],
    dimensions: 8,
  });
  const batch = parseBatchEmbedContents({ requests: [{ model: 'models/emb', content: { parts: [{ text: 'x' }] } }, { model: 'models/emb', content: { parts: [{ text: 'y' }] } }] });
  assert.deepEqual(toEmbeddingsRequest(batch, 'emb', where, true), { model: 'emb', input: ['x', 'y'] });
  assert.throws(() => toEmbeddingsRequest(parseBatchEmbedContents({ requests: [{ content: { parts: [{ text: 'x' }] }, taskType: 'RETRIEVAL_QUERY' }] }), 'emb', where, true), refused('requests[0].taskType'));
  const mixed = parseBatchEmbedContents({ requests: [{ content: { parts: [{ text: 'x' }] }, outputDimensionality: 8 }, { content: { parts: [{ text: 'y' }] } }] });
  assert.throws(() => toEmbeddingsRequest(mixed, 'emb', where, true), (e: GatewayError) => e.status === 400 && e.param === 'requests');
});
