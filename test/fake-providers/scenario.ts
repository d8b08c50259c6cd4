// Turns a scripted (or absent) Scenario into a fully decided one, plus the small helpers every wire format shares.

import type { Conversation, Resolved, Scenario } from './types.ts';

const WEATHER = /\bweather\b/i;

/** Rough token count of text: a quarter of the characters, at least 1 (providers never report 0 input tokens). */
function roughTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

function words(s: string): number {
  const t = s.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/**
 * A scripted scenario is rendered as given; only what it leaves out and can be derived (usage, finish, embeddings) is
 * filled in. Without a script, the default echoes the last user text, or calls the first tool when asked about the
 * weather (but not again once a tool result came back, so agent loops in tests terminate).
 */
export function resolve(scripted: Scenario | undefined, c: Conversation): Resolved {
  const s: Scenario = scripted ?? defaultScenario(c);
  const text = s.text ?? '';
  const reasoning = s.reasoning ?? '';
  const toolCalls = s.toolCalls ?? [];
  const reasoningTokens = s.usage?.reasoning ?? words(reasoning);
  const usage = {
    input: s.usage?.input ?? roughTokens(c.chars),
    output: s.usage?.output ?? Math.max(1, words(text) + words(reasoning)),
    cached: s.usage?.cached ?? 0,
    reasoning: reasoningTokens,
  };
  const inputs = c.embedInputs ?? [];
  return {
    text,
    reasoning,
    toolCalls,
    finish: s.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage,
    noUsage: s.noUsage === true,
    embeddings: inputs.map((t) => s.embedding ?? embedding(t)),
  };
}

function defaultScenario(c: Conversation): Scenario {
  if (c.firstTool !== undefined && !c.endsWithToolResult && WEATHER.test(c.lastUserText)) {
    return { toolCalls: [{ name: c.firstTool, arguments: { city: 'Paris' } }] };
  }
  return { text: `Echo: ${c.lastUserText}` };
}

/** Splits text into about three pieces (by code point, so no surrogate pair is torn), as providers stream deltas. */
export function pieces(s: string): string[] {
  if (s === '') return [];
  const cps = Array.from(s);
  const size = Math.ceil(cps.length / 3);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

// Ids only need to be unique within a process run; a random stem keeps two runs from colliding in logs.
const STEM = Math.random().toString(36).slice(2, 10);
let seq = 0;
export function nextId(prefix: string): string {
  return `${prefix}${STEM}${(++seq).toString(36)}`;
}

/** Deterministic unit-length 8-dim vector from text (FNV-1a seed, xorshift stream), so equal inputs embed equally. */
function embedding(text: string): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ||= 1; // xorshift is stuck at 0
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < 8; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    const x = (h >>> 0) / 0xffffffff - 0.5;
    v.push(x);
    norm += x * x;
  }
  const n = Math.sqrt(norm) || 1;
  return v.map((x) => x / n);
}

/** Joins the text parts of a message: string content as is, else every `{type:'text'}`-like part. */
export function textOf(content: unknown, isText: (part: any) => string | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const p of content) {
    const t = isText(p);
    if (t !== undefined) parts.push(t);
  }
  return parts.join(' ');
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);
