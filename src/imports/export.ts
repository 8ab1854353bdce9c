import type { Queryable } from '../db/index.ts';
import { csvLine } from './csv.ts';
import { contactsKind } from './kinds/contacts.ts';
import { ordersKind } from './kinds/orders.ts';
import { eventsKind } from './kinds/events.ts';
import { firstSeenSql, lastSeenSql } from '../contacts/seen.ts';

export const exportKindNames = ['contacts', 'events', 'orders'] as const;
export type ExportKindName = (typeof exportKindNames)[number];
export const exportFormats = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof exportFormats)[number];

type Cell = string | number | boolean | null | undefined;

/**
 * Streams a workspace's contacts, events or orders as CSV (the import formats, so an export can be
 * imported elsewhere) or as JSON lines (every stored field). Pages by key, `where key > $last order
 * by key limit n`, so memory stays flat and each page is an index range scan however far in it is.
 * Yields one chunk of text per page.
 */
export async function* exportRows(db: Queryable, workspaceId: string, kind: ExportKindName, format: ExportFormat, pageSize = 2000): AsyncGenerator<string> {
  const csv = format === 'csv';
  const line = (value: Record<string, unknown>) => JSON.stringify(value) + '\n';
  if (kind === 'contacts') {
    const standard = contactsKind.columns.map((c) => c.name);
    const extra = csv ? await extraKeys(db, `select distinct k from contacts c, jsonb_object_keys(c.traits) k where c.workspace_id = $1 and c.merged_into is null`, workspaceId, standard) : [];
    if (csv) yield csvLine([...standard, ...extra]);
    for await (const page of pages<ContactRow>(db, CONTACTS, workspaceId, 0, pageSize, (r) => r.id)) {
      yield page.map((r) => {
        if (!csv) return line(r);
        const consent = (channel: string) => r.consent.find((c) => c.channel === channel && c.topic === '*')?.granted;
        const t = (k: string) => cell(r.traits[k]);
        return csvLine([r.user_id, r.email, r.phone, t('first_name'), t('last_name'), t('birthday'), r.timezone, r.locale,
          consent('email'), consent('sms'), consent('push'), consent('print'), ...extra.map(t)]);
      }).join('');
    }
  } else if (kind === 'events') {
    if (csv) yield csvLine([...eventsKind.columns.map((c) => c.name)]);
    for await (const page of pages<EventRow>(db, EVENTS, workspaceId, 0, pageSize, (r) => r.id)) {
      yield page.map((r) => {
        if (!csv) return line(r);
        // group and alias calls have no place in the CSV format (docs/csv-formats.md).
        if (r.type === 'group' || r.type === 'alias') return '';
        return csvLine([r.user_id, r.anonymous_id, r.event, r.timestamp.toISOString(), JSON.stringify(r.properties), r.message_id, r.type]);
      }).join('');
    }
  } else {
    const standard = ordersKind.columns.map((c) => c.name);
    const extra = csv ? await extraKeys(db, `select distinct k from orders o, jsonb_object_keys(o.properties) k where o.workspace_id = $1`, workspaceId, standard) : [];
    if (csv) yield csvLine([...standard, ...extra]);
    for await (const page of pages<OrderRow>(db, ORDERS(csv), workspaceId, '', pageSize, (r) => r.order_id)) {
      yield page.map((r) => {
        if (!csv) return line(r);
        return csvLine([r.order_id, r.user_id, r.ordered_at.toISOString(), r.total, r.currency, r.email, r.status, r.coupon, r.discount, ...extra.map((k) => cell(r.properties[k]))]);
      }).join('');
    }
  }
}

/** A trait or property in one CSV cell: text as it is, anything else as JSON. */
function cell(value: unknown): Cell {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function extraKeys(db: Queryable, sql: string, workspaceId: string, standard: readonly string[]): Promise<string[]> {
  // Keys that are also standard columns (a `locale` trait) are already exported in that column.
  const { rows } = await db.query<{ k: string }>(`${sql} order by k limit 1000`, [workspaceId]);
  return rows.map((r) => r.k).filter((k) => !standard.includes(k) && k.trim() !== '' && !/[\p{Cc}]/u.test(k));
}

async function* pages<R>(db: Queryable, sql: string, workspaceId: string, start: number | string, size: number, key: (r: R) => number | string) {
  let last = start;
  for (;;) {
    const { rows } = await db.query<R>(sql, [workspaceId, last, size]);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < size) return;
    last = key(rows[rows.length - 1]!);
  }
}

type ContactRow = {
  id: number; user_id: string | null; email: string | null; email_check: unknown; phone: string | null; timezone: string | null; locale: string | null;
  traits: Record<string, unknown>; consent: { channel: string; topic: string; granted: boolean }[]; first_seen_at: Date; last_seen_at: Date; created_at: Date; updated_at: Date;
};
// Only contacts that can be imported again: a user id or an email. Anonymous visitors stay out.
const CONTACTS = `
  select c.id, c.user_id, c.email, c.email_check, c.phone, c.timezone, c.locale, c.traits,
         coalesce((select jsonb_agg(jsonb_build_object('channel', channel, 'topic', topic, 'granted', granted) order by channel, topic)
                     from contact_consents cc where cc.workspace_id = c.workspace_id and cc.contact_id = c.id), '[]') as consent,
         ${firstSeenSql('c')} as first_seen_at, ${lastSeenSql('c')} as last_seen_at, c.created_at, c.updated_at
    from contacts c
   where c.workspace_id = $1 and c.merged_into is null and (c.user_id is not null or c.email is not null) and c.id > $2
   order by c.id limit $3`;

type EventRow = {
  id: number; message_id: string; type: string; event: string | null; user_id: string | null; anonymous_id: string | null;
  properties: Record<string, unknown>; context: unknown; timestamp: Date; received_at: Date;
};
const EVENTS = `
  select e.id, e.message_id, e.type, e.name as event, c.user_id,
         case when c.user_id is null then (select min(a.alias_id) from contact_aliases a where a.workspace_id = e.workspace_id and a.contact_id = e.contact_id) end as anonymous_id,
         e.properties, e.context, e.occurred_at as timestamp, e.received_at
    from events e left join contacts c on c.workspace_id = e.workspace_id and c.id = e.contact_id
   where e.workspace_id = $1 and e.id > $2
   order by e.id limit $3`;

type OrderRow = {
  order_id: string; user_id: string | null; email: string | null; ordered_at: Date; total: number; currency: string | null; status: string;
  coupon: string | null; discount: number | null; properties: Record<string, unknown>; items?: unknown;
};
const ORDERS = (csv: boolean) => `
  select o.order_id, c.user_id, c.email, o.ordered_at, o.total, o.currency, o.status, o.coupon, o.discount, o.properties
         ${csv ? '' : `, coalesce((select jsonb_agg(jsonb_build_object('sku', i.sku, 'quantity', i.quantity, 'unit_price', i.unit_price) order by i.sku)
                         from order_items i where i.workspace_id = o.workspace_id and i.order_id = o.order_id), '[]') as items`}
    from orders o left join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id
   where o.workspace_id = $1 and o.order_id > $2
   order by o.order_id limit $3`;
