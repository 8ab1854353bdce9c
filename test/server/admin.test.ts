import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, basic, type TestServer } from '../helpers/server.ts';

for (const target of testDatabases()) {
  describe(`admin API (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    const call = async (token: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('requires the admin token of the workspace, and keeps workspaces apart', async () => {
      const a = await server.workspace();
      const b = await server.workspace();
      await fetch(`${server.url}/v1/identify`, { method: 'POST', headers: { authorization: basic(a.writeKey), 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'only-in-a' }) });
      assert.equal((await call('wrong', '/api/contacts')).status, 401);
      assert.equal((await fetch(`${server.url}/api/contacts`)).status, 401);
      assert.equal((await call(a.writeKey, '/api/contacts')).status, 401, 'a write key is not an admin token');
      assert.equal(((await call(a.adminToken, '/api/contacts')).body.contacts as unknown[]).length, 1);
      assert.equal(((await call(b.adminToken, '/api/contacts')).body.contacts as unknown[]).length, 0);
      assert.equal((await call(b.adminToken, '/api/contacts/by-user/only-in-a')).status, 404);
    });

    it('names the field of a bad query or body, and answers unknown ids with 404', async () => {
      const ws = await server.workspace();
      let r = await call(ws.adminToken, '/api/contacts?limit=100000');
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'query.limit');
      r = await call(ws.adminToken, '/api/contacts/abc');
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'params.id');
      assert.equal((await call(ws.adminToken, '/api/contacts/999999999')).status, 404);
      r = await call(ws.adminToken, '/api/workspace/settings', { method: 'PATCH', body: JSON.stringify({ emailPolicy: 'sometimes' }) });
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'body.emailPolicy');
      r = await call(ws.adminToken, '/api/workspace/settings', { method: 'PATCH', body: '{"emailPolicy": ' });
      assert.equal(r.status, 400);
      // Text that is not valid Unicode (an unpaired surrogate) is refused by field, on any route.
      r = await call(ws.adminToken, '/api/segments', { method: 'POST', body: JSON.stringify({ name: 'bad \ud800', rule: { type: 'random', percent: 10 } }) });
      assert.equal(r.status, 400);
      assert.equal(r.body.field, 'body.name');
      assert.match(r.body.error as string, /unpaired surrogate/);
      r = await call(ws.adminToken, '/api/workspace/settings', { method: 'PATCH', body: JSON.stringify({ emailPolicy: 'reject' }) });
      assert.equal(r.status, 200);
      assert.equal((r.body.settings as { emailPolicy: string }).emailPolicy, 'reject');
    });

    it('exports everything about a contact and erases it (GDPR)', async () => {
      const ws = await server.workspace();
      const batch = [
        { type: 'page', anonymousId: 'g-anon', name: 'Home' },
        { type: 'identify', anonymousId: 'g-anon', userId: 'gdpr-1', traits: { email: 'g@example.com', consent: { email: true } } },
        { type: 'track', userId: 'gdpr-1', event: 'Order Completed', properties: { order_id: 'g-o1', total: 10, products: [{ sku: 'G1', price: 10 }] } },
        { type: 'identify', userId: 'gdpr-2' },
      ];
      await fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
      const c = (await call(ws.adminToken, '/api/contacts/by-user/gdpr-1')).body as { id: number };
      const exported = (await call(ws.adminToken, `/api/contacts/${c.id}/export`)).body as { contact: { email: string }; events: unknown[]; orders: unknown[]; orderItems: unknown[] };
      assert.equal(exported.contact.email, 'g@example.com');
      assert.equal(exported.events.length, 3);
      assert.equal(exported.orders.length, 1);
      assert.equal(exported.orderItems.length, 1);
      assert.deepEqual((await call(ws.adminToken, `/api/contacts/${c.id}`, { method: 'DELETE' })).body, { erased: true });
      assert.equal((await call(ws.adminToken, `/api/contacts/${c.id}`)).status, 404);
      assert.equal((await call(ws.adminToken, '/api/contacts/by-user/g-anon')).status, 404);
      assert.equal((await call(ws.adminToken, '/api/orders/g-o1')).status, 404);
      const left = await server.tend.db.query(
        `select (select count(*) from events where workspace_id = $1)::int as events, (select count(*) from contact_consents where workspace_id = $1)::int as consents,
                (select count(*) from contact_aliases where workspace_id = $1)::int as aliases, (select count(*) from order_items where workspace_id = $1)::int as items`,
        [ws.id],
      );
      assert.deepEqual(left.rows[0], { events: 1, consents: 0, aliases: 0, items: 0 }, 'only gdpr-2 remains');
      assert.equal((await call(ws.adminToken, `/api/contacts/${c.id}`, { method: 'DELETE' })).status, 404);
    });

    it('describes itself with OpenAPI', async () => {
      const res = await fetch(`${server.url}/api/openapi.json`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { parameters: { name: string }[]; security?: unknown }>> };
      assert.equal(doc.openapi, '3.1.0');
      for (const path of ['/v1/batch', '/v1/track', '/api/contacts', '/api/contacts/{id}', '/api/segments', '/api/segments/preview']) assert.ok(doc.paths[path], path);
      assert.deepEqual(doc.paths['/api/contacts/{id}']!.get!.parameters.map((p) => p.name), ['id']);
      assert.ok(doc.paths['/api/contacts']!.get!.security);
      const health = await fetch(`${server.url}/health`);
      assert.deepEqual(await health.json(), { status: 'ok', database: target.name });
    });
  });
}
