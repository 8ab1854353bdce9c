import type { Db } from '../../src/db/index.ts';

// When contact `g` was first seen: spread over the two years before `now`, the same for the
// contact and its events (a contact's events come after it was first seen).
const firstSeen = (g: string, now: string) => `(${now}::timestamptz - ((${g}::bigint * 7919) % 1000000) * interval '63.072 seconds')`;

export const NOW = '2026-11-01T12:00:00Z';

/**
 * Bulk-loads a synthetic shop straight into the tables (the benchmark measures segments, not
 * ingestion): contacts with traits, time zones and consent, events over two years, and orders with
 * a skewed number per contact. `setseed` makes the data the same on every run.
 */
export async function loadShop(db: Db, contacts: number, events: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`select setseed(0.42)`);
    await tx.query(`insert into workspaces (id, name) values ('bench', 'Benchmark shop')`);
    await tx.query(
      `insert into products (workspace_id, sku, name, category, price, created_at, updated_at)
       select 'bench', 'SKU-' || g, 'Product ' || g, (array['Coffee', 'Water', 'Kitchen', 'Pets', 'Books'])[1 + g % 5], 10 + g, $1::timestamptz, $1::timestamptz
         from generate_series(1, 100) g`,
      [NOW],
    );
    await tx.query(
      `insert into contacts (workspace_id, id, user_id, email, email_check, phone, traits, timezone, first_seen_at, last_seen_at, created_at, updated_at)
       select 'bench', g, 'u' || g, 'u' || g || '@example.com', '{"valid": true}', case when g % 3 = 0 then '+48600' || g end,
              jsonb_build_object('birthday', (date '1950-01-01' + floor(random() * 20000)::int)::text, 'plan', (array['basic', 'pro', 'vip'])[1 + g % 3]),
              (array['UTC', 'Europe/Warsaw', 'America/New_York', 'Asia/Tokyo'])[1 + g % 4], f, f, f, f
         from (select g, ${firstSeen('g', '$2')} as f from generate_series(1, $1::int) g) s`,
      [contacts, NOW],
    );
    await tx.query(`select setval(pg_get_serial_sequence('contacts', 'id'), $1)`, [contacts]);
    await tx.query(
      `insert into contact_consents (workspace_id, contact_id, channel, topic, granted, source, updated_at)
       select 'bench', g, 'email', '*', true, 'import', $2::timestamptz from generate_series(1, $1::int) g where g % 10 < 7
       union all
       select 'bench', g, 'sms', '*', true, 'import', $2::timestamptz from generate_series(1, $1::int) g where g % 6 = 0`,
      [contacts, NOW],
    );
    for (let from = 1; from <= events; from += 1_000_000) {
      const to = Math.min(events, from + 999_999);
      await tx.query(
        `insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
         select 'bench', c, 'e' || i,
                case when r < 50 then 'page' else 'track' end,
                case when r < 50 then 'Home' when r < 75 then 'Product Viewed' when r < 85 then 'Product Added' when r < 92 then 'Message Opened' when r < 97 then 'Message Sent' else 'Signed Up' end,
                case when r < 50 then '{"path": "/"}'::jsonb
                     when r < 85 then jsonb_build_object('sku', 'SKU-' || (1 + floor(random() * 100)::int))
                     when r < 97 then jsonb_build_object('channel', case when r % 4 = 0 then 'sms' else 'email' end)
                     else '{}'::jsonb end,
                t, t
           from (select i, c, r, f + random() * ($4::timestamptz - f) as t
                   from (select i, 1 + floor(random() * $3)::int as c, floor(random() * 100)::int as r from generate_series($1::int, $2::int) i) p,
                        lateral (select ${firstSeen('p.c', '$4')} as f) fs) s`,
        [from, to, contacts, NOW],
      );
    }
    const orders = Math.round(contacts * 0.6);
    await tx.query(
      `insert into orders (workspace_id, order_id, contact_id, status, total, currency, ordered_at, created_at, updated_at)
       select 'bench', 'o' || j, 1 + floor($1 * random() ^ 2)::int, case when random() < 0.03 then 'refunded' else 'completed' end,
              round((10 + random() * 190)::numeric, 2), 'USD', t, t, t
         from (select j, $3::timestamptz - random() * interval '730 days' as t from generate_series(1, $2::int) j) s`,
      [contacts, orders, NOW],
    );
    await tx.query(
      `insert into order_items (workspace_id, order_id, sku, quantity, unit_price)
       select 'bench', order_id, 'SKU-' || (1 + floor(random() * 100)::int), 1, total from orders where workspace_id = 'bench'`,
    );
  });
  await db.query(`analyze`);
}

