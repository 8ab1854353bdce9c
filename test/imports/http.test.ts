import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { chunks } from './helpers.ts';

type Job = { id: number; status: string; rowsTotal: number; rowsAccepted: number; rowsRejected: number; errors: { line: number; column: string; message: string }[]; source: string };

for (const target of testDatabases()) {
  describe(`import and export over the admin API (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    const upload = (token: string, path: string, body: BodyInit | AsyncIterable<Buffer>) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: body as BodyInit,
        duplex: 'half',
      } as RequestInit);

    it('imports an uploaded CSV file and answers with the job', async () => {
      const ws = await server.workspace();
      // A streamed body, in small pieces, as a large upload arrives.
      const csv = 'order_id,user_id,ordered_at,total\no1,u1,2026-01-01,10\no2,u2,2026-13-01,10\no3,u2,20260102,7.5\n';
      const res = await upload(ws.adminToken, '/api/imports/orders?source=shop.csv', (async function* () {
        yield* chunks(csv, 5);
      })());
      assert.equal(res.status, 200);
      const job = (await res.json()) as Job;
      assert.deepEqual([job.status, job.rowsTotal, job.rowsAccepted, job.rowsRejected, job.source], ['completed', 3, 2, 1, 'upload shop.csv']);
      assert.deepEqual(job.errors, [{ line: 3, column: 'ordered_at', message: job.errors[0]!.message }]);

      const one = await fetch(`${server.url}/api/imports/${job.id}`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      assert.deepEqual(((await one.json()) as Job).errors, job.errors);
      const list = (await (await fetch(`${server.url}/api/imports`, { headers: { authorization: `Bearer ${ws.adminToken}` } })).json()) as { imports: Job[] };
      assert.deepEqual(list.imports.map((j) => [j.id, j.rowsAccepted]), [[job.id, 2]]);
      const missing = await fetch(`${server.url}/api/imports/999999`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      assert.equal(missing.status, 404);
      // Another workspace cannot see the job.
      const other = await server.workspace();
      assert.equal((await fetch(`${server.url}/api/imports/${job.id}`, { headers: { authorization: `Bearer ${other.adminToken}` } })).status, 404);
    });

    it('answers 400 with the job when the file is refused or an all-or-nothing import has a bad row', async () => {
      const ws = await server.workspace();
      // The header is refused at once; the rest of the (large) body is still read, so the answer arrives whole.
      const big = 'order_id,total\n' + 'o1,5\n'.repeat(200_000);
      const refused = await upload(ws.adminToken, '/api/imports/orders', big);
      assert.equal(refused.status, 400);
      const body = (await refused.json()) as { error: string; job: Job };
      assert.match(body.error, /no user_id column/);
      assert.equal(body.job.status, 'failed');

      const all = await upload(ws.adminToken, '/api/imports/products?mode=all', 'sku,name,price\nA,Apple,1\nB,Bean,-1\n');
      assert.equal(all.status, 400);
      assert.deepEqual(((await all.json()) as { job: Job }).job.errors.map((e) => [e.line, e.column]), [[3, 'price']]);
      assert.equal((await server.tend.catalog.products(ws.id)).length, 0);
    });

    it('refuses uploads without an admin token, of an unknown kind or mode', async () => {
      const ws = await server.workspace();
      assert.equal((await upload(ws.writeKey, '/api/imports/orders', 'x')).status, 401);
      assert.equal((await upload(ws.adminToken, '/api/imports/coupons', 'x')).status, 400);
      assert.equal((await upload(ws.adminToken, '/api/imports/orders?mode=some', 'x')).status, 400);
    });

    it('streams exports as CSV and JSON lines', async () => {
      const ws = await server.workspace();
      await upload(ws.adminToken, '/api/imports/orders', 'order_id,user_id,ordered_at,total,currency\no1,u1,2026-01-01,10,EUR\no2,u2,2026-01-02,7.5,EUR\n');
      const csv = await fetch(`${server.url}/api/exports/orders`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type')!, /^text\/csv/);
      assert.equal(
        await csv.text(),
        'order_id,user_id,ordered_at,total,currency,email,status,coupon,discount\n' +
          'o1,u1,2026-01-01T00:00:00.000Z,10,EUR,,completed,,\no2,u2,2026-01-02T00:00:00.000Z,7.5,EUR,,completed,,\n',
      );
      const jsonl = await fetch(`${server.url}/api/exports/contacts?format=jsonl`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      const lines = (await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l) as { user_id: string });
      assert.deepEqual(lines.map((l) => l.user_id), ['u1', 'u2']);
    });

    it('documents the upload in OpenAPI as a text/csv body', async () => {
      const spec = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
      assert.ok(spec.paths['/api/imports/{kind}']!.post!.requestBody!.content['text/csv']);
      assert.ok(spec.paths['/api/exports/{kind}']!.get);
    });
  });
}
