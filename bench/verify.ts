// Before a target is measured, prove it really relays the fake upstream's completion: a target that answers fast
// with an error or a canned reply would otherwise post a flattering number.

import { request } from 'undici';
import { API_KEY, UPSTREAM_MODEL, chatBody } from './payload.ts';
import type { Target, Upstream } from './targets.ts';

async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.statusCode, text: await response.body.text() };
}

function completionText(label: string, response: { status: number; text: string }): string {
  if (response.status !== 200) throw new Error(`${label}: HTTP ${response.status}: ${response.text.slice(0, 500)}`);
  const content = (JSON.parse(response.text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message
    ?.content;
  if (typeof content !== 'string' || content === '') throw new Error(`${label}: no completion in ${response.text.slice(0, 500)}`);
  return content;
}

export async function verifyTarget(target: Target, upstream: Upstream): Promise<void> {
  const direct = completionText(
    'fake upstream',
    await post(`${upstream.url}/openai/v1/chat/completions`, { authorization: `Bearer ${API_KEY}` }, chatBody(UPSTREAM_MODEL, false)),
  );
  const relayed = completionText(target.name, await post(target.url, target.headers, chatBody(target.model, false)));
  if (relayed !== direct) {
    throw new Error(`${target.name} answered "${relayed}", but the fake upstream answers "${direct}": it is not relaying the fake`);
  }

  const stream = await post(target.url, target.headers, chatBody(target.model, true));
  if (stream.status !== 200 || !stream.text.includes('data:') || !stream.text.includes('[DONE]')) {
    throw new Error(`${target.name}: streaming request gave HTTP ${stream.status}: ${stream.text.slice(0, 500)}`);
  }
}
