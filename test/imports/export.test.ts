import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { exportRows, type ExportFormat, type ExportKindName } from '../../src/imports/index.ts';
import { recordEvents } from '../../src/events/record.ts';
import { openFixture, type ImportFixture } from './helpers.ts';

const CONTACTS = `user_id,email,phone,first_name,last_name,birthday,timezone,locale,consent_email,consent_sms,consent_push,consent_print,note,tier
r1,ann@example.com,+48600100200,Ann,Nowak,1990-04-01,Europe/Warsaw,pl-PL,yes,no,,yes,"likes ""dark"" roast, no milk",gold
r2,,,Bob,,,,,,,,,"two
lines",
r3,cid@example.com,,,,,,,false,,,,, silver
,dee@example.com,,Dee,,,,,true,,,,,
`;

for (const target of testDatabases()) {
  describe(`CSV export round trips (${target.name})`, () => {
    let f: ImportFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(() => f.close());

    const exported = async (ws: string, kind: ExportKindName, format: ExportFormat = 'csv') => {
      let text = '';
      // A small page size, so the test crosses page boundaries.
      for await (const chunk of exportRows(f.tend.db, ws, kind, format, 2)) text += chunk;
      return text;
    };
    const profiles = (ws: string) =>
      f.rows(
        `select c.user_id, c.email, c.phone, c.timezone, c.locale, c.traits,
                (select jsonb_object_agg(channel, granted) from contact_consents k where k.workspace_id = c.workspace_id and k.contact_id = c.id) as consent
           from contacts c where c.workspace_id = $1 and c.merged_into is null order by c.email, c.user_id`,
        [ws],
      );

    it('exports contacts that import into a fresh workspace as the same profiles', async () => {
      const source = await f.workspace();
      assert.equal((await f.importCsv(source, 'contacts', CONTACTS)).rowsAccepted, 4);
      const csv = await exported(source, 'contacts');
      assert.equal(csv.split('\n')[0], 'user_id,email,phone,first_name,last_name,birthday,timezone,locale,consent_email,consent_sms,consent_push,consent_print,note,tier');
      const copy = await f.workspace();
      const job = await f.importCsv(copy, 'contacts', csv);
      assert.deepEqual([job.rowsAccepted, job.rowsRejected], [4, 0]);
      const original = await profiles(source);
      assert.deepEqual(await profiles(copy), original);
      assert.equal((original[0] as { traits: Record<string, string> }).traits.note, 'likes "dark" roast, no milk');
    });

    it('exports orders and events that import into a fresh workspace unchanged', async () => {
      const source = await f.workspace();
      await f.importCsv(source, 'orders', 'order_id,user_id,ordered_at,total,currency,status,coupon,discount,channel\no1,u1,2026-01-01T10:00:00Z,10.5,EUR,refunded,SPRING,2,web\no2,u2,2026-01-02,7,,,,,\no3,u1,2026-01-03,0,,cancelled,,,store\n');
      await f.tend.ingest.ingest(source, [
        { type: 'identify', userId: 'u1', traits: { email: 'u1@example.com', plan: 'pro' }, messageId: 'e1', timestamp: '2026-01-01T09:00:00Z' },
        { type: 'track', userId: 'u1', event: 'Signed Up', properties: { source: 'ad, "spring"' }, messageId: 'e2', timestamp: '2026-01-01T09:01:00Z' },
        { type: 'page', anonymousId: 'a1', name: 'Home', properties: { path: '/' }, messageId: 'e3', timestamp: '2026-01-01T09:02:00Z' },
        { type: 'screen', userId: 'u2', name: 'Cart', messageId: 'e4', timestamp: '2026-01-01T09:03:00Z' },
      ]);
      // An event Tend recorded itself (a message sent) comes back as Tend's own, with its id.
      const u1 = (await f.rows(`select id from contacts where workspace_id = $1 and user_id = 'u1'`, [source]))[0] as { id: number };
      await recordEvents(f.tend.db, source, [{ contactId: Number(u1.id), messageId: 'tend:m1:Email Sent', name: 'Email Sent', properties: { channel: 'email' }, occurredAt: new Date('2026-01-01T09:04:00Z') }], new Date());
      const copy = await f.workspace();
      assert.equal((await f.importCsv(copy, 'orders', await exported(source, 'orders'))).rowsRejected, 0);
      assert.equal((await f.importCsv(copy, 'events', await exported(source, 'events'))).rowsRejected, 0);

      const orders = (ws: string) =>
        f.rows(
          `select o.order_id, c.user_id, o.ordered_at, o.total, o.currency, o.status, o.coupon, o.discount, o.properties
             from orders o join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id where o.workspace_id = $1 order by o.order_id`,
          [ws],
        );
      assert.deepEqual(await orders(copy), await orders(source));
      const events = (ws: string) =>
        f.rows(
          `select e.message_id, e.type, e.name, e.properties, e.occurred_at, c.user_id
             from events e join contacts c on c.workspace_id = e.workspace_id and c.id = e.contact_id where e.workspace_id = $1 order by e.message_id`,
          [ws],
        );
      const copied = await events(copy);
      assert.equal(copied.length, 5);
      assert.deepEqual(copied, await events(source));
    });

    it('exports every stored field as JSON lines', async () => {
      const ws = await f.workspace();
      await f.importCsv(ws, 'contacts', CONTACTS);
      await f.importCsv(ws, 'products', 'sku,name\nS1,One\n');
      await f.importCsv(ws, 'orders', 'order_id,user_id,ordered_at,total\no1,r1,2026-01-01,10\n');
      await f.importCsv(ws, 'order-items', 'order_id,sku,quantity,unit_price\no1,S1,2,5\n');
      const contacts = (await exported(ws, 'contacts', 'jsonl')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(contacts.length, 4);
      assert.deepEqual(contacts[0]!.consent, [
        { channel: 'email', topic: '*', granted: true },
        { channel: 'print', topic: '*', granted: true },
        { channel: 'sms', topic: '*', granted: false },
      ]);
      const orders = (await exported(ws, 'orders', 'jsonl')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(orders[0]!.items, [{ sku: 'S1', quantity: 2, unit_price: 5 }]);
    });
  });
}
