import type { Db } from '../../db/index.ts';
import type { Clock } from '../../core/clock.ts';
import { DAY_MS } from '../../core/clock.ts';
import { chooseIntervals, type IntervalOptions, type IntervalSource, type ProductInterval } from './intervals.ts';
import { dueReason, intervalReason } from './reasons.ts';
import { repeatGaps } from './sql/repeat-gaps.ts';
import { dueRows, refreshDue, type DueRow } from './sql/due.ts';

export type ReplenishmentProduct = ProductInterval & { name: string; category: string | null; fittedAt: Date; reason: string };

export type ContactReplenishment = {
  sku: string;
  name: string;
  quantity: number;
  lastOrderedAt: Date;
  dueAt: Date;
  intervalDays: number;
  source: IntervalSource;
  /** overdue: past its due date; due: within the next `dueSoonDays`; later: after that. */
  status: 'overdue' | 'due' | 'later';
  reason: string;
};

export type ReplenishmentOptions = IntervalOptions & {
  /** "Due soon" means due within this many days (default 14). */
  dueSoonDays?: number;
};

type Facts = { sku: string; name: string; category: string | null; lifetime_days: number | null };

/** Order events that change what a contact has and when it runs out. */
const ORDER_EVENTS = new Set(['Order Completed', 'Order Updated', 'Order Refunded', 'Order Cancelled']);

/**
 * Replenishment: learns how long each product lasts (intervals.ts) and keeps, per contact and
 * product, the date a replacement is due. `fit` relearns everything (the CLI, the API and a
 * scheduler call it); `refreshContacts` recomputes the due dates of contacts who just ordered,
 * with the stored intervals; `onIngested` is that, wired to ingestion's listener.
 */
export function createReplenishmentService({ db, clock, options = {} }: { db: Db; clock: Clock; options?: ReplenishmentOptions }) {
  const dueSoonDays = options.dueSoonDays ?? 14;

  async function facts(workspaceId: string): Promise<Facts[]> {
    const { rows } = await db.query<Facts>(`select sku, name, category, lifetime_days from products where workspace_id = $1`, [workspaceId]);
    return rows;
  }

  /** Learns every product's interval from orders before `asOf` (default now) without storing it. */
  async function learn(workspaceId: string, asOf: Date = clock.now()): Promise<ProductInterval[]> {
    const [products, stats] = await Promise.all([facts(workspaceId), repeatGaps(db, workspaceId, asOf)]);
    return chooseIntervals(products.map((p) => ({ sku: p.sku, name: p.name, category: p.category, lifetimeDays: p.lifetime_days })), stats, options);
  }

  async function storedIntervals(workspaceId: string): Promise<ProductInterval[]> {
    const { rows } = await db.query<{ sku: string; interval_days: number; observations: number; source: IntervalSource }>(
      `select sku, interval_days, observations, source from replenishment_intervals where workspace_id = $1`,
      [workspaceId],
    );
    return rows.map((r) => ({ sku: r.sku, intervalDays: r.interval_days, observations: r.observations, source: r.source }));
  }

  async function refreshContacts(workspaceId: string, contactIds: readonly number[]): Promise<number> {
    if (contactIds.length === 0) return 0;
    const intervals = await storedIntervals(workspaceId);
    return db.transaction((tx) => refreshDue(tx, workspaceId, clock.now(), intervals, contactIds));
  }

  return {
    learn,
    dueSoonDays,

    /** Relearns the intervals, stores them and recomputes every contact's due dates. */
    async fit(workspaceId: string): Promise<{ products: number; due: number; ms: number }> {
      const started = performance.now();
      const now = clock.now();
      const intervals = await learn(workspaceId, now);
      const due = await db.transaction(async (tx) => {
        await tx.query(`delete from replenishment_intervals where workspace_id = $1`, [workspaceId]);
        await tx.query(
          `insert into replenishment_intervals (workspace_id, sku, interval_days, observations, source, fitted_at)
           select $1, * , $6 from unnest($2::text[], $3::float8[], $4::int[], $5::text[])`,
          [workspaceId, intervals.map((i) => i.sku), intervals.map((i) => i.intervalDays), intervals.map((i) => i.observations), intervals.map((i) => i.source), now],
        );
        return refreshDue(tx, workspaceId, now, intervals, null);
      });
      return { products: intervals.length, due, ms: Math.round(performance.now() - started) };
    },

    /** Recomputes the due dates of these contacts with the stored intervals (after they ordered). */
    refreshContacts,

    /** For ingestion's listener: refreshes the contacts whose orders changed in a batch. */
    async onIngested(batch: { workspaceId: string; events: readonly { contactId: number; name: string | null }[] }): Promise<void> {
      const ids = [...new Set(batch.events.filter((e) => e.name !== null && ORDER_EVENTS.has(e.name)).map((e) => e.contactId))];
      if (ids.length > 0) await refreshContacts(batch.workspaceId, ids);
    },

    /** Due dates as of a moment, with given intervals, not stored (for back-testing). */
    dueAsOf(workspaceId: string, asOf: Date, intervals: readonly ProductInterval[]): Promise<DueRow[]> {
      return dueRows(db, workspaceId, asOf, intervals);
    },

    /** The stored intervals with product names and reasons. */
    async products(workspaceId: string): Promise<ReplenishmentProduct[]> {
      const { rows } = await db.query<{ sku: string; name: string | null; category: string | null; interval_days: number; observations: number; source: IntervalSource; fitted_at: Date }>(
        `select r.sku, p.name, p.category, r.interval_days, r.observations, r.source, r.fitted_at
           from replenishment_intervals r left join products p on p.workspace_id = r.workspace_id and p.sku = r.sku
          where r.workspace_id = $1 order by r.sku`,
        [workspaceId],
      );
      return rows.map((r) => {
        const interval = { sku: r.sku, intervalDays: r.interval_days, observations: r.observations, source: r.source };
        return { ...interval, name: r.name ?? r.sku, category: r.category, fittedAt: r.fitted_at, reason: intervalReason({ ...interval, category: r.category }) };
      });
    },

    /** A contact's replenishable products, soonest due first, with reasons in their time zone. */
    async forContact(workspaceId: string, contactId: number): Promise<ContactReplenishment[]> {
      const { rows } = await db.query<{ sku: string; name: string | null; category: string | null; quantity: number; last_ordered_at: Date; due_at: Date; interval_days: number; source: IntervalSource; timezone: string | null }>(
        `select d.sku, p.name, p.category, d.quantity, d.last_ordered_at, d.due_at, d.interval_days, d.source, c.timezone
           from replenishment_due d
           left join products p on p.workspace_id = d.workspace_id and p.sku = d.sku
           left join contacts c on c.workspace_id = d.workspace_id and c.id = d.contact_id
          where d.workspace_id = $1 and d.contact_id = $2 order by d.due_at, d.sku`,
        [workspaceId, contactId],
      );
      const now = clock.now().getTime();
      return rows.map((r) => {
        const item = { sku: r.sku, name: r.name ?? r.sku, quantity: r.quantity, lastOrderedAt: r.last_ordered_at, dueAt: r.due_at, intervalDays: r.interval_days, source: r.source };
        const status: ContactReplenishment['status'] = r.due_at.getTime() < now ? 'overdue' : r.due_at.getTime() <= now + dueSoonDays * DAY_MS ? 'due' : 'later';
        return { ...item, status, reason: dueReason({ ...item, category: r.category }, validZone(r.timezone)) };
      });
    },
  };
}

export type ReplenishmentService = ReturnType<typeof createReplenishmentService>;

function validZone(zone: string | null): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}
