import type { Queryable } from '../../db/index.ts';

/** An order as the import writes it; null optional fields keep what a stored order has. */
export type OrderWrite = {
  orderId: string; contactId: number; status: string | null; total: number; currency: string | null; coupon: string | null;
  discount: number | null; properties: Record<string, string>; orderedAt: Date;
};

type Stored = {
  ctid: string; order_id: string; contact_id: number; status: string; total: number; currency: string | null; coupon: string | null;
  discount: number | null; properties: Record<string, unknown>; ordered_at: Date;
};

/**
 * Inserts new orders and updates known ones where something differs, so that importing a file a
 * second time writes nothing (updated_at stays).
 *
 * Known orders are found with one primary-key probe per id (`cross join lateral … limit 1`): a
 * join or `= any()` let the planner scan the whole table while it was growing and had no
 * statistics yet, which made a million-row import slow down batch after batch. The probe locks the
 * rows it finds (`for update`), so the update can reach them by ctid, a TID scan per row.
 * Measured on 100,000 orders: the probe, compare-in-JS and insert take about half the time of an
 * update-then-insert pair of statements.
 */
export async function saveOrders(tx: Queryable, workspaceId: string, orders: readonly OrderWrite[], now: Date): Promise<void> {
  const { rows } = await tx.query<Stored>(
    `select x.ctid::text as ctid, x.order_id, x.contact_id, x.status, x.total, x.currency, x.coupon, x.discount, x.properties, x.ordered_at
       from unnest($2::text[]) as t(id)
       cross join lateral (select ctid, * from orders where workspace_id = $1 and order_id = t.id limit 1 for update) x`,
    [workspaceId, orders.map((o) => o.orderId)],
  );
  const stored = new Map(rows.map((r) => [r.order_id, r]));
  const fresh: OrderWrite[] = [];
  const changed: (OrderWrite & { ctid: string; status: string })[] = [];
  for (const o of orders) {
    const s = stored.get(o.orderId);
    if (!s) {
      fresh.push(o);
      continue;
    }
    const next = {
      ...o,
      ctid: s.ctid,
      status: o.status ?? s.status,
      currency: o.currency ?? s.currency,
      coupon: o.coupon ?? s.coupon,
      discount: o.discount ?? s.discount,
      properties: { ...s.properties, ...o.properties } as Record<string, string>,
    };
    const same =
      s.contact_id === next.contactId && s.status === next.status && s.total === next.total && s.currency === next.currency && s.coupon === next.coupon &&
      s.discount === next.discount && s.ordered_at.getTime() === next.orderedAt.getTime() && Object.entries(o.properties).every(([k, v]) => s.properties[k] === v);
    if (!same) changed.push(next);
  }

  if (fresh.length > 0) {
    // `do nothing`: an order created meanwhile by the tracking API (Order Completed) keeps its row.
    await tx.query(
      `insert into orders (workspace_id, order_id, contact_id, status, total, currency, coupon, discount, properties, ordered_at, created_at, updated_at)
       select $1, o, c, coalesce(s, 'completed'), t, cur, cp, d, p, at, $11, $11
         from unnest($2::text[], $3::bigint[], $4::text[], $5::numeric[], $6::text[], $7::text[], $8::numeric[], $9::jsonb[], $10::timestamptz[])
           as v(o, c, s, t, cur, cp, d, p, at)
       on conflict (workspace_id, order_id) do nothing`,
      [workspaceId, ...columns(fresh), now],
    );
  }
  if (changed.length > 0) {
    await tx.query(
      `update orders x set contact_id = v.c, status = v.s, total = v.t, currency = v.cur, coupon = v.cp, discount = v.d, properties = v.p,
              ordered_at = v.at, updated_at = $11
         from unnest($2::tid[], $3::bigint[], $4::text[], $5::numeric[], $6::text[], $7::text[], $8::numeric[], $9::jsonb[], $10::timestamptz[])
           as v(id, c, s, t, cur, cp, d, p, at)
        where x.ctid = v.id`,
      [workspaceId, changed.map((o) => o.ctid), ...columns(changed).slice(1), now],
    );
  }
}

function columns(orders: readonly OrderWrite[]): unknown[][] {
  return [
    orders.map((o) => o.orderId),
    orders.map((o) => o.contactId),
    orders.map((o) => o.status),
    orders.map((o) => o.total),
    orders.map((o) => o.currency),
    orders.map((o) => o.coupon),
    orders.map((o) => o.discount),
    orders.map((o) => JSON.stringify(o.properties)),
    orders.map((o) => o.orderedAt),
  ];
}
