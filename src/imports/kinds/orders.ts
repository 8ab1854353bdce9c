import { z } from 'zod';
import { resolveIdentities } from '../../contacts/index.ts';
import { currency, identifier, money, text, timestamp } from '../fields.ts';
import type { ImportKind, RowError } from '../types.ts';
import { extras, lastWins, screenEmail } from './shared.ts';
import { saveOrders } from './orders-store.ts';

const known = {
  order_id: identifier(200),
  user_id: identifier(256),
  ordered_at: timestamp,
  total: money,
  currency: currency.optional(),
  email: text(1024).optional(),
  status: z.enum(['completed', 'refunded', 'cancelled']).optional(),
  coupon: text(200).optional(),
  discount: money.optional(),
};

export const OrderRow = z
  .object(known)
  .catchall(z.string().max(10_000, { error: 'is too long (at most 10,000 characters)' }))
  .transform((r) => ({
    orderId: r.order_id,
    userId: r.user_id,
    orderedAt: r.ordered_at,
    total: r.total,
    currency: r.currency ?? null,
    email: r.email ?? null,
    status: r.status ?? null,
    coupon: r.coupon ?? null,
    discount: r.discount ?? null,
    properties: extras(r, known),
  }));
export type OrderRow = z.infer<typeof OrderRow>;

/**
 * Orders, keyed by order_id. The customer is found (or created) by user_id through the same
 * identity rules as the tracking API, and first/last seen follow the order dates.
 */
export const ordersKind: ImportKind<OrderRow> = {
  name: 'orders',
  columns: [
    { name: 'order_id', type: 'text, up to 200 characters', required: true, description: 'The key: importing an order_id again updates that order.' },
    { name: 'user_id', type: 'text, up to 256 characters', required: true, description: 'The customer; a contact is created when the id is new.' },
    { name: 'ordered_at', type: 'date or date-time', required: true, description: 'YYYY-MM-DD, YYYYMMDD or ISO 8601 (2026-03-01T14:30:00Z; without an offset, UTC).' },
    { name: 'total', type: 'decimal ≥ 0', required: true, description: 'What the customer paid, after discounts.' },
    { name: 'currency', type: 'ISO 4217 code', required: false, description: 'e.g. EUR.' },
    { name: 'email', type: 'email address', required: false, description: "Fills the contact's email when it has none (checked like every address)." },
    { name: 'status', type: 'completed, refunded or cancelled', required: false, description: 'Blank: completed for a new order, unchanged for a known one.' },
    { name: 'coupon', type: 'text, up to 200 characters', required: false, description: 'The coupon code used.' },
    { name: 'discount', type: 'decimal ≥ 0', required: false, description: 'The discount granted.' },
  ],
  requiredHeaders: [['order_id'], ['user_id'], ['ordered_at'], ['total']],
  extraColumns: 'properties',
  schema: OrderRow,
  async write(ctx, rows) {
    const errors: RowError[] = [];
    const orders: (OrderRow & { emailCheck: string | null })[] = [];
    for (const r of lastWins(rows, (o) => o.orderId)) {
      if (r.value.email === null) {
        orders.push({ ...r.value, emailCheck: null });
        continue;
      }
      const screened = screenEmail(r.value.email, ctx.settings);
      if (!screened.ok) errors.push({ line: r.line, column: 'email', message: screened.message });
      else orders.push({ ...r.value, email: screened.email.address, emailCheck: JSON.stringify(screened.email.check) });
    }
    if (orders.length === 0) return errors;
    await ctx.db.transaction(async (tx) => {
      // A contact's first and last seen times come from its orders: `at` is the order date.
      const contactIds = await resolveIdentities(tx, ctx.workspaceId, orders.map((o) => ({ userId: o.userId, at: o.orderedAt })), ctx.now);
      // Required columns replace what is stored; blank optional cells keep it.
      await saveOrders(tx, ctx.workspaceId, orders.map((o, i) => ({ ...o, contactId: contactIds[i]! })), ctx.now);
      const withEmail = orders.flatMap((o, i) => (o.email ? [{ id: contactIds[i]!, email: o.email, check: o.emailCheck }] : []));
      if (withEmail.length > 0) {
        await tx.query(
          `update contacts c set email = v.e, email_check = v.k, updated_at = $5
             from (select distinct on (id) id, e, k from unnest($2::bigint[], $3::text[], $4::jsonb[]) as t(id, e, k) order by id) v
            where c.workspace_id = $1 and c.id = v.id and c.email is null`,
          [ctx.workspaceId, withEmail.map((x) => x.id), withEmail.map((x) => x.email), withEmail.map((x) => x.check), ctx.now],
        );
      }
    });
    return errors;
  },
};
