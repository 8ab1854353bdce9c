import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, basic, type TestServer } from '../helpers/server.ts';

for (const target of testDatabases()) {
  describe(`tracking API (${target.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(() => server.close());

    const post = (path: string, writeKey: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: basic(writeKey), 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const admin = async (token: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { [k: string]: never } };
    };

    it('stores identify and track calls on one profile with normalised email and consent', async () => {
      const ws = await server.workspace();
      let res = await post('/v1/identify', ws.writeKey, {
        userId: 'u1',
        traits: { email: ' Ann@Gmial.com ', first_name: 'Ann', phone: '+48 600 100 200', consent: { email: true, sms: { granted: false } } },
        context: { timezone: 'Europe/Warsaw', locale: 'pl-PL' },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { success: true, duplicate: false });
      res = await post('/v1/track', ws.writeKey, { userId: 'u1', event: 'Signed Up', properties: { plan: 'basic' } });
      assert.equal(res.status, 200);
      const found = await admin(ws.adminToken, '/api/contacts/by-user/u1');
      assert.equal(found.status, 200);
      const c = found.body as unknown as { id: number; email: string; phone: string; timezone: string; locale: string; traits: Record<string, unknown>; emailCheck: { suggestion: string }; consent: { channel: string; granted: boolean }[] };
      assert.equal(c.email, 'ann@gmial.com');
      assert.equal(c.emailCheck.suggestion, 'ann@gmail.com');
      assert.equal(c.phone, '+48600100200');
      assert.equal(c.timezone, 'Europe/Warsaw');
      assert.equal(c.locale, 'pl-PL');
      assert.deepEqual(c.traits, { first_name: 'Ann' });
      assert.deepEqual(c.consent.map((x) => [x.channel, x.granted]), [['email', true], ['sms', false]]);
      const events = await admin(ws.adminToken, `/api/contacts/${c.id}/events`);
      assert.deepEqual((events.body.events as unknown as { name: string | null }[]).map((e) => e.name), ['Signed Up', null]);
    });

    it('keeps the valid messages of a batch and reports each invalid one by index and field', async () => {
      const ws = await server.workspace();
      const res = await post('/v1/batch', ws.writeKey, {
        batch: [
          { type: 'track', userId: 'u2', event: 'Viewed', messageId: 'm1' },
          { type: 'track', userId: 'u2', messageId: 'm2' },
          { type: 'track', event: 'No one', messageId: 'm3' },
          { type: 'unknown', userId: 'u2' },
          { type: 'track', userId: 'u2', event: 'Bad time', timestamp: 'yesterday' },
          { type: 'track', userId: 'u2', event: 'Order Completed', properties: { order_id: 'o1', products: [{ sku: 's1', quantity: -2 }] } },
          'not an object',
          { type: 'page', anonymousId: 'a2', name: 'Home', messageId: 'm4' },
          { type: 'track', userId: 'u2', event: 'Email Opened', messageId: 'tend:m9:Email Opened' },
        ],
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { accepted: number; rejected: { index: number; field: string; message: string }[] };
      assert.equal(body.accepted, 2);
      assert.deepEqual(body.rejected.map((r) => [r.index, r.field]), [
        [1, 'batch.1.event'],
        [2, 'batch.2.userId'],
        [3, 'batch.3.type'],
        [4, 'batch.4.timestamp'],
        [5, 'batch.5.properties.products.0.quantity'],
        [6, 'batch.6'],
        [8, 'batch.8.messageId'],
      ]);
      for (const r of body.rejected) assert.ok(r.message.length > 5, r.message);
      const stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.events, 2);
    });

    it('stores a message delivered twice (same messageId) once', async () => {
      const ws = await server.workspace();
      const msg = { type: 'track', userId: 'u3', event: 'Clicked', messageId: 'dup-1' };
      const first = (await (await post('/v1/batch', ws.writeKey, { batch: [msg, msg] })).json()) as { duplicates: number };
      assert.equal(first.duplicates, 1);
      const again = (await (await post('/v1/track', ws.writeKey, msg)).json()) as { duplicate: boolean };
      assert.equal(again.duplicate, true);
      const stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.events, 1);
    });

    it('merges anonymous activity into the known profile on identify, and on alias', async () => {
      const ws = await server.workspace();
      await post('/v1/page', ws.writeKey, { anonymousId: 'anon-1', name: 'Home' });
      await post('/v1/track', ws.writeKey, { anonymousId: 'anon-1', event: 'Product Added', properties: { sku: 'SKU-1', price: 10, quantity: 2, cart_id: 'cart-1' } });
      let stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.contacts, 1);
      assert.equal(stats.body.knownContacts, 0);
      await post('/v1/identify', ws.writeKey, { anonymousId: 'anon-1', userId: 'u4', traits: { email: 'u4@example.com' } });
      stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.contacts, 1);
      const c = (await admin(ws.adminToken, '/api/contacts/by-user/u4')).body as unknown as { id: number; anonymousIds: string[] };
      assert.deepEqual(c.anonymousIds, ['anon-1']);
      const events = (await admin(ws.adminToken, `/api/contacts/${c.id}/events`)).body.events as unknown as unknown[];
      assert.equal(events.length, 3);
      const carts = (await admin(ws.adminToken, `/api/contacts/${c.id}/orders`)).body.carts as unknown as { cartId: string; items: unknown[] }[];
      assert.equal(carts[0]!.cartId, 'cart-1');
      // A later event under the old anonymous id still reaches the merged profile.
      await post('/v1/track', ws.writeKey, { anonymousId: 'anon-1', event: 'Late' });
      // alias: a second known id folds into this profile.
      await post('/v1/identify', ws.writeKey, { userId: 'old-id', traits: { nickname: 'x' } });
      await post('/v1/alias', ws.writeKey, { previousId: 'old-id', userId: 'u4' });
      stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.contacts, 1);
      const merged = (await admin(ws.adminToken, '/api/contacts/by-user/old-id')).body as unknown as { id: number; traits: Record<string, unknown> };
      assert.equal(merged.id, c.id);
      assert.equal(merged.traits.nickname, 'x');
    });

    it('merges an anonymous visit and the identify that follows it in the same batch', async () => {
      const ws = await server.workspace();
      const res = await post('/v1/batch', ws.writeKey, {
        batch: [
          { type: 'page', anonymousId: 'anon-fast', name: 'Home' },
          { type: 'identify', anonymousId: 'anon-fast', userId: 'fast', traits: { plan: 'pro' } },
        ],
      });
      assert.equal(res.status, 200);
      const stats = await admin(ws.adminToken, '/api/stats');
      assert.equal(stats.body.contacts, 1);
      const c = (await admin(ws.adminToken, '/api/contacts/by-user/fast')).body as unknown as { id: number; anonymousIds: string[] };
      assert.deepEqual(c.anonymousIds, ['anon-fast']);
      const events = (await admin(ws.adminToken, `/api/contacts/${c.id}/events`)).body.events as unknown as unknown[];
      assert.equal(events.length, 2);
    });

    it('keeps carts and orders current from e-commerce events', async () => {
      const ws = await server.workspace();
      const batch = [
        { type: 'track', userId: 'u5', event: 'Product Added', properties: { cart_id: 'c5', sku: 'A', name: 'Filter', price: 12.5, quantity: 2 } },
        { type: 'track', userId: 'u5', event: 'Product Added', properties: { cart_id: 'c5', sku: 'B', price: 5 } },
        { type: 'track', userId: 'u5', event: 'Product Removed', properties: { cart_id: 'c5', sku: 'B' } },
        { type: 'track', userId: 'u5', event: 'Checkout Started', properties: { cart_id: 'c5' } },
        { type: 'track', userId: 'u5', event: 'Order Completed', properties: { order_id: 'o5', cart_id: 'c5', total: 25, currency: 'usd', products: [{ sku: 'A', price: 12.5, quantity: 2 }] } },
      ];
      assert.equal((await post('/v1/batch', ws.writeKey, { batch })).status, 200);
      const order = (await admin(ws.adminToken, '/api/orders/o5')).body as unknown as { total: number; currency: string; items: { sku: string; name: string; quantity: number }[] };
      assert.equal(order.total, 25);
      assert.equal(order.currency, 'USD');
      assert.deepEqual(order.items.map((i) => [i.sku, i.name, i.quantity]), [['A', 'Filter', 2]]);
      const c = (await admin(ws.adminToken, '/api/contacts/by-user/u5')).body as unknown as { id: number; orderCount: number; totalSpent: number };
      assert.equal(c.orderCount, 1);
      assert.equal(c.totalSpent, 25);
      const { carts } = (await admin(ws.adminToken, `/api/contacts/${c.id}/orders`)).body as unknown as { carts: { status: string; items: { sku: string }[] }[] };
      assert.equal(carts[0]!.status, 'completed');
      assert.deepEqual(carts[0]!.items.map((i) => i.sku), ['A']);
      await post('/v1/track', ws.writeKey, { userId: 'u5', event: 'Order Refunded', properties: { order_id: 'o5' } });
      assert.equal(((await admin(ws.adminToken, '/api/orders/o5')).body as unknown as { status: string }).status, 'refunded');
    });

    it('answers bad input with a clear 4xx and never a 500', async () => {
      const ws = await server.workspace();
      const cases: [string, Response, number, RegExp][] = [
        ['malformed JSON', await post('/v1/track', ws.writeKey, '{"userId": "u",'), 400, /JSON/],
        ['empty body', await post('/v1/track', ws.writeKey, ''), 400, /empty|JSON/],
        ['array body', await post('/v1/track', ws.writeKey, [1, 2]), 400, /object/],
        ['wrong type', await post('/v1/track', ws.writeKey, { userId: 'u', event: 42 }), 400, /event/],
        ['object user id', await post('/v1/identify', ws.writeKey, { userId: { a: 1 } }), 400, /userId/],
        ['bad write key', await post('/v1/track', 'nope', { userId: 'u', event: 'x' }), 401, /write key/],
        ['no credentials', await fetch(`${server.url}/v1/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 401, /write key/],
        ['oversized event', await post('/v1/batch', ws.writeKey, { batch: [{ type: 'track', userId: 'u', event: 'big', properties: { blob: 'x'.repeat(40_000) } }] }), 400, /32 KB/],
        ['oversized batch', await post('/v1/batch', ws.writeKey, { batch: Array.from({ length: 30 }, () => ({ type: 'track', userId: 'u', event: 'e', properties: { blob: 'x'.repeat(20_000) } })) }), 413, /limit/],
        ['batch not an array', await post('/v1/batch', ws.writeKey, { batch: 'x' }), 400, /batch/],
        ['NUL character', await post('/v1/track', ws.writeKey, { userId: 'u', event: 'x', properties: { note: 'a\u0000b' } }), 400, /properties\.note|NUL/],
        // JSON.stringify writes a lone surrogate as the escape \ud800, which Postgres refuses in JSON.
        ['unpaired surrogate in a property', await post('/v1/track', ws.writeKey, { userId: 'u', event: 'x', properties: { note: 'a\ud800b' } }), 400, /surrogate/],
        ['unpaired surrogate in a key', await post('/v1/track', ws.writeKey, { userId: 'u', event: 'x', context: { ['k\udc00']: 1 } }), 400, /surrogate/],
        ['unpaired surrogate in a user id', await post('/v1/track', ws.writeKey, { userId: 'u\ud83d', event: 'x' }), 400, /surrogate/],
        ['bad time zone', await post('/v1/identify', ws.writeKey, { userId: 'u', traits: { timezone: 'Mars/Base' } }), 400, /IANA/],
        ['bad consent', await post('/v1/identify', ws.writeKey, { userId: 'u', traits: { consent: { fax: true } } }), 400, /consent/],
        ['wrong content type', await post('/v1/track', ws.writeKey, 'x=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /content type/],
        ['unknown route', await post('/v1/nothing', ws.writeKey, {}), 404, /no route/],
      ];
      for (const [name, res, status, pattern] of cases) {
        const body = (await res.json()) as { error: string };
        assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
        assert.match(body.error, pattern, name);
      }
      // In a batch, the message with the unpaired surrogate is reported by field; the others, a
      // well-formed pair (an emoji) among them, are stored.
      const mixed = await post('/v1/batch', ws.writeKey, { batch: [
        { type: 'track', userId: 'u', event: 'x', messageId: 'sur-1', properties: { note: 'ok \ud83d\ude00' } },
        { type: 'track', userId: 'u', event: 'x', messageId: 'sur-2', properties: { deep: [{ note: '\udfff' }] } },
      ] });
      const mixedBody = (await mixed.json()) as { accepted: number; rejected: { index: number; field: string }[] };
      assert.equal(mixed.status, 200);
      assert.equal(mixedBody.accepted, 1);
      assert.deepEqual(mixedBody.rejected.map((r) => [r.index, r.field]), [[1, 'batch.1.properties.deep.0.note']]);
      const poisoned = await post('/v1/identify', ws.writeKey, '{"userId":"proto","traits":{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},"ok":1}}');
      assert.equal(poisoned.status, 200);
      const p = (await admin(ws.adminToken, '/api/contacts/by-user/proto')).body as unknown as { traits: Record<string, unknown> };
      assert.deepEqual(p.traits, { ok: 1 });
      // The same key spelled with escapes, and a body that starts with a byte order mark.
      const escaped = await post('/v1/identify', ws.writeKey, '{"userId":"escaped","traits":{"\\u0063onstructor":{"prototype":{"admin":true}},"ok":1}}');
      assert.equal(escaped.status, 200);
      assert.deepEqual(((await admin(ws.adminToken, '/api/contacts/by-user/escaped')).body as unknown as { traits: unknown }).traits, { ok: 1 });
      assert.equal((await post('/v1/identify', ws.writeKey, '\ufeff{"userId":"bom","traits":{"ok":1}}')).status, 200);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
      const hostile = '<script>alert(1)</script>\'; drop table contacts; --';
      const res = await post('/v1/identify', ws.writeKey, { userId: hostile, traits: { first_name: hostile, [hostile]: hostile } });
      assert.equal(res.status, 200);
      const c = (await admin(ws.adminToken, `/api/contacts/by-user/${encodeURIComponent(hostile)}`)).body as unknown as { traits: Record<string, string> };
      assert.equal(c.traits.first_name, hostile);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
    });

    it('rejects refused email addresses when the workspace says so', async () => {
      const ws = await server.workspace({ emailPolicy: 'reject' });
      const res = await post('/v1/identify', ws.writeKey, { userId: 'u6', traits: { email: 'someone@mailinator.com' } });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { field: string; error: string };
      assert.equal(body.field, 'traits.email');
      assert.match(body.error, /disposable/);
    });

    it('works with the official @segment/analytics-node client unchanged', async () => {
      const ws = await server.workspace();
      const analytics = new Analytics({ writeKey: ws.writeKey, host: server.url, flushAt: 3, maxRetries: 1 });
      const errors: unknown[] = [];
      analytics.on('error', (e) => errors.push(e));
      analytics.identify({ userId: 'seg-1', traits: { email: 'seg@example.com', plan: 'pro' } });
      analytics.track({ userId: 'seg-1', event: 'Product Viewed', properties: { sku: 'P1', name: 'Kettle', price: 40 } });
      analytics.page({ anonymousId: 'seg-anon', name: 'Pricing' });
      analytics.group({ userId: 'seg-1', groupId: 'acme', traits: { name: 'Acme' } });
      analytics.alias({ userId: 'seg-1', previousId: 'seg-anon' });
      await analytics.closeAndFlush({ timeout: 10_000 });
      assert.deepEqual(errors, []);
      const stats = (await admin(ws.adminToken, '/api/stats')).body;
      assert.equal(stats.events, 5);
      assert.equal(stats.contacts, 1);
      assert.equal(stats.products, 1);
      const c = (await admin(ws.adminToken, '/api/contacts/by-user/seg-1')).body as unknown as { email: string; traits: { plan: string } };
      assert.equal(c.email, 'seg@example.com');
      assert.equal(c.traits.plan, 'pro');
    });
  });
}
