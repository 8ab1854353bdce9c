import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { openFixture, where, type ImportFixture } from './helpers.ts';

const PRODUCTS = `sku,name,category,price,currency,url,image_url,lifetime_days,related_skus,upgrade_skus,roast
BEAN-1,House blend,Coffee,12.50,eur,https://shop.example/p/bean-1,https://cdn.example/bean-1.jpg,30,MUG-1|FILTER-1,BEAN-2,medium
BEAN-2,Single origin,Coffee,18,EUR,,,30,MUG-1,,light
MUG-1,Mug,Kitchen,9.99,EUR,,,,,,
`;

for (const target of testDatabases()) {
  describe(`CSV import of each kind (${target.name})`, () => {
    let f: ImportFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(() => f.close());

    it('imports products, and importing the same file again changes nothing', async () => {
      const ws = await f.workspace();
      const job = await f.importCsv(ws, 'products', PRODUCTS);
      assert.deepEqual([job.status, job.rowsTotal, job.rowsAccepted, job.rowsRejected], ['completed', 3, 3, 0]);
      const p = (await f.tend.catalog.product(ws, 'BEAN-1'))!;
      assert.deepEqual(
        [p.name, p.category, p.price, p.currency, p.url, p.imageUrl, p.lifetimeDays, p.relatedSkus, p.upgradeSkus, p.properties],
        ['House blend', 'Coffee', 12.5, 'EUR', 'https://shop.example/p/bean-1', 'https://cdn.example/bean-1.jpg', 30, ['MUG-1', 'FILTER-1'], ['BEAN-2'], { roast: 'medium' }],
      );
      const before = await f.rows(`select sku, updated_at from products where workspace_id = $1 order by sku`, [ws]);
      const again = await f.importCsv(ws, 'products', PRODUCTS);
      assert.equal(again.rowsAccepted, 3);
      assert.deepEqual(await f.rows(`select sku, updated_at from products where workspace_id = $1 order by sku`, [ws]), before);
      // A changed row moves only its own product's updated_at.
      await f.importCsv(ws, 'products', PRODUCTS.replace('Mug,Kitchen,9.99', 'Mug,Kitchen,10.99'));
      const after_ = await f.rows<{ sku: string; updated_at: Date }>(`select sku, updated_at from products where workspace_id = $1 order by sku`, [ws]);
      assert.deepEqual(after_.slice(0, 2), before.slice(0, 2));
      assert.notDeepEqual(after_[2], before[2]);
    });

    it('imports contacts by user id or email, with traits and consent, idempotently', async () => {
      const ws = await f.workspace();
      // An email-only contact first: the customer list below claims it for user c2.
      await f.importCsv(ws, 'contacts', 'email,consent_email\nbea@example.com,yes\n');
      const csv = `user_id,email,phone,first_name,last_name,birthday,timezone,locale,consent_email,consent_sms,consent_push,consent_print,tier
c1, Ann@Gmail.com ,+48 600-100-200,Ann,Nowak,1990-04-01,Europe/Warsaw,pl-PL,yes,no,,1,gold
c2,bea@example.com,,Bea,,,,,,,,,
,cid@example.com,,Cid,,,,,0,,,,silver
`;
      const job = await f.importCsv(ws, 'contacts', csv);
      assert.deepEqual([job.status, job.rowsAccepted, job.rowsRejected], ['completed', 3, 0]);
      const c1 = (await f.tend.contacts.get(ws, (await f.tend.contacts.findByUserId(ws, 'c1'))!))!;
      assert.deepEqual(
        [c1.email, c1.phone, c1.timezone, c1.locale, c1.traits],
        ['ann@gmail.com', '+48600100200', 'Europe/Warsaw', 'pl-PL', { first_name: 'Ann', last_name: 'Nowak', birthday: '1990-04-01', tier: 'gold' }],
      );
      assert.deepEqual(c1.consent.map((c) => [c.channel, c.granted, c.source]), [['email', true, 'import'], ['print', true, 'import'], ['sms', false, 'import']]);
      const all = await f.rows<{ user_id: string | null; email: string }>(`select user_id, email from contacts where workspace_id = $1 order by email`, [ws]);
      assert.deepEqual(all.map((c) => [c.user_id, c.email]), [['c1', 'ann@gmail.com'], ['c2', 'bea@example.com'], [null, 'cid@example.com']]);

      const snapshot = () =>
        Promise.all([
          f.rows(`select id, user_id, email, traits, last_seen_at, updated_at from contacts where workspace_id = $1 order by id`, [ws]),
          f.rows(`select contact_id, channel, granted, updated_at from contact_consents where workspace_id = $1 order by contact_id, channel`, [ws]),
        ]);
      const before = await snapshot();
      assert.equal((await f.importCsv(ws, 'contacts', csv)).rowsAccepted, 3);
      assert.deepEqual(await snapshot(), before);
    });

    it('imports orders with YYYYMMDD, ISO dates and date-times, creating customers, idempotently', async () => {
      const ws = await f.workspace();
      const csv = `order_id,user_id,ordered_at,total,currency,email,status,coupon,discount,channel
o1,u1,19970101,29.33,usd,u1@example.com,,,,store
o2,u1,1997-01-18,29.73,USD,,,WELCOME,5,
o3,u2,1997-08-02T10:30:00+02:00,14.96,,,refunded,,,
o4,u2,1997-12-12 08:00,26.48,,,,,,
`;
      const job = await f.importCsv(ws, 'orders', csv);
      assert.deepEqual([job.rowsAccepted, job.rowsRejected], [4, 0]);
      const orders = await f.rows<{ order_id: string; user_id: string; ordered_at: Date; total: number; currency: string; status: string; coupon: string; discount: number; properties: unknown }>(
        `select o.order_id, c.user_id, o.ordered_at, o.total, o.currency, o.status, o.coupon, o.discount, o.properties
           from orders o join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id where o.workspace_id = $1 order by o.order_id`,
        [ws],
      );
      assert.deepEqual(
        orders.map((o) => [o.order_id, o.user_id, o.ordered_at.toISOString(), o.total, o.currency, o.status, o.coupon, o.discount]),
        [
          ['o1', 'u1', '1997-01-01T00:00:00.000Z', 29.33, 'USD', 'completed', null, null],
          ['o2', 'u1', '1997-01-18T00:00:00.000Z', 29.73, 'USD', 'completed', 'WELCOME', 5],
          ['o3', 'u2', '1997-08-02T08:30:00.000Z', 14.96, null, 'refunded', null, null],
          ['o4', 'u2', '1997-12-12T08:00:00.000Z', 26.48, null, 'completed', null, null],
        ],
      );
      assert.deepEqual(orders[0]!.properties, { channel: 'store' });
      const u1 = await f.rows<{ email: string; first_seen_at: Date; last_seen_at: Date }>(`select email, first_seen_at, last_seen_at from contacts where workspace_id = $1 and user_id = 'u1'`, [ws]);
      assert.deepEqual([u1[0]!.email, u1[0]!.first_seen_at.toISOString(), u1[0]!.last_seen_at.toISOString()], ['u1@example.com', '1997-01-01T00:00:00.000Z', '1997-01-18T00:00:00.000Z']);

      const snapshot = () => f.rows(`select * from orders where workspace_id = $1 order by order_id`, [ws]);
      const before = await snapshot();
      await f.importCsv(ws, 'orders', csv);
      assert.deepEqual(await snapshot(), before);
      // A blank status keeps what the order has become since (refunded through the tracking API).
      await f.tend.db.query(`update orders set status = 'refunded' where workspace_id = $1 and order_id = 'o4'`, [ws]);
      await f.importCsv(ws, 'orders', csv);
      assert.equal((await f.tend.catalog.order(ws, 'o4'))!.status, 'refunded');
    });

    it('imports order items of known orders and products, idempotently', async () => {
      const ws = await f.workspace();
      await f.importCsv(ws, 'products', PRODUCTS);
      await f.importCsv(ws, 'orders', 'order_id,user_id,ordered_at,total\no1,u1,2026-01-05,34.99\n');
      const csv = 'order_id,sku,quantity,unit_price\no1,BEAN-1,2,12.50\no1,MUG-1,1,9.99\n';
      const job = await f.importCsv(ws, 'order-items', csv);
      assert.deepEqual([job.rowsAccepted, job.rowsRejected], [2, 0]);
      const order = (await f.tend.catalog.order(ws, 'o1'))!;
      assert.deepEqual(order.items, [
        { sku: 'BEAN-1', name: 'House blend', quantity: 2, unitPrice: 12.5 },
        { sku: 'MUG-1', name: 'Mug', quantity: 1, unitPrice: 9.99 },
      ]);
      const before = await f.rows(`select *, xmin::text from order_items where workspace_id = $1 order by sku`, [ws]);
      await f.importCsv(ws, 'order-items', csv);
      assert.deepEqual(await f.rows(`select *, xmin::text from order_items where workspace_id = $1 order by sku`, [ws]), before, 'no row rewritten');
    });

    it('imports events through the ingestion path: identity, e-commerce effects and dedupe', async () => {
      const ws = await f.workspace();
      // The anonymous visit comes in a file of its own: within one ingestion batch, resolveIdentities
      // does not yet merge an anonymous profile created by that same batch.
      const visit = `user_id,anonymous_id,event,timestamp,properties,message_id,type
,anon-1,Product Viewed,2026-02-01T09:00:00Z,"{""sku"":""BEAN-1"",""price"":12.5}",,
`;
      assert.equal((await f.importCsv(ws, 'events', visit)).rowsAccepted, 1);
      const csv = `user_id,anonymous_id,event,timestamp,properties,message_id,type
u9,anon-1,,2026-02-01T09:05:00Z,"{""email"":""u9@example.com"",""plan"":""pro""}",m-identify,identify
u9,,Order Completed,2026-02-01T09:10:00Z,"{""order_id"":""e1"",""total"":25,""products"":[{""sku"":""BEAN-1"",""quantity"":2,""price"":12.5}]}",m-order,
u9,,Home,2026-02-02,,,page
`;
      const job = await f.importCsv(ws, 'events', csv);
      assert.deepEqual([job.rowsAccepted, job.rowsRejected], [3, 0], JSON.stringify(job.errors));
      const id = (await f.tend.contacts.findByUserId(ws, 'u9'))!;
      const contact = (await f.tend.contacts.get(ws, id))!;
      assert.equal(contact.email, 'u9@example.com');
      assert.deepEqual(contact.anonymousIds, ['anon-1']);
      const events = await f.tend.contacts.events(ws, id);
      assert.deepEqual(events.map((e) => [e.type, e.name]).reverse(), [['track', 'Product Viewed'], ['identify', null], ['track', 'Order Completed'], ['page', 'Home']]);
      assert.deepEqual((await f.tend.catalog.order(ws, 'e1'))!.items!.map((i) => [i.sku, i.quantity]), [['BEAN-1', 2]]);
      const count = async () => (await f.rows<{ n: number }>(`select count(*)::int as n from events where workspace_id = $1`, [ws]))[0]!.n;
      assert.equal(await count(), 4);
      const again = await f.importCsv(ws, 'events', visit + csv.slice(csv.indexOf('\n') + 1));
      assert.deepEqual([again.rowsAccepted, again.rowsRejected], [4, 0]);
      assert.equal(await count(), 4, 'a re-import stores nothing twice, with or without message_id');
    });

    it('keeps a trait column as text, and a later row for the same contact wins', async () => {
      const ws = await f.workspace();
      const job = await f.importCsv(ws, 'contacts', 'user_id,first_name,Favourite Colour\nz1,Zoe,blue\nz1,Zoey,\n');
      assert.deepEqual(where(job), []);
      const c = (await f.tend.contacts.get(ws, (await f.tend.contacts.findByUserId(ws, 'z1'))!))!;
      assert.deepEqual(c.traits, { first_name: 'Zoey', 'Favourite Colour': 'blue' });
    });
  });
}
