import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { openFixture, where, type ImportFixture } from './helpers.ts';

for (const target of testDatabases()) {
  describe(`CSV import of bad input (${target.name})`, () => {
    let f: ImportFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(() => f.close());

    const count = async (table: string, ws: string) => (await f.rows<{ n: number }>(`select count(*)::int as n from ${table} where workspace_id = $1`, [ws]))[0]!.n;

    it('reports each bad row by line and column and keeps the valid rows', async () => {
      const ws = await f.workspace();
      const csv = [
        'order_id,user_id,ordered_at,total,currency,status', // line 1
        'o1,u1,2026-01-05,10,EUR,', // 2 ok
        'o2,u1,2026-13-01,10,,', // 3 bad month
        'o3,u1,20260230,10,,', // 4 no such day
        'o4,u1,yesterday,10,,', // 5
        'o5,u1,2026-01-05,abc,,', // 6 wrong type
        'o6,u1,2026-01-05,-3,,', // 7 negative
        'o7,,2026-01-05,3,,', // 8 missing value
        'o8,u1,2026-01-05,3,EURO,', // 9
        'o9,u1,2026-01-05,3,,shipped', // 10
        'o10,u1,2026-01-05,3,EUR,completed,extra', // 11 too many cells
        '"o11,with comma",u1,2026-01-05,3', // 12 ok: quoted comma, trailing cells missing
        'o12,u1,2026-01-05T25:00:00Z,3,,', // 13
        'o13,u1\u0000,2026-01-05,3,,', // 14 NUL
        'o14,"u1"x,2026-01-05,3,,', // 15 malformed quote
        'o15,u1,2026-01-05,3.5,,', // 16 ok
      ].join('\n');
      const job = await f.importCsv(ws, 'orders', csv);
      assert.equal(job.status, 'completed');
      assert.deepEqual([job.rowsTotal, job.rowsAccepted, job.rowsRejected], [15, 3, 12]);
      assert.deepEqual(where(job), [
        [3, 'ordered_at'], [4, 'ordered_at'], [5, 'ordered_at'], [6, 'total'], [7, 'total'], [8, 'user_id'], [9, 'currency'], [10, 'status'],
        [11, ''], [13, 'ordered_at'], [14, 'user_id'], [15, ''],
      ]);
      const messages = Object.fromEntries(job.errors.map((e) => [e.line, e.message]));
      assert.match(messages[3]!, /"2026-13-01" is not a date/);
      assert.match(messages[7]!, /must not be negative/);
      assert.match(messages[8]!, /is required/);
      assert.match(messages[10]!, /completed, refunded, cancelled/);
      assert.match(messages[11]!, /7 cells but the header has 6 columns/);
      assert.match(messages[14]!, /NUL/);
      assert.match(messages[15]!, /quoted field must be followed by a comma/);
      assert.deepEqual((await f.rows<{ order_id: string }>(`select order_id from orders where workspace_id = $1 order by order_id`, [ws])).map((r) => r.order_id), ['o1', 'o11,with comma', 'o15']);
    });

    it('reads a BOM, CRLF line ends and quoted cells with commas, quotes and line breaks, keeping line numbers', async () => {
      const ws = await f.workspace();
      const csv = '\ufeffUser_ID,First_Name,note\r\nq1,"Smith, Jo","said ""hi""\r\nthen left"\r\n\r\nq2,Ann,"two\nlines"\r\nq3,Bob,"x"y\r\nq4,Eve,ok\r\n';
      const job = await f.importCsv(ws, 'contacts', csv);
      assert.deepEqual([job.rowsAccepted, job.rowsRejected], [3, 1]);
      assert.deepEqual(where(job), [[7, '']], 'the blank line 4 and the line breaks inside quotes are counted');
      const q1 = (await f.tend.contacts.get(ws, (await f.tend.contacts.findByUserId(ws, 'q1'))!))!;
      assert.deepEqual(q1.traits, { first_name: 'Smith, Jo', note: 'said "hi"\r\nthen left' });
    });

    it('refuses a file without a required column, an empty file, and unknown or repeated columns, writing nothing', async () => {
      const ws = await f.workspace();
      const cases: [kind: 'orders' | 'order-items' | 'products', csv: string, column: string, message: RegExp][] = [
        ['orders', 'order_id,user_id,total\no1,u1,5\n', 'ordered_at', /no ordered_at column/],
        ['orders', '', '', /the file is empty/],
        ['order-items', 'order_id,sku,quantity,unit_price,qty\n', 'qty', /unknown column "qty"/],
        ['products', 'sku,name,SKU\n', 'sku', /appears twice/],
        ['products', 'sku,name,,price\n', '', /column 3 of the header has no name/],
      ];
      for (const [kind, csv, column, message] of cases) {
        const job = await f.importCsv(ws, kind, csv);
        assert.equal(job.status, 'failed', csv);
        assert.match(job.message!, message);
        assert.deepEqual(where(job), [[1, column]]);
      }
      assert.equal(await count('orders', ws), 0);
      const headerOnly = await f.importCsv(ws, 'orders', 'order_id,user_id,ordered_at,total\r\n');
      assert.deepEqual([headerOnly.status, headerOnly.rowsTotal, headerOnly.message], ['completed', 0, 'the file has a header line but no rows']);
    });

    it('rejects order items with unknown skus or orders, bad quantities and negative prices', async () => {
      const ws = await f.workspace();
      await f.importCsv(ws, 'products', 'sku,name\nS1,One\n');
      await f.importCsv(ws, 'orders', 'order_id,user_id,ordered_at,total\no1,u1,2026-01-01,5\n');
      const job = await f.importCsv(ws, 'order-items', 'order_id,sku,quantity,unit_price\no1,S1,1,5\no1,NOPE,1,5\nox,S1,1,5\no1,S1,0,5\no1,S1,-2,5\no1,S1,1.5,5\no1,S1,1,-0.01\n');
      assert.deepEqual(where(job), [[3, 'sku'], [4, 'order_id'], [5, 'quantity'], [6, 'quantity'], [7, 'quantity'], [8, 'unit_price']]);
      assert.equal(job.errors[0]!.message, 'unknown sku "NOPE"; import products first');
      assert.equal(job.errors[1]!.message, 'unknown order "ox"; import orders first');
      assert.equal(await count('order_items', ws), 1);
    });

    it('stores hostile text as text and refuses what could harm (control characters, script URLs, huge cells)', async () => {
      const ws = await f.workspace();
      const huge = 'x'.repeat(1_100_000);
      const csv = [
        'user_id,first_name,formula,website',
        `"'); drop table contacts; --",Bobby,"=HYPERLINK(""http://evil.example"")",`,
        'h2,"<script>alert(1)</script>",,',
        'h3\u001b[31m,Red,,', // a terminal escape in an id
        `h4,${huge},,`,
        'h5,Zoë 🌱 Łukasz,,',
      ].join('\n');
      const job = await f.importCsv(ws, 'contacts', csv);
      assert.deepEqual(where(job), [[4, 'user_id'], [5, '']]);
      assert.match(job.errors[1]!.message, /longer than 1,000,000 characters/);
      const products = await f.importCsv(ws, 'products', 'sku,name,url\np1,P,javascript:alert(1)\np2,P,https://ok.example/\n');
      assert.deepEqual(where(products), [[2, 'url']]);
      const bobby = (await f.tend.contacts.get(ws, (await f.tend.contacts.findByUserId(ws, "'); drop table contacts; --"))!))!;
      assert.equal(bobby.traits.formula, '=HYPERLINK("http://evil.example")');
      const h5 = (await f.tend.contacts.get(ws, (await f.tend.contacts.findByUserId(ws, 'h5'))!))!;
      assert.equal(h5.traits.first_name, 'Zoë 🌱 Łukasz');
      assert.equal(await count('contacts', ws), 3);
    });

    it("applies the workspace's email policy to imported addresses", async () => {
      const ws = await f.workspace({ emailPolicy: 'reject' });
      const job = await f.importCsv(ws, 'contacts', 'user_id,email\nm1,ok@example.com\nm2,nobody@mailinator.com\nm3,not an email\nm4,\n');
      assert.deepEqual(where(job), [[3, 'email'], [4, 'email']]);
      assert.match(job.errors[0]!.message, /refused: disposable/);
      const flagged = await f.workspace();
      const kept = await f.importCsv(flagged, 'contacts', 'email\nnobody@mailinator.com\n');
      assert.equal(kept.rowsAccepted, 1);
      const row = await f.rows<{ email_check: { disposable: boolean } }>(`select email_check from contacts where workspace_id = $1`, [flagged]);
      assert.equal(row[0]!.email_check.disposable, true);
    });

    it('all or nothing: one bad row and nothing is written, yet every bad row is reported', async () => {
      const ws = await f.workspace();
      await f.importCsv(ws, 'products', 'sku,name\nS1,One\n');
      const orders = 'order_id,user_id,ordered_at,total\na1,u1,2026-01-01,5\na2,u2,bad,5\na3,u3,2026-01-01,5\na4,u4,2026-01-01,-1\n';
      const job = await f.importCsv(ws, 'orders', orders, { mode: 'all', batchSize: 2 });
      assert.deepEqual([job.status, job.mode, job.rowsTotal, job.rowsAccepted, job.rowsRejected], ['failed', 'all', 4, 0, 2]);
      assert.deepEqual(where(job), [[3, 'ordered_at'], [5, 'total']]);
      assert.match(job.message!, /nothing was imported/);
      assert.equal(await count('orders', ws), 0);
      assert.equal(await count('contacts', ws), 0, 'the customers created on the way are rolled back too');
      // Rejections found by the database stage (unknown sku) count as well.
      await f.importCsv(ws, 'orders', 'order_id,user_id,ordered_at,total\na1,u1,2026-01-01,5\n');
      const items = await f.importCsv(ws, 'order-items', 'order_id,sku,quantity,unit_price\na1,S1,1,5\na1,S2,1,5\n', { mode: 'all' });
      assert.deepEqual([items.status, where(items)], ['failed', [[3, 'sku']]]);
      assert.equal(await count('order_items', ws), 0);
      // Events too, although ingestion opens transactions of its own.
      const events = await f.importCsv(ws, 'events', 'user_id,event,timestamp,properties\nu1,Viewed,2026-01-01,\nu1,Order Completed,2026-01-01,"{""order_id"":""x"",""products"":[{""sku"":""S1"",""quantity"":0}]}"\n', { mode: 'all' });
      assert.deepEqual([events.status, where(events)], ['failed', [[3, 'properties']]]);
      assert.equal(await count('events', ws), 0);
      const good = await f.importCsv(ws, 'orders', orders.replace('bad', '2026-01-02').replace('-1', '1'), { mode: 'all', batchSize: 2 });
      assert.deepEqual([good.status, good.rowsAccepted], ['completed', 4]);
      assert.equal(await count('orders', ws), 4);
    });

    it('finds the row a database refuses in a batch and keeps the rest of the batch', async () => {
      const ws = await f.workspace();
      // A constraint Tend does not know about, as a DBA might add: the importer cannot foresee it.
      await f.tend.db.exec(`
        create or replace function refuse_boom() returns trigger language plpgsql as $$
        begin
          if new.sku like 'BOOM%' then raise exception 'no BOOM products here' using errcode = '23514'; end if;
          return new;
        end $$;
        drop trigger if exists refuse_boom on products;
        create trigger refuse_boom before insert or update on products for each row execute function refuse_boom();`);
      const lines = ['sku,name'];
      for (let i = 1; i <= 40; i++) lines.push(`${i === 7 || i === 31 ? 'BOOM' : 'P'}${i},Product ${i}`);
      const job = await f.importCsv(ws, 'products', lines.join('\n'), { batchSize: 16 });
      assert.deepEqual([job.status, job.rowsAccepted, job.rowsRejected], ['completed', 38, 2]);
      assert.deepEqual(where(job), [[8, ''], [32, '']]);
      assert.match(job.errors[0]!.message, /the database refused this row: no BOOM products here/);
      assert.equal(await count('products', ws), 38);
      await f.tend.db.exec(`drop trigger refuse_boom on products`);
    });

    it('counts every rejected row but keeps the first 1,000, in line order, across batches', async () => {
      const ws = await f.workspace();
      const lines = ['sku,name,price'];
      for (let i = 0; i < 1500; i++) lines.push(i % 3 === 0 ? `K${i},Good,1` : `K${i},Bad,x`);
      const job = await f.importCsv(ws, 'products', lines.join('\n'), { batchSize: 100 });
      assert.deepEqual([job.rowsTotal, job.rowsAccepted, job.rowsRejected, job.errors.length], [1500, 500, 1000, 1000]);
      const more = await f.importCsv(ws, 'products', lines.join('\n').replaceAll(',Good,1', ',Good,y'), { batchSize: 100 });
      assert.deepEqual([more.rowsRejected, more.errors.length], [1500, 1000]);
      assert.deepEqual(more.errors.slice(0, 3).map((e) => e.line), [2, 3, 4]);
      assert.ok(more.errors.every((e, i) => i === 0 || e.line > more.errors[i - 1]!.line));
      const stored = await f.rows<{ n: number; rejected: number }>(`select jsonb_array_length(errors) as n, rows_rejected as rejected from import_jobs where workspace_id = $1 and id = $2`, [ws, more.id]);
      assert.deepEqual(stored[0], { n: 1000, rejected: 1500 });
    });
  });
}
