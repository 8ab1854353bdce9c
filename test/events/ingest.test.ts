import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { validateMessage, type AcceptedMessage } from '../../src/events/validate.ts';
import { writeBatch } from '../../src/events/store.ts';
import { identityLockIds, resolveIdentities } from '../../src/contacts/identity.ts';
import { createIngestService, type IngestedBatch } from '../../src/events/index.ts';
import type { Db } from '../../src/db/index.ts';
import { firstSeenSql, lastSeenSql } from '../../src/contacts/seen.ts';
import { recordEvents } from '../../src/events/record.ts';
import { exportRows } from '../../src/imports/export.ts';
import type { SegmentRule } from '../../src/segments/schema.ts';

/** A small seeded generator (mulberry32). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

const T0 = Date.parse('2026-10-01T00:00:00Z');

/** Batches of a small shop's traffic: known and anonymous visitors, identifies that link them, carts, orders, redeliveries. */
function randomBatches(seed: number, count: number, collide = false): Record<string, unknown>[][] {
  const r = rng(seed);
  const sent: Record<string, unknown>[] = [];
  let n = 0;
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + r.int(10) }, () => {
      if (sent.length > 0 && r.next() < 0.05) return r.pick(sent);
      n++;
      // With `collide`, some anonymous ids are also user ids of others.
      const anon = () => (collide && r.next() < 0.3 ? `u${r.int(6)}` : `a${r.int(8)}`);
      const who = r.next() < 0.4 ? { userId: `u${r.int(6)}` } : r.next() < 0.6 ? { anonymousId: anon() } : { userId: `u${r.int(6)}`, anonymousId: anon() };
      const base = { messageId: `m${n}`, timestamp: new Date(T0 + n * 90_000 - (r.next() < 0.1 ? 3_600_000 : 0)).toISOString(), ...who };
      const cart = r.next() < 0.6 ? { cart_id: `cart${r.int(4)}` } : {};
      const sku = `S${r.int(5)}`;
      const msg = r.pick([
        { ...base, type: 'identify', traits: { plan: r.pick(['a', 'b', null]), email: `e${r.int(4)}@example.com`, ...(r.next() < 0.3 ? { consent: { email: r.next() < 0.5 } } : {}) } },
        { ...base, type: 'page', name: 'Home' },
        { ...base, type: 'track', event: 'Product Viewed', properties: { sku, name: `Product ${sku}`, price: 5 } },
        { ...base, type: 'track', event: 'Product Added', properties: { ...cart, sku, quantity: 1 + r.int(2) } },
        { ...base, type: 'track', event: 'Product Removed', properties: { ...cart, sku } },
        { ...base, type: 'track', event: 'Order Completed', properties: { ...cart, order_id: `o${r.int(4)}`, total: 20, products: [{ sku, quantity: 1, price: 20 }] } },
        { ...base, type: 'track', event: 'Signed Up' },
      ]);
      sent.push(msg);
      return msg;
    }),
  );
}

/** The workspace's profiles, events and carts, with contacts named by their ids as senders know them (database ids differ between workspaces). */
async function snapshot(tend: Tend, ws: string) {
  const contacts = (await tend.db.query<{ id: number; user_id: string | null; merged_into: number | null; email: string | null; traits: unknown; first_seen_at: Date; last_seen_at: Date; aliases: string[] | null }>(
    `select c.id, c.user_id, c.merged_into, c.email, c.traits, ${firstSeenSql('c')} as first_seen_at, ${lastSeenSql('c')} as last_seen_at,
            (select array_agg(alias_id order by alias_id) from contact_aliases a where a.workspace_id = c.workspace_id and a.contact_id = c.id) as aliases
       from contacts c where c.workspace_id = $1`,
    [ws],
  )).rows;
  const label = new Map(contacts.map((c) => [c.id, c.merged_into === null ? `${c.user_id ?? ''}|${(c.aliases ?? []).join(',')}` : 'merged']));
  const live = contacts.filter((c) => c.merged_into === null).map((c) => ({ ...c, id: label.get(c.id), merged_into: undefined })).sort((a, b) => (a.id! < b.id! ? -1 : 1));
  const events = (await tend.db.query<{ message_id: string; contact_id: number }>(`select message_id, contact_id from events where workspace_id = $1 order by message_id`, [ws])).rows
    .map((e) => [e.message_id, label.get(e.contact_id)]);
  const carts = (await tend.db.query<{ cart_id: string; contact_id: number; status: string; items: unknown }>(
    `select k.cart_id, k.contact_id, k.status, (select json_agg(json_build_object('sku', sku, 'q', quantity) order by sku) from cart_items i where i.workspace_id = k.workspace_id and i.cart_id = k.cart_id) as items
       from carts k where k.workspace_id = $1 order by k.cart_id`,
    [ws],
  )).rows.map((c) => ({ ...c, cart_id: c.cart_id.replace(/^c\d+-/, 'c-'), contact_id: label.get(c.contact_id) }))
    // Sorted by what is the same in both workspaces (the stored ids hold database contact ids).
    .sort((a, b) => (`${a.cart_id} ${a.contact_id}` < `${b.cart_id} ${b.contact_id}` ? -1 : 1));
  return { live, events, carts, merged: contacts.length - live.length };
}

