import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { testDatabases } from '../helpers/db.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateVapidKeys } from '../../src/channels/push/config.ts';
import { basic, eventsOf, sendThrough, startHooksServer, suppressions, type HooksServer } from './helpers.ts';

const vapid = generateVapidKeys();

/** A browser's PushSubscription.toJSON(): an endpoint at its push service and its keys. */
function browserSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/${randomBytes(12).toString('base64url')}:APA91b${randomBytes(40).toString('base64url')}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

for (const target of testDatabases()) {
  describe(`web push and print reports over HTTP (${target.name})`, () => {
    let server: HooksServer;
    let ws: Awaited<ReturnType<HooksServer['workspace']>>;
    const call = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      fetch(`${server.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    const subscribe = (body: unknown, key = ws.writeKey) => call('/v1/push/subscribe', { body, headers: { authorization: basic(key), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0' } });

    before(async () => {
      server = await startHooksServer(target, { clock: new VirtualClock('2026-03-02T12:00:00Z'), config: { vapidPublicKey: vapid.publicKey } });
      ws = await server.workspace();
    });
    after(() => server?.close());

    it('serves the VAPID public key and the service worker', async () => {
      const key = await call('/v1/push/vapid-public-key');
      assert.equal(key.status, 200);
      assert.deepEqual(await key.json(), { publicKey: vapid.publicKey });
      const sw = await call('/tend-sw.js');
      assert.equal(sw.status, 200);
      assert.match(sw.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.match(await sw.text(), /showNotification/);
    });

    it('a subscription from an anonymous visitor, then signed in: stored for the known profile, with push consent', async () => {
      const sub = browserSubscription();
      assert.equal((await subscribe({ ...sub, anonymousId: 'anon-1' }, 'wk_wrong')).status, 401);
      const anonymous = await subscribe({ ...sub, anonymousId: 'anon-1' });
      assert.equal(anonymous.status, 200, await anonymous.clone().text());
      const row = async () => (await server.tend.db.query<{ contact_id: number; keys: unknown; user_agent: string }>(`select contact_id, keys, user_agent from push_subscriptions where workspace_id = $1 and endpoint = $2`, [ws.id, sub.endpoint])).rows[0];
      const first = await row();
      assert.deepEqual(first?.keys, sub.keys);
      assert.match(first?.user_agent ?? '', /Chrome/);
      // Signing in merges the visitor into the customer; subscribing again (tend.push.subscribe sends both ids) keeps one row.
      const known = await subscribe({ ...sub, anonymousId: 'anon-1', userId: 'ann' });
      assert.equal(known.status, 200);
      const ann = await server.tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = 'ann'`, [ws.id]);
      const annId = Number(ann.rows[0]!.id);
      assert.equal(Number((await row())?.contact_id), annId);
      const rows = await server.tend.db.query<{ n: number }>(`select count(*)::int as n from push_subscriptions where workspace_id = $1`, [ws.id]);
      assert.equal(rows.rows[0]!.n, 1);
      const consent = await server.tend.db.query<{ granted: boolean; source: string }>(`select granted, source from contact_consents where workspace_id = $1 and contact_id = $2 and channel = 'push' and topic = '*'`, [ws.id, annId]);
      assert.deepEqual({ ...consent.rows[0] }, { granted: true, source: 'push-subscribe' });
      assert.equal((await eventsOf(server.tend, ws.id, annId, ['Push Subscribed'])).length, 2, 'one per identity the browser was known by');

      // A journey's push goes to that browser; its service worker's receipt records the delivery, once.
      const [message] = await sendThrough(server.tend, ws.id, 'push', ['ann']);
      assert.equal(message!.address, sub.endpoint);
      const preflight = await call('/hooks/push/receipt', { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      const receipt = await call('/hooks/push/receipt', { body: { id: message!.idempotency_key, event: 'shown' }, headers: { origin: 'https://shop.example' } });
      assert.equal(receipt.status, 200, await receipt.clone().text());
      assert.equal(receipt.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await receipt.json(), { success: true, received: 1, applied: 1, ignored: 0, events: 1, duplicates: 0 });
      const again = await call('/hooks/push/receipt', { body: { id: message!.idempotency_key, event: 'shown' } });
      assert.equal(((await again.json()) as { duplicates: number }).duplicates, 1);
      assert.equal((await eventsOf(server.tend, ws.id, annId, ['Message Delivered'])).length, 1);
      const madeUp = await call('/hooks/push/receipt', { body: { id: 'f'.repeat(32), event: 'shown' } });
      assert.deepEqual(await madeUp.json(), { success: true, received: 1, applied: 0, ignored: 1, events: 0, duplicates: 0 });
      const bad = await call('/hooks/push/receipt', { body: { id: '<script>', event: 'shown' } });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { field: string }).field, 'id');

      // Unsubscribing forgets the browser.
      const gone = await call('/v1/push/unsubscribe', { body: { endpoint: sub.endpoint }, headers: { authorization: basic(ws.writeKey) } });
      assert.deepEqual(await gone.json(), { success: true, removed: true });
      assert.equal(await row(), undefined);
    });

    it('a malformed subscription gets a 400 naming the field', async () => {
      const sub = browserSubscription();
      const cases: [unknown, string][] = [
        [{ ...sub, keys: { ...sub.keys, p256dh: 'abc' }, userId: 'ann' }, 'body.keys.p256dh'],
        [{ ...sub, keys: { p256dh: sub.keys.p256dh }, userId: 'ann' }, 'body.keys.auth'],
        [{ ...sub, endpoint: 'http://127.0.0.1:9/push', userId: 'ann' }, 'body.endpoint'],
        [{ ...sub }, 'body.userId'],
      ];
      for (const [body, field] of cases) {
        const r = await subscribe(body);
        assert.equal(r.status, 400, field);
        assert.equal(((await r.json()) as { field: string }).field, field);
      }
      const malformed = await fetch(`${server.url}/v1/push/subscribe`, { method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' }, body: '{"endpoint":' });
      assert.equal(malformed.status, 400);
    });

    it('print: the vendor reports a returned letter (a hard bounce of the postal address) and a delivered one', async () => {
      const address = (city: string) => ({ line1: 'ul. Długa 5', city, postal_code: '00-238', country: 'PL' });
      await server.tend.ingest.ingest(ws.id, [
        { type: 'identify', userId: 'pia', traits: { first_name: 'Pia', address: address('Warszawa'), consent: { print: true } } },
        { type: 'identify', userId: 'rob', traits: { first_name: 'Rob', address: address('Kraków'), consent: { print: true } } },
      ]);
      const [pia, rob] = await sendThrough(server.tend, ws.id, 'print', ['pia', 'rob']);
      const body = { events: [
        { piece_id: pia!.idempotency_key, status: 'mailed', occurred_at: '2026-03-03T08:00:00Z' },
        { piece_id: pia!.idempotency_key, status: 'returned', reason: 'addressee unknown', occurred_at: '2026-03-09T10:00:00Z' },
        { piece_id: rob!.idempotency_key, status: 'delivered', occurred_at: '2026-03-05T10:00:00Z' },
      ] };
      assert.equal((await call('/hooks/print', { body })).status, 401);
      const r = await call(`/hooks/print?token=${ws.token}`, { body });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal((await suppressions(server.tend, ws.id))[`print:${pia!.address}`], 'hard_bounce');
      const bounced = await eventsOf(server.tend, ws.id, pia!.contact_id, ['Message Bounced']);
      assert.equal(bounced[0]?.properties.reason, 'addressee unknown');
      assert.equal((await eventsOf(server.tend, ws.id, rob!.contact_id, ['Message Delivered'])).length, 1);
      const bad = await call(`/hooks/print?token=${ws.token}`, { body: { events: [{ piece_id: 'x', status: 'lost' }] } });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { field: string }).field, 'events.0.status');
    });

    it('GET /api/hooks shows the token and the URLs to give each provider; Twilio without its auth token is refused', async () => {
      const r = await call('/api/hooks', { headers: { authorization: `Bearer ${ws.adminToken}` } });
      assert.equal(r.status, 200);
      const hooks = (await r.json()) as { token: string; urls: Record<string, string> };
      assert.equal(hooks.token, ws.token);
      assert.equal(hooks.urls.postmark, `${server.url}/hooks/email/postmark?token=${encodeURIComponent(ws.token)}`);
      assert.equal(hooks.urls.twilio, `${server.url}/hooks/sms/twilio?workspace=${ws.id}`);
      assert.equal((await call('/api/hooks')).status, 401);
      const twilio = await fetch(`${server.url}/hooks/sms/twilio`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'MessageSid=SM1&From=%2B48500100200&Body=STOP' });
      assert.equal(twilio.status, 401);
      assert.match(await twilio.text(), /TEND_TWILIO_AUTH_TOKEN is not set/);
    });
  });
}