type RuleOf = (ids: number[]) => unknown;
/** Twenty segments a shop running Tend's care models would have. */
export const careModelSegments: { name: string; rule: RuleOf }[] = [
  { name: 'Welcome: new this week, no order yet', rule: () => ({ type: 'and', rules: [{ type: 'trait', trait: '$first_seen_at', op: 'within_last', value: '7d' }, { type: 'orders', metric: 'count', op: 'eq', value: 0 }] }) },
  { name: 'Abandoned cart: added today, no order', rule: () => ({ type: 'and', rules: [{ type: 'event', event: 'Product Added', within: '1d' }, { type: 'not', rule: { type: 'orders', metric: 'last_order_at', op: 'within_last', value: '1d' } }] }) },
  { name: 'Prospects: never ordered', rule: () => ({ type: 'orders', metric: 'count', op: 'eq', value: 0 }) },
  { name: 'New customers: one order, in the last 30 days', rule: () => ({ type: 'and', rules: [{ type: 'orders', metric: 'count', op: 'eq', value: 1 }, { type: 'orders', metric: 'first_order_at', op: 'within_last', value: '30d' }] }) },
  { name: 'Repeat customers', rule: () => ({ type: 'orders', metric: 'count', op: 'gte', value: 2 }) },
  { name: 'Win-back: customers with no visit in 90 days', rule: () => ({ type: 'and', rules: [{ type: 'event', eventType: 'page', within: '90d', count: { op: 'eq', value: 0 } }, { type: 'orders', metric: 'count', op: 'gte', value: 1 }] }) },
  { name: 'Lapsed: last order over 180 days ago', rule: () => ({ type: 'orders', metric: 'last_order_at', op: 'more_than_ago', value: '180d' }) },
  { name: 'Birthday today', rule: () => ({ type: 'date', field: 'birthday', match: 'anniversary' }) },
  { name: 'First order + 3 months is today', rule: () => ({ type: 'date', field: '$first_order_at', match: 'on', offset: '+3mo' }) },
  { name: 'First order + 6 months is today', rule: () => ({ type: 'date', field: '$first_order_at', match: 'on', offset: '+6mo' }) },
  { name: 'First order + 1 year is today', rule: () => ({ type: 'date', field: '$first_order_at', match: 'on', offset: '+1y' }) },
  { name: 'Big spenders: over 500 in total', rule: () => ({ type: 'orders', metric: 'total', op: 'gt', value: 500 }) },
  { name: 'High average order value (100+)', rule: () => ({ type: 'orders', metric: 'average', op: 'gte', value: 100 }) },
  { name: 'Coffee buyers this year', rule: () => ({ type: 'bought', category: 'Coffee', within: '365d' }) },
  { name: 'Engaged: opened a message in 90 days', rule: () => ({ type: 'engagement', action: 'opened', within: '90d' }) },
  { name: 'Sleeping: emailable, no open in 90 days', rule: () => ({ type: 'and', rules: [{ type: 'reachable', channel: 'email' }, { type: 'engagement', action: 'opened', within: '90d', count: { op: 'eq', value: 0 } }] }) },
  { name: 'Reachable by SMS', rule: () => ({ type: 'reachable', channel: 'sms' }) },
  { name: 'Viewed SKU-7 this week', rule: () => ({ type: 'event', event: 'Product Viewed', where: [{ path: 'sku', op: 'eq', value: 'SKU-7' }], within: '7d' }) },
  { name: 'Holdout: 10 %', rule: () => ({ type: 'random', seed: 'holdout', from: 0, to: 10 }) },
  { name: 'Win-back, reachable by email', rule: (ids) => ({ type: 'and', rules: [{ type: 'segment', segmentId: ids[5] }, { type: 'reachable', channel: 'email' }] }) },
];

/**
 * The limit: what an expert would write by hand to compute the same twenty memberships — one scan
 * of the last 90 days of events, one aggregate of orders, one pass over contacts — returning the
 * member count of each (s0 … s19). $1 is the workspace, $2 the time.
 */