for (const target of testDatabases()) {
  describe(`ingestion (${target.name})`, () => {
    let tend: Tend;
    const clock = new VirtualClock('2026-10-02T00:00:00Z');
    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    });
    after(() => tend.close());
    const workspace = async (name: string) => (await tend.workspaces.create({ name })).id;
    const count = async (sql: string, ws: string) => Number((await tend.db.query<{ n: number }>(sql, [ws])).rows[0]!.n);

    it('creates one contact when concurrent batches bring the same new user or visitor', async () => {
      const ws = await workspace('concurrent');
      const batch = (i: number) => [
        { type: 'track', userId: 'new-user', event: 'Clicked', messageId: `u-${i}` },
        { type: 'page', anonymousId: 'new-visitor', name: 'Home', messageId: `a-${i}` },
      ];
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => tend.ingest.ingest(ws, batch(i))));
      for (const r of results) assert.deepEqual(r, { accepted: 2, duplicates: 0, rejected: [] });
      assert.equal(await count(`select count(*) as n from contacts where workspace_id = $1`, ws), 2);
      assert.equal(await count(`select count(distinct contact_id) as n from events where workspace_id = $1`, ws), 2);
    });

    it("reads first and last seen from the contact's own events, in the API, exports and segments alike", async () => {
      const ws = await workspace('seen');
      const at = (iso: string) => ({ timestamp: iso });
      await tend.ingest.ingest(ws, [{ type: 'page', userId: 'sam', name: 'Home', messageId: 's1', ...at('2026-09-20T10:00:00Z') }]);
      const id = (await tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = 'sam'`, [ws])).rows[0]!.id;
      const seen = async () => {
        const c = (await tend.contacts.get(ws, id))!;
        return [c.firstSeenAt.toISOString(), c.lastSeenAt.toISOString()];
      };
      assert.deepEqual(await seen(), ['2026-09-20T10:00:00.000Z', '2026-09-20T10:00:00.000Z']);
      // Later and earlier activity (a late-arriving event from a mobile app's queue) move them out.
      await tend.ingest.ingest(ws, [{ type: 'track', userId: 'sam', event: 'Wishlist Opened', messageId: 's2', ...at('2026-09-30T08:00:00Z') }]);
      await tend.ingest.ingest(ws, [{ type: 'screen', userId: 'sam', name: 'Cart', messageId: 's3', ...at('2026-09-18T07:00:00Z') }]);
      assert.deepEqual(await seen(), ['2026-09-18T07:00:00.000Z', '2026-09-30T08:00:00.000Z']);
      // What Tend records about the contact (a message sent, a segment entered) is not the contact being seen.
      await recordEvents(tend.db, ws, [{ contactId: id, messageId: 'tend:m1:Email Sent', name: 'Email Sent', properties: {}, occurredAt: new Date('2026-10-01T09:00:00Z') }], clock.now());
      await tend.db.query(`insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
                           values ($1, $2::bigint, 'segment:1:' || $2::text || ':in:0', 'track', 'Segment Entered', '{}', '2026-10-01T10:00:00Z', now())`, [ws, id]);
      assert.deepEqual(await seen(), ['2026-09-18T07:00:00.000Z', '2026-09-30T08:00:00.000Z']);
      let exported = '';
      for await (const chunk of exportRows(tend.db, ws, 'contacts', 'jsonl')) exported += chunk;
      assert.match(exported, /"last_seen_at":"2026-09-30T08:00:00.000Z"/);
      const preview = async (rule: SegmentRule) => ((await tend.segments.preview(ws, rule)) as { ok: true; value: { count: number } }).value.count;
      assert.equal(await preview({ type: 'trait', trait: '$last_seen_at', op: 'after', value: '2026-09-29T00:00:00Z' }), 1);
      assert.equal(await preview({ type: 'trait', trait: '$last_seen_at', op: 'after', value: '2026-09-30T09:00:00Z' }), 0);
      assert.equal(await preview({ type: 'trait', trait: '$first_seen_at', op: 'before', value: '2026-09-19T00:00:00Z' }), 1);
      assert.equal(await preview({ type: 'trait', trait: '$first_seen_at', op: 'after', value: '2026-09-18T07:00:00Z' }), 0);
      assert.equal(await preview({ type: 'trait', trait: '$first_seen_at', op: 'after', value: '2026-09-18T06:59:59Z' }), 1);
      // The clock says 2026-10-02T00:00Z: last seen 1 day 16 hours ago, first seen 13 days 17 hours ago.
      const counts = await Promise.all([
        { trait: '$last_seen_at', op: 'within_last', value: '2d' }, { trait: '$last_seen_at', op: 'within_last', value: '1d' },
        { trait: '$last_seen_at', op: 'more_than_ago', value: '1d' }, { trait: '$last_seen_at', op: 'more_than_ago', value: '2d' },
        { trait: '$first_seen_at', op: 'within_last', value: '14d' }, { trait: '$first_seen_at', op: 'within_last', value: '13d' },
        { trait: '$first_seen_at', op: 'more_than_ago', value: '13d' }, { trait: '$first_seen_at', op: 'more_than_ago', value: '14d' },
      ].map((r) => preview({ type: 'trait', ...r } as SegmentRule)));
      assert.deepEqual(counts, [1, 0, 1, 0, 1, 0, 1, 0]);
    });

    it('ends with one profile when a visitor and their identify arrive in concurrent batches', async () => {
      const ws = await workspace('visitor');
      await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => tend.ingest.ingest(ws, [{ type: 'page', anonymousId: 'v1', name: 'Home', messageId: `p${i}` }])),
        tend.ingest.ingest(ws, [{ type: 'identify', anonymousId: 'v1', userId: 'ann', traits: { plan: 'pro' }, messageId: 'id' }]),
        ...Array.from({ length: 6 }, (_, i) => tend.ingest.ingest(ws, [{ type: 'track', anonymousId: 'v1', event: 'Clicked', messageId: `c${i}` }])),
      ]);
      assert.equal(await count(`select count(*) as n from contacts where workspace_id = $1 and merged_into is null`, ws), 1);
      const c = await tend.db.query<{ id: number; user_id: string }>(`select id, user_id from contacts where workspace_id = $1 and merged_into is null`, [ws]);
      assert.equal(c.rows[0]!.user_id, 'ann');
      assert.equal(await count(`select count(*) as n from events where workspace_id = $1 and contact_id = ${c.rows[0]!.id}`, ws), 13);
    });

    it('runs the ingest function with generic plans (a restated function must keep the setting)', async () => {
      const { rows } = await tend.db.query<{ config: string[] | null }>(`select proconfig as config from pg_proc where oid = to_regproc('tend_ingest_batch')`);
      assert.deepEqual(rows[0]?.config, ['plan_cache_mode=force_generic_plan']);
    });

    it("keeps a customer's events on their profile when a visitor's anonymous id equals their user id", async () => {
      const ws = await workspace('colliding ids');
      const contactOf = async (messageId: string) =>
        Number((await tend.db.query<{ c: number }>(`select contact_id as c from events where workspace_id = $1 and message_id = $2`, [ws, messageId])).rows[0]!.c);
      await tend.ingest.ingest(ws, [{ type: 'identify', userId: '42', traits: { plan: 'pro' }, messageId: 'customer' }]);
      // A visitor whose browser id happens to be "42" (or who sends it on purpose) is someone else.
      await tend.ingest.ingest(ws, [{ type: 'page', anonymousId: '42', name: 'Home', messageId: 'visitor' }]);
      // And someone who signs in on a device whose id is "42" links that id to their own profile.
      await tend.ingest.ingest(ws, [{ type: 'identify', userId: 'ann', anonymousId: '42', messageId: 'ann' }]);
      // Customer 42 keeps their profile: one batch through the ingest function alone, one that
      // resolves its identities first (an alias call sends a batch that way).
      await tend.ingest.ingest(ws, [{ type: 'track', userId: '42', event: 'Clicked', messageId: 'quick' }]);
      await tend.ingest.ingest(ws, [
        { type: 'alias', userId: 'bob', previousId: 'bob-old', messageId: 'alias' },
        { type: 'track', userId: '42', event: 'Clicked', messageId: 'general' },
      ]);
      const customer = await contactOf('customer');
      assert.equal(await contactOf('quick'), customer);
      assert.equal(await contactOf('general'), customer);
      assert.notEqual(await contactOf('visitor'), customer);
      assert.equal(await contactOf('visitor'), await contactOf('ann'), "the visitor's profile was merged into ann's");
      const profile = await tend.db.query<{ user_id: string; traits: unknown }>(`select user_id, traits from contacts where workspace_id = $1 and id = $2`, [ws, customer]);
      assert.deepEqual(profile.rows[0], { user_id: '42', traits: { plan: 'pro' } });
    });

    it('does not deadlock when concurrent batches name the same people in different orders', async () => {
      const ws = await workspace('order');
      const people = Array.from({ length: 8 }, (_, i) => `p${i}`);
      await Promise.all(
        Array.from({ length: 16 }, (_, b) => {
          const order = b % 2 === 0 ? people : [...people].reverse();
          return tend.ingest.ingest(ws, order.map((userId, i) => ({ type: 'track', userId, event: 'Clicked', messageId: `${b}-${i}`, properties: { cart_id: `cart-${userId}`, sku: 'S1' } })));
        }),
      );
      assert.equal(await count(`select count(*) as n from contacts where workspace_id = $1`, ws), 8);
      assert.equal(await count(`select count(*) as n from events where workspace_id = $1`, ws), 128);
    });

    it('keeps carts, orders and the catalog as the events say, and a redelivery changes nothing', async () => {
      const ws = await workspace('carts');
      const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
      const batch = [
        { type: 'track', userId: 'c1', event: 'Product Added', messageId: 'k1', timestamp: at(1), properties: { sku: 'A', name: 'Kettle', price: 30, quantity: 2 } },
        { type: 'track', userId: 'c1', event: 'Product Added', messageId: 'k2', timestamp: at(2), properties: { sku: 'B', price: 5 } },
        { type: 'track', userId: 'c1', event: 'Product Removed', messageId: 'k3', timestamp: at(3), properties: { sku: 'A' } },
        { type: 'track', userId: 'c1', event: 'Coupon Applied', messageId: 'k4', timestamp: at(4), properties: { coupon_name: 'TEN' } },
        { type: 'track', userId: 'c1', event: 'Checkout Started', messageId: 'k5', timestamp: at(5), properties: {} },
      ];
      assert.equal((await tend.ingest.ingest(ws, batch)).duplicates, 0);
      const again = await tend.ingest.ingest(ws, batch);
      assert.deepEqual([again.accepted, again.duplicates], [5, 5]);
      const carts = async () => (await tend.db.query<{ cart_id: string; status: string; coupon: string | null; order_id: string | null; items: { sku: string; quantity: number }[] | null }>(
        `select k.cart_id, k.status, k.coupon, k.order_id,
                (select json_agg(json_build_object('sku', sku, 'quantity', quantity) order by sku) from cart_items i where i.workspace_id = k.workspace_id and i.cart_id = k.cart_id) as items
           from carts k where k.workspace_id = $1 order by k.created_at, k.cart_id`,
        [ws],
      )).rows;
      let c = await carts();
      assert.equal(c.length, 1, 'events without a cart_id share the open cart');
      assert.deepEqual([c[0]!.status, c[0]!.coupon, c[0]!.items], ['checkout', 'TEN', [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }]]);
      // The order completes the open cart; the next add opens a new one. Cart Viewed replaces the lines.
      await tend.ingest.ingest(ws, [
        { type: 'track', userId: 'c1', event: 'Order Completed', messageId: 'k6', timestamp: at(6), properties: { order_id: 'o1', products: [{ sku: 'A', price: 30 }, { sku: 'B', price: 5 }] } },
        { type: 'track', userId: 'c1', event: 'Product Added', messageId: 'k7', timestamp: at(7), properties: { sku: 'C', quantity: 3 } },
        { type: 'track', userId: 'c1', event: 'Cart Viewed', messageId: 'k8', timestamp: at(8), properties: { products: [{ sku: 'C', quantity: 1 }, { sku: 'D', quantity: 2, price: 4 }] } },
      ]);
      c = await carts();
      assert.deepEqual(c.map((x) => [x.status, x.order_id]), [['completed', 'o1'], ['open', null]]);
      assert.deepEqual(c[1]!.items, [{ sku: 'C', quantity: 1 }, { sku: 'D', quantity: 2 }]);
      const order = (await tend.db.query<{ total: number; status: string }>(`select total, status from orders where workspace_id = $1 and order_id = 'o1'`, [ws])).rows[0]!;
      assert.deepEqual(order, { total: 35, status: 'completed' });
      const products = (await tend.db.query<{ sku: string; name: string }>(`select sku, name from products where workspace_id = $1 order by sku`, [ws])).rows;
      assert.deepEqual(products.map((p) => [p.sku, p.name]), [['A', 'Kettle'], ['B', 'B'], ['C', 'C'], ['D', 'D']]);
    });

    it('stores each messageId once: a batch mixing stored and new ones, and concurrent batches repeating each other', async () => {
      const ws = await workspace('redelivery');
      const msg = (id: string, userId = 'r1') => ({ type: 'track', userId, event: 'Clicked', messageId: id, properties: { n: id } });
      assert.equal((await tend.ingest.ingest(ws, [msg('r-1'), msg('r-2')])).duplicates, 0);
      const mixed = await tend.ingest.ingest(ws, [msg('r-3'), msg('r-1'), msg('r-4', 'r2'), msg('r-2')]);
      assert.deepEqual([mixed.accepted, mixed.duplicates], [4, 2]);
      const ids = async () => (await tend.db.query<{ message_id: string; user_id: string }>(
        `select e.message_id, c.user_id from events e join contacts c on c.workspace_id = e.workspace_id and c.id = e.contact_id
          where e.workspace_id = $1 order by e.message_id`,
        [ws],
      )).rows.map((r) => `${r.message_id}:${r.user_id}`);
      assert.deepEqual(await ids(), ['r-1:r1', 'r-2:r1', 'r-3:r1', 'r-4:r2']);
      const same = Array.from({ length: 6 }, (_, i) => `c-${i}`);
      const results = await Promise.all(Array.from({ length: 8 }, (_, b) => tend.ingest.ingest(ws, same.slice(b % 3).map((id) => msg(id, `r${b % 2}`)))));
      assert.equal(results.reduce((n, r) => n + r.accepted - r.duplicates, 0), same.length, 'every new messageId stored by exactly one batch');
      assert.equal((await ids()).length, 4 + same.length);
    });

    it('writes requests that wait for the database together, each with its own result, and a failing one alone', async () => {
      const ws = await workspace('grouped');
      // The same database, counting the calls of the ingest function and failing those that carry "boom".
      let calls = 0;
      const query: Db['query'] = async (sql, params) => {
        if (sql.includes('tend_ingest_batch(')) {
          calls++;
          if ((params![6] as { values: unknown[] }).values.includes('boom')) throw new Error('the database refused the batch');
        }
        return tend.db.query(sql, params);
      };
      const db: Db = { ...tend.db, query };
      const ingest = createIngestService({ db, clock, workspaces: tend.workspaces }, { callsPerWorkspace: 1 });
      const seen: IngestedBatch[] = [];
      ingest.onIngested((b) => void seen.push(b));
      const request = (i: number) => [
        { type: 'track', userId: `g${i}`, event: 'Clicked', messageId: `g-${i}` },
        { type: 'track', userId: 'shared', event: 'Clicked', messageId: i % 2 ? 'g-odd' : `g-even-${i}` },
      ];
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => ingest.ingest(ws, request(i))));
      assert.ok(calls < 6, `six requests in ${calls} calls`);
      // "g-odd" is in three requests: stored by the first of them to arrive, a duplicate for the other two.
      assert.deepEqual(results.map((r, i) => (i % 2 ? 0 : r.duplicates)), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(results.filter((_, i) => i % 2).map((r) => r.duplicates).sort(), [0, 1, 1]);
      assert.equal(await count(`select count(*) as n from events where workspace_id = $1`, ws), 6 + 3 + 1);
      // Each request's listeners hear of its own contacts.
      const heard: string[] = [];
      for (const b of seen) {
        const own = await tend.db.query<{ user_id: string }>(`select user_id from contacts where workspace_id = $1 and id = any($2::bigint[]) order by user_id`, [ws, b.contactIds]);
        heard.push(own.rows.map((r) => r.user_id).join(' '));
      }
      assert.deepEqual(heard.sort(), Array.from({ length: 6 }, (_, i) => `g${i} shared`));

      calls = 0;
      const failing = await Promise.allSettled([
        ingest.ingest(ws, [{ type: 'track', userId: 'f1', event: 'Clicked', messageId: 'f-1' }]),
        ingest.ingest(ws, [{ type: 'track', userId: 'f2', event: 'Clicked', messageId: 'f-2' }]),
        ingest.ingest(ws, [{ type: 'track', userId: 'f3', event: 'Clicked', messageId: 'boom' }]),
        ingest.ingest(ws, [{ type: 'track', userId: 'f4', event: 'Clicked', messageId: 'f-4' }]),
      ]);
      assert.deepEqual(failing.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.ok(calls > 4, `the failing group was retried request by request (${calls} calls)`);
      const stored = await tend.db.query<{ message_id: string }>(`select message_id from events where workspace_id = $1 and message_id like 'f-%' order by 1`, [ws]);
      assert.deepEqual(stored.rows.map((r) => r.message_id), ['f-1', 'f-2', 'f-4']);
    });

    it('creates again a profile it knew but that was erased since, locking it exclusively to do so', async () => {
      const ws = await workspace('erased');
      // The ingest function is called on its own (no transaction) unless a batch has to go the way of merges.
      let transactions = 0;
      const db: Db = { ...tend.db, transaction: (fn, options) => (transactions++, tend.db.transaction(fn, options)) };
      const ingest = createIngestService({ db, clock, workspaces: tend.workspaces });
      await ingest.ingest(ws, [{ type: 'track', userId: 'gone', event: 'Clicked', messageId: 'e-1' }]);
      await ingest.ingest(ws, [{ type: 'track', userId: 'gone', event: 'Clicked', messageId: 'e-2' }]);
      assert.equal(transactions, 0, 'a new profile and a known one need no transaction');
      const first = (await tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = 'gone'`, [ws])).rows[0]!.id;
      assert.ok(await tend.contacts.erase(ws, first));
      // The service remembers "gone" as known and asks for a shared lock; the function finds it must
      // create the profile, which it does not do under a shared lock: the batch goes the way of merges.
      const again = await ingest.ingest(ws, [{ type: 'track', userId: 'gone', event: 'Clicked', messageId: 'e-3' }]);
      assert.deepEqual([again.accepted, again.duplicates, transactions], [1, 0, 1]);
      const now = await tend.db.query<{ id: number; events: number }>(
        `select c.id, (select count(*) from events e where e.workspace_id = c.workspace_id and e.contact_id = c.id)::int as events
           from contacts c where c.workspace_id = $1 and c.user_id = 'gone'`,
        [ws],
      );
      assert.equal(now.rows.length, 1);
      assert.notEqual(now.rows[0]!.id, first);
      assert.equal(now.rows[0]!.events, 1);
    });

    it('tells listeners the batch’s contacts, including profiles merged away, and only new events', async () => {
      const ws = await workspace('listeners');
      const seen: IngestedBatch[] = [];
      tend.ingest.onIngested((b) => {
        if (b.workspaceId === ws) seen.push(b);
      });
      await tend.ingest.ingest(ws, [{ type: 'page', anonymousId: 'l1', name: 'Home', messageId: 'l-1' }]);
      const anon = seen[0]!.contactIds[0]!;
      await tend.ingest.ingest(ws, [
        { type: 'identify', anonymousId: 'l1', userId: 'lou', messageId: 'l-2' },
        { type: 'page', anonymousId: 'l1', name: 'Home', messageId: 'l-1' },
      ]);
      const known = seen[1]!.events[0]!.contactId;
      assert.notEqual(known, anon);
      assert.deepEqual([...seen[1]!.contactIds].sort(), [anon, known].sort());
      assert.deepEqual(seen[1]!.events.map((e) => [e.type, e.contactId]), [['identify', known]]);
    });

    it('adds to carts in a batch as it does one event at a time', async () => {
      // One message per batch takes every cart event by itself; a whole batch takes "Product Added"
      // with a cart_id together where it can, and the other cart events one by one. Prices stated
      // or not, times out of order, carts of one person each or shared between people, removals,
      // checkouts, coupons and orders in between, events about a person's open cart (no cart_id):
      // the carts must come out the same. A person's open cart is the one of theirs not completed
      // that was touched at the latest time, within a batch as between batches.
      const cartsOf = async (ws: string) => (await tend.db.query<Record<string, unknown>>(
        `select regexp_replace(k.cart_id, '^c[0-9]+-', 'c-') as cart_id, c.user_id, k.status, k.coupon, k.order_id, k.created_at, k.updated_at,
                (select json_agg(json_build_object('sku', sku, 'q', quantity, 'price', unit_price, 'at', added_at) order by sku)
                   from cart_items i where i.workspace_id = k.workspace_id and i.cart_id = k.cart_id) as items
           from carts k join contacts c on c.workspace_id = k.workspace_id and c.id = k.contact_id
          where k.workspace_id = $1 order by 1, 2`,
        [ws],
      )).rows;
      for (const [seed, shared, open] of [[5, false, false], [6, false, false], [7, false, false], [8, true, false], [9, true, false], [10, true, false],
        [11, false, true], [12, false, true], [13, false, true], [14, true, true]] as const) {
        const r = rng(seed);
        const [whole, single] = [await workspace(`carts-whole-${seed}`), await workspace(`carts-single-${seed}`)];
        let n = 0;
        for (let b = 0; b < 6; b++) {
          const batch = Array.from({ length: 5 + r.int(25) }, () => {
            n++;
            const user = `u${r.int(4)}`;
            const base = { type: 'track', userId: user, messageId: `cm${seed}-${n}`, timestamp: new Date(T0 + n * 60_000 - r.int(3) * 3_600_000).toISOString() };
            const named = { cart_id: shared ? `cart${r.int(5)}` : `cart-${user}-${r.int(3)}` };
            const cart = open && r.next() < 0.4 ? {} : named;
            const sku = `S${r.int(3)}`;
            const price = r.next() < 0.5 ? { price: 1 + r.int(9) } : {};
            return r.next() < 0.7
              ? { ...base, event: 'Product Added', properties: { ...cart, sku, quantity: 1 + r.int(3), ...price } }
              : r.pick([
                { ...base, event: 'Product Removed', properties: { ...cart, sku } },
                { ...base, event: 'Checkout Started', properties: { ...cart } },
                { ...base, event: 'Coupon Applied', properties: { ...cart, coupon_name: `C${r.int(2)}` } },
                { ...base, event: 'Order Completed', properties: { ...cart, order_id: `o${seed}-${n}`, total: 10 } },
                { ...base, event: 'Product Viewed', properties: { sku } },
              ]);
          });
          assert.equal((await tend.ingest.ingest(whole, batch)).rejected.length, 0);
          for (const message of batch) await tend.ingest.ingest(single, [message]);
        }
        assert.deepEqual(await cartsOf(whole), await cartsOf(single), `seed ${seed}`);
      }
    });

    it('resolves identities as resolveIdentities does, batch after batch', async () => {
      // The ingest function resolves identities itself and leaves merges to resolveIdentities; here
      // every batch of one workspace goes through resolveIdentities first, and the two must agree.
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const [fast, general] = [await workspace(`fast-${seed}`), await workspace(`general-${seed}`)];
        const settings = (await tend.workspaces.get(general))!.settings;
        for (const batch of randomBatches(seed, 25, seed > 4)) {
          clock.advance(1000);
          await tend.ingest.ingest(fast, batch);
          const now = clock.now();
          const seenIds = new Set<string>();
          const messages = batch.flatMap((raw, i) => {
            const r = validateMessage(raw, i, now, settings);
            assert.ok(r.ok);
            if (seenIds.has(r.message.messageId)) return [];
            seenIds.add(r.message.messageId);
            return [r.message];
          }) as AcceptedMessage[];
          const refs = messages.map((m) => ({ userId: m.userId, anonymousId: m.anonymousId, at: m.occurredAt }));
          await tend.db.transaction(async (tx) => {
            await resolveIdentities(tx, general, refs, now);
            assert.notEqual(await writeBatch(tx, general, messages, identityLockIds(refs), now, new Set()), 'merge_needed');
          });
        }
        assert.deepEqual(await snapshot(tend, fast), await snapshot(tend, general), `seed ${seed}`);
      }
    });
  });
}
