import assert from 'node:assert/strict';
import { test } from 'node:test';
import { genAiOperationName, genAiProviderName } from './gen-ai.ts';

test('provider types map to the GenAI well-known provider names, others stay their type', () => {
  const expected: Record<string, string> = {
    openai: 'openai',
    anthropic: 'anthropic',
    gemini: 'gcp.gemini',
    vertex: 'gcp.vertex_ai',
    bedrock: 'aws.bedrock',
    'azure-openai': 'azure.ai.openai',
    cohere: 'cohere',
    mistral: 'mistral_ai',
    groq: 'groq',
    deepseek: 'deepseek',
    xai: 'x_ai',
    ollama: 'ollama',
    openrouter: 'openrouter',
    vllm: 'vllm',
  };
  for (const [type, name] of Object.entries(expected)) assert.equal(genAiProviderName(type), name, type);
  assert.equal(genAiProviderName('toString'), 'toString', 'no inherited property is taken for a name');
});

test('operations map to the GenAI operation names where one exists', () => {
  assert.equal(genAiOperationName('chat'), 'chat');
  assert.equal(genAiOperationName('embeddings'), 'embeddings');
  assert.equal(genAiOperationName('completions'), 'text_completion');
  assert.equal(genAiOperationName('count_tokens'), 'count_tokens');
  assert.equal(genAiOperationName('speech'), 'speech');
});
