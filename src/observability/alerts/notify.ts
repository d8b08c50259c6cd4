// What an alert rule's notification says: a JSON body for programs and one line of text for people (Slack-compatible
// webhooks), both built from the same event.

import type { AlertRule } from '../../config/schema.ts';
import type { WebhookBodies } from '../webhooks.ts';
import type { Subject } from './rules.ts';

export interface AlertEvent {
  rule: AlertRule;
  status: 'firing' | 'resolved';
  subject: Subject;
  /** When firing, the value that set it off; when resolved, the value now. */
  value: number;
  /** Epoch ms. */
  startedAt: number;
  resolvedAt?: number;
  /** The instance that sent it (its host name). */
  gateway: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function alertJson(e: AlertEvent) {
  const circuit = e.rule.kind === 'circuit_open';
  return {
    alert: e.rule.name,
    kind: e.rule.kind,
    status: e.status,
    subject: e.subject,
    value: e.value,
    // A circuit opens and closes on the breaker's own rules: the rule sets no threshold or window of its own.
    threshold: circuit ? null : e.rule.threshold,
    window_minutes: circuit ? null : e.rule.window_minutes,
    started_at: iso(e.startedAt),
    ...(e.resolvedAt !== undefined ? { resolved_at: iso(e.resolvedAt) } : {}),
    gateway: e.gateway,
  };
}

function usd(amount: number): string {
  return `$${amount.toFixed(amount !== 0 && Math.abs(amount) < 0.01 ? 4 : 2)}`;
}

function figure(rule: AlertRule, value: number): string {
  switch (rule.kind) {
    case 'error_rate':
      return `${value}%`;
    case 'p95_latency':
      return `${value} ms`;
    default:
      return usd(value);
  }
}

const MEASURE = { error_rate: 'error rate', p95_latency: 'p95 latency', spend: 'spend' } as const;

function about(subject: Subject): string {
  const parts = [subject.model !== undefined && `model ${subject.model}`, subject.provider !== undefined && `provider ${subject.provider}`].filter(Boolean);
  return parts.length > 0 ? `for ${parts.join(', ')}` : 'for all traffic';
}

/** "2030-01-15 12:03 UTC" */
const minuteUtc = (ms: number) => `${iso(ms).slice(0, 16).replace('T', ' ')} UTC`;

export function alertText(e: AlertEvent): string {
  const head = `[${e.status.toUpperCase()}] Switchboard alert ${e.rule.name}:`;
  const since = `since ${minuteUtc(e.startedAt)}`;
  if (e.rule.kind === 'circuit_open') {
    const target = e.subject.target ?? '';
    if (e.status === 'resolved') return `${head} the circuit of ${target} closed again (open ${since}).`;
    return `${head} the circuit of ${target} is open on ${e.value} instance${e.value === 1 ? '' : 's'}; requests skip it.`;
  }
  const measured = `${MEASURE[e.rule.kind]} ${figure(e.rule, e.value)} over the last ${e.rule.window_minutes} min ${about(e.subject)}`;
  const limit = `threshold ${figure(e.rule, e.rule.threshold)}`;
  if (e.status === 'resolved') {
    // Still over the threshold means the traffic left in the window fell under min_requests.
    const why = e.value > e.rule.threshold ? `from fewer than ${e.rule.min_requests} requests, too few to judge` : `back within the ${limit}`;
    return `${head} ${measured}, ${why} (firing ${since}).`;
  }
  return `${head} ${measured}, over the ${limit}.`;
}

export function alertBodies(e: AlertEvent): WebhookBodies {
  return { json: JSON.stringify(alertJson(e)), slack: JSON.stringify({ text: alertText(e) }) };
}
