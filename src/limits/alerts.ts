// Budget alerts. When spend passes one of a budget's alert thresholds, a message goes to every webhook of the config
// (budgets.alerts.webhooks) and to the budget's own webhook_url: once per threshold, budget and period across every
// gateway instance, since the first caller to count the crossing in the shared kv is the one that sends. The request
// that crossed it does not wait: crossed() returns at once, and delivery (observability/webhooks.ts: retries, failures
// logged with the webhook's origin only) happens behind it.

import type { WebhookConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { describeError, WebhookSender, type WebhookDestination } from '../observability/webhooks.ts';
import type { Kv } from '../store/kv/index.ts';
import type { BudgetPeriod, BudgetRule } from './rules.ts';

export interface BudgetAlertsOptions {
  /** Shared by every instance (Redis), or this instance's own. */
  kv: Pick<Kv, 'incrBy'>;
  /** config.budgets.alerts.webhooks. */
  webhooks: readonly WebhookConfig[];
  logger: Pick<Logger, 'warn'>;
  /** Per attempt, connecting included: 5 s by default. */
  timeoutMs?: number;
  /** Further attempts after a network error, a 429 or a 5xx: 2 by default. */
  retries?: number;
  /** Before the first retry, doubling after each: 500 ms by default. */
  backoffMs?: number;
  /** Epoch milliseconds, for the alert's time. */
  now?: () => number;
}

interface Crossing {
  budget: BudgetRule;
  periodStartMs: number;
  threshold: number;
  spentUsd: number;
}

const DAY = 86_400_000;
/** The longest a period lasts; a dedupe mark outlives it by a day, so a late instance still sees it. */
const PERIOD_MS: Record<BudgetPeriod, number> = { daily: DAY, weekly: 7 * DAY, monthly: 31 * DAY, total: 400 * DAY };

function usd(amount: number): string {
  return `$${amount.toFixed(amount !== 0 && Math.abs(amount) < 0.01 ? 4 : 2)}`;
}

const CALENDAR: Record<BudgetPeriod, string> = { daily: 'day', weekly: 'week', monthly: 'month', total: '' };
const ROLLING: Record<BudgetPeriod, string> = { daily: '24 hours', weekly: '7 days', monthly: '30 days', total: '' };

/** One line for people: who spent how much of what, over which period, and what happens at the limit. */
function slackText({ budget, periodStartMs, threshold, spentUsd }: Crossing): string {
  const when =
    budget.period === 'total'
      ? 'in total'
      : budget.window === 'rolling'
        ? `in the last ${ROLLING[budget.period]}`
        : `this ${CALENDAR[budget.period]} (since ${new Date(periodStartMs).toISOString().slice(0, 10)} UTC)`;
  const enforcement = budget.enforcement === 'hard' ? 'requests that would go past it are refused' : 'soft budget: alerts only';
  return (
    `Switchboard budget alert: ${budget.scope} ${budget.subject_id} has spent ${usd(spentUsd)} ${when}, past ${threshold}% of its ` +
    `${usd(budget.amount_usd)} ${budget.period} budget ${budget.id} (${enforcement}).`
  );
}

function jsonBody({ budget, periodStartMs, threshold, spentUsd }: Crossing, nowMs: number) {
  return {
    type: 'budget.threshold',
    budget_id: budget.id,
    org_id: budget.org_id,
    scope: budget.scope,
    subject_id: budget.subject_id,
    period: budget.period,
    window: budget.window,
    period_start: new Date(periodStartMs).toISOString(),
    threshold_percent: threshold,
    amount_usd: budget.amount_usd,
    spent_usd: spentUsd,
    enforcement: budget.enforcement,
    time: new Date(nowMs).toISOString(),
  };
}

export class BudgetAlerts {
  readonly #kv: BudgetAlertsOptions['kv'];
  readonly #webhooks: readonly WebhookDestination[];
  readonly #logger: BudgetAlertsOptions['logger'];
  readonly #sender: WebhookSender;
  readonly #now: () => number;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: BudgetAlertsOptions) {
    this.#kv = options.kv;
    this.#webhooks = options.webhooks.map((w) => ({ url: w.url, format: w.format, headers: w.headers }));
    this.#logger = options.logger;
    this.#sender = new WebhookSender(options);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Spend on `budget` in the period starting at `periodStartMs` went from `spentBeforeUsd` to `spentAfterUsd`: sends
   * an alert for every threshold whose amount lies in (before, after] that no instance has sent for this period yet.
   * Returns at once and never throws.
   */
  crossed(budget: BudgetRule, periodStartMs: number, spentBeforeUsd: number, spentAfterUsd: number): void {
    try {
      // In percent, rounded to a millionth: USD amounts times percentages leave float residue that would make a spend
      // of exactly the budget miss its 100 %.
      const percent = (usd: number) => Math.round((usd / budget.amount_usd) * 1e8) / 1e6;
      const before = percent(spentBeforeUsd);
      const after = percent(spentAfterUsd);
      for (const threshold of budget.alert_thresholds) {
        if (before < threshold && threshold <= after) this.#track(budget, this.#alert({ budget, periodStartMs, threshold, spentUsd: spentAfterUsd }));
      }
    } catch (error) {
      this.#failed(budget, error);
    }
  }

  /** Resolves once every alert started so far has been delivered or given up on: for shutdown and tests. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #track(budget: BudgetRule, alert: Promise<void>): void {
    const work = alert.catch((error: unknown) => this.#failed(budget, error));
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  #failed(budget: BudgetRule, error: unknown): void {
    this.#logger.warn({ budget_id: budget.id, err: describeError(error) }, 'budget alert not sent');
  }

  async #alert(crossing: Crossing): Promise<void> {
    const { budget, periodStartMs, threshold } = crossing;
    try {
      const mark = `budget-alert:${budget.id}:${periodStartMs}:${threshold}`;
      if ((await this.#kv.incrBy(mark, 1, PERIOD_MS[budget.period] + DAY)) !== 1) return;
    } catch (error) {
      // A duplicate alert is better than none: without the kv, every instance that sees the crossing sends.
      this.#logger.warn({ budget_id: budget.id, threshold, err: describeError(error) }, 'budget alert: the kv is unreachable, sending without deduplication');
    }
    const own: WebhookDestination[] = budget.webhook_url ? [{ url: budget.webhook_url, format: budget.webhook_format, headers: {} }] : [];
    const nowMs = this.#now();
    const bodies = { json: JSON.stringify(jsonBody(crossing, nowMs)), slack: JSON.stringify({ text: slackText(crossing) }) };
    await this.#sender.send([...this.#webhooks, ...own], bodies, { message: 'budget alert webhook failed', fields: { budget_id: budget.id, threshold } });
  }
}