export function singlePassQuery(): { sql: string; params: unknown[] } {
  const sql = `
    with e as (
      select contact_id,
             bool_or(name = 'Product Added' and occurred_at >= $2::timestamptz - interval '1 day') as added_1d,
             bool_or(type = 'page') as page_90d,
             bool_or(name = 'Message Opened') as opened_90d,
             bool_or(name = 'Product Viewed' and properties->>'sku' = 'SKU-7' and occurred_at >= $2::timestamptz - interval '7 days') as viewed_7d
        from events where workspace_id = $1 and occurred_at <= $2::timestamptz and occurred_at >= $2::timestamptz - interval '90 days'
       group by contact_id),
    o as (
      select contact_id, count(*) as n, sum(total) as total, avg(total) as avg, min(ordered_at) as first, max(ordered_at) as last
        from orders where workspace_id = $1 and status = 'completed' and ordered_at <= $2::timestamptz group by contact_id),
    coffee as (
      select distinct o.contact_id from orders o join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
        join products p on p.workspace_id = i.workspace_id and p.sku = i.sku
       where o.workspace_id = $1 and o.status = 'completed' and o.ordered_at <= $2::timestamptz and o.ordered_at >= $2::timestamptz - interval '365 days' and p.category = 'Coffee'),
    k as (
      select contact_id, bool_or(channel = 'email') as email_ok, bool_or(channel = 'sms') as sms_ok
        from contact_consents where workspace_id = $1 and topic = '*' and granted group by contact_id),
    m as (
      select c.id, c.first_seen_at, coalesce(o.n, 0) as n, coalesce(o.total, 0) as total, o.avg, o.first, o.last,
             coalesce(e.added_1d, false) as added_1d, coalesce(e.page_90d, false) as page_90d, coalesce(e.opened_90d, false) as opened_90d,
             coalesce(e.viewed_7d, false) as viewed_7d, coffee.contact_id is not null as coffee,
             c.email is not null and coalesce((c.email_check->>'valid')::boolean, true) and coalesce(k.email_ok, false) as emailable,
             c.phone is not null and coalesce(k.sms_ok, false) as textable,
             tend_try_date(c.traits->>'birthday') as birthday,
             (o.first at time zone coalesce(c.timezone, 'UTC'))::date as first_day,
             ($2::timestamptz at time zone coalesce(c.timezone, 'UTC'))::date as today,
             abs(hashtextextended($1 || ':' || 'holdout' || ':' || c.id::text, 0)) % 100 as bucket
        from contacts c left join o on o.contact_id = c.id left join e on e.contact_id = c.id
        left join coffee on coffee.contact_id = c.id left join k on k.contact_id = c.id
       where c.workspace_id = $1 and c.merged_into is null)
    select count(*) filter (where first_seen_at >= $2::timestamptz - interval '7 days' and n = 0)::int as s0,
           count(*) filter (where added_1d and not coalesce(last >= $2::timestamptz - interval '1 day', false))::int as s1,
           count(*) filter (where n = 0)::int as s2,
           count(*) filter (where n = 1 and first >= $2::timestamptz - interval '30 days')::int as s3,
           count(*) filter (where n >= 2)::int as s4,
           count(*) filter (where not page_90d and n >= 1)::int as s5,
           count(*) filter (where last < $2::timestamptz - interval '180 days')::int as s6,
           count(*) filter (where birthday < today and (to_char(birthday, 'MM-DD') = to_char(today, 'MM-DD')
                              or (to_char(birthday, 'MM-DD') = '02-29' and to_char(today, 'MM-DD') = '02-28'
                                  and extract(day from make_date(extract(year from today)::int, 3, 1) - 1) <> 29)))::int as s7,
           count(*) filter (where (first_day + interval '3 months')::date = today)::int as s8,
           count(*) filter (where (first_day + interval '6 months')::date = today)::int as s9,
           count(*) filter (where (first_day + interval '1 year')::date = today)::int as s10,
           count(*) filter (where total > 500)::int as s11,
           count(*) filter (where avg >= 100)::int as s12,
           count(*) filter (where coffee)::int as s13,
           count(*) filter (where opened_90d)::int as s14,
           count(*) filter (where emailable and not opened_90d)::int as s15,
           count(*) filter (where textable)::int as s16,
           count(*) filter (where viewed_7d)::int as s17,
           count(*) filter (where bucket < 10)::int as s18,
           count(*) filter (where not page_90d and n >= 1 and emailable)::int as s19
      from m`;
  return { sql, params: [] };
}
