// What each alert rule says about the figures, as pure functions: the subjects a rule looks at (all its traffic, or
// each model or provider on its own), the value it measures for each, whether that breaks the rule, and which subjects
// start or stop firing given those that already are.

import type { AlertRule } from '../../config/schema.ts';
import { histogramCount, LATENCY_BUCKETS, quantileMs } from './histogram.ts';
import type { WindowSeries } from './shared-minutes.ts';

/** What an alert is about: a model and/or provider (the model name clients send), or a routed target. */
export interface Subject {
  model?: string;
  provider?: string;
  /** "<provider>/<model>", for circuit_open. */
  target?: string;
}

export interface Observation {
  /** Names the subject within its rule, in the state store. */
  key: string;
  subject: Subject;
  value: number;
  /** The rule is broken: the value is over the threshold, with enough requests to say so. */
  holds: boolean;
}

export interface FiringState {
  subject: Subject;
  /** The value that set it firing. */
  value: number;
  /** Epoch ms. */
  started_at: number;
}

export interface Transitions {
  fire: Observation[];
  /** Subjects firing whose rule no longer holds (or that had no traffic left at all: value 0). */
  resolve: { key: string; state: FiringState; value: number }[];
}

interface Group {
  subject: Subject;
  requests: number;
  errors: number;
  costUsd: number;
  latency: Float64Array;
}

const rounded = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

/** The model and provider the rule names, if any. */
function ruleSubject(rule: AlertRule): Subject {
  const subject: Subject = {};
  if (rule.model !== undefined) subject.model = rule.model;
  if (rule.provider !== undefined) subject.provider = rule.provider;
  return subject;
}

function subjectOf(rule: AlertRule, s: WindowSeries): { key: string; subject: Subject } {
  if (rule.per === 'model') return { key: `model=${s.model}`, subject: { ...ruleSubject(rule), model: s.model } };
  if (rule.per === 'provider') return { key: `provider=${s.provider}`, subject: { ...ruleSubject(rule), provider: s.provider } };
  return { key: '*', subject: ruleSubject(rule) };
}

const group = (subject: Subject): Group => ({ subject, requests: 0, errors: 0, costUsd: 0, latency: new Float64Array(LATENCY_BUCKETS) });

function measure(rule: AlertRule, g: Group): { value: number; holds: boolean } {
  switch (rule.kind) {
    case 'error_rate': {
      const value = g.requests > 0 ? rounded((g.errors / g.requests) * 100, 2) : 0;
      return { value, holds: g.requests >= rule.min_requests && value > rule.threshold };
    }
    case 'p95_latency': {
      const value = Math.round(quantileMs(g.latency, 0.95));
      return { value, holds: histogramCount(g.latency) >= rule.min_requests && value > rule.threshold };
    }
    default: {
      // Spend is a sum, so any amount past the threshold counts, however few requests made it.
      const value = rounded(g.costUsd, 6);
      return { value, holds: value > rule.threshold };
    }
  }
}

/**
 * A rate, latency or spend rule over one window's series: one observation per subject with traffic, and for a rule
 * over all its traffic (no `per`) always exactly one.
 */
export function observe(rule: AlertRule, series: readonly WindowSeries[]): Observation[] {
  const groups = new Map<string, Group>();
  if (rule.per === undefined) groups.set('*', group(ruleSubject(rule)));
  for (const s of series) {
    if ((rule.model !== undefined && s.model !== rule.model) || (rule.provider !== undefined && s.provider !== rule.provider)) continue;
    const { key, subject } = subjectOf(rule, s);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = group(subject)));
    g.requests += s.requests;
    g.errors += s.errors;
    g.costUsd += s.costUsd;
    for (let i = 0; i < s.latency.length; i++) g.latency[i]! += s.latency[i]!;
  }
  return [...groups].map(([key, g]) => ({ key, subject: g.subject, ...measure(rule, g) }));
}

/** A circuit_open rule's subject key for a target. */
export const circuitKey = (target: string) => `target=${target}`;

/**
 * A circuit_open rule: one observation per target of the rule's model and provider whose circuit is open on some
 * instance (value: on how many). `model` matches the target's model id or the name of a configured model routing to it.
 */
export function observeCircuits(rule: AlertRule, open: ReadonlyMap<string, number>, routesOf: (target: string) => readonly string[]): Observation[] {
  const observations: Observation[] = [];
  for (const [target, instances] of open) {
    const slash = target.indexOf('/');
    const provider = target.slice(0, slash);
    const model = target.slice(slash + 1);
    if (rule.provider !== undefined && provider !== rule.provider) continue;
    if (rule.model !== undefined && model !== rule.model && !routesOf(target).includes(rule.model)) continue;
    observations.push({ key: circuitKey(target), subject: { target, provider, model }, value: instances, holds: instances > 0 });
  }
  return observations;
}

/** What changes: subjects breaking the rule that are not firing yet, and firing ones that no longer break it. */
export function transitions(observations: readonly Observation[], firing: ReadonlyMap<string, FiringState>): Transitions {
  const seen = new Map(observations.map((o) => [o.key, o]));
  return {
    fire: observations.filter((o) => o.holds && !firing.has(o.key)),
    resolve: [...firing]
      .filter(([key]) => !seen.get(key)?.holds)
      .map(([key, state]) => ({ key, state, value: seen.get(key)?.value ?? 0 })),
  };
}
