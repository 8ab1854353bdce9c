import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer } from '../helpers/server.ts';
import { startMailbox } from '../helpers/smtp.ts';
import { VirtualClock } from '../../src/core/clock.ts';

const mjml = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hi {{ contact.first_name | default: "there" }}, you left these in your cart:</mj-text>
<mj-raw>{% for item in cart.items %}</mj-raw>
<mj-text>{{ item.quantity }} × {{ item.name }} — {{ item.price | money: cart.currency }}</mj-text>
<mj-raw>{% endfor %}</mj-raw>
<mj-button href="https://shop.example/cart">Back to your cart</mj-button>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

export const abandonedCart = {
  name: 'Abandoned cart',
  trigger: { type: 'event', event: 'Product Added' },
  settings: { reentry: 'always', goal: { event: 'Order Completed', within: '7d' } },
  steps: [
    { id: 'wait-for-order', type: 'wait_for_event', event: 'Order Completed', matchTrigger: ['cart_id'], timeout: '1h', next: 'bought', timeoutNext: 'reminder' },
    { id: 'reminder', type: 'send', channel: 'email', content: { email: { subject: 'You left something behind, {{ contact.first_name }}', mjml } }, next: 'done' },
    { id: 'bought', type: 'exit' },
    { id: 'done', type: 'exit' },
  ],
};

for (const target of testDatabases()) {
  test(`abandoned cart end to end over HTTP, with one-click unsubscribe (${target.name})`, async () => {
    const clock = new VirtualClock('2026-03-02T10:00:00Z');
    const mailbox = await startMailbox();
    const server = await startTestServer(target, { clock, messaging: { providers: { email: mailbox.provider() } } });
    after(() => mailbox.close());
    try {
      const { writeKey, adminToken, id: ws } = await server.workspace();
      const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
        fetch(`${server.url}${path}`, {
          method: init.method ?? 'GET',
          headers: { authorization: `Bearer ${adminToken}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        });
      // No caps here: this test is about the cart, the purchase and the unsubscribe.
      assert.equal((await api('/api/messaging/policy', { method: 'PUT', body: { caps: [], quietHours: null } })).status, 200);
      const created = await api('/api/journeys', { method: 'POST', body: abandonedCart });
      assert.equal(created.status, 201, await created.clone().text());
      const { id } = (await created.json()) as { id: number };
      const published = await api(`/api/journeys/${id}/publish`, { method: 'POST' });
      assert.equal(published.status, 200, await published.clone().text());

      const at = (min: number) => new Date(Date.parse('2026-03-02T10:00:00Z') + min * 60_000).toISOString();
      await server.send(writeKey, [
        { type: 'identify', userId: 'ann', traits: { email: 'ann@example.com', first_name: 'Ann', consent: { email: true } }, timestamp: at(0) },
        { type: 'identify', userId: 'bob', traits: { email: 'bob@example.com', first_name: 'Bob', consent: { email: true } }, timestamp: at(0) },
        { type: 'track', userId: 'ann', event: 'Product Added', properties: { cart_id: 'cart-ann', sku: 'FLT-1', name: 'Water filter <3-pack>', price: 24.5, quantity: 2, currency: 'EUR' }, timestamp: at(1) },
        { type: 'track', userId: 'ann', event: 'Product Added', properties: { cart_id: 'cart-ann', sku: 'JUG-1', name: 'Filter jug', price: 30, quantity: 1, currency: 'EUR' }, timestamp: at(2) },
        { type: 'track', userId: 'bob', event: 'Product Added', properties: { cart_id: 'cart-bob', sku: 'JUG-1', name: 'Filter jug', price: 30, quantity: 1, currency: 'EUR' }, timestamp: at(2) },
        // Cid buys in the same request as he adds to the cart: before his run starts waiting.
        { type: 'identify', userId: 'cid', traits: { email: 'cid@example.com', consent: { email: true } }, timestamp: at(0) },
        { type: 'track', userId: 'cid', event: 'Product Added', properties: { cart_id: 'cart-cid', sku: 'JUG-1', name: 'Filter jug', price: 30, quantity: 1 }, timestamp: at(2) },
        { type: 'track', userId: 'cid', event: 'Order Completed', properties: { order_id: 'o-cid', cart_id: 'cart-cid', total: 30, products: [{ sku: 'JUG-1', price: 30, quantity: 1 }] }, timestamp: at(3) },
      ]);
      await server.tend.runner.drain();
      clock.advance(20 * 60_000);
      await server.send(writeKey, [
        { type: 'track', userId: 'bob', event: 'Order Completed', properties: { order_id: 'o-bob', cart_id: 'cart-bob', total: 30, currency: 'EUR', products: [{ sku: 'JUG-1', price: 30, quantity: 1 }] }, timestamp: at(20) },
      ]);
      await server.tend.runner.drain();
      await server.tend.delivery.drain();
      assert.equal(mailbox.received.length, 0, 'nothing is sent before the hour is up');

      clock.advance(45 * 60_000);
      await server.tend.runner.drain();
      await server.tend.delivery.drain();
      assert.equal(mailbox.received.length, 1, 'one reminder: Ann did not buy, Bob and Cid did');
      const mail = mailbox.received[0]!;
      assert.deepEqual(mail.to, ['ann@example.com']);
      assert.equal(mail.parsed.subject, 'You left something behind, Ann');
      const html = String(mail.parsed.html);
      assert.match(html, /2 × Water filter &lt;3-pack&gt;/, 'cart items, escaped');
      assert.match(html, /1 × Filter jug/);
      assert.match(String(mail.parsed.text), /Water filter <3-pack>/, 'a plain-text part');
      assert.doesNotMatch(html, /href="https:\/\/shop\.example/, 'links go through the signed redirect');
      assert.match(mail.parsed.messageId ?? '', /^<[0-9a-f]{32}@shop\.example>$/, 'Message-ID from the idempotency key');

      // The click redirect goes where the link pointed, with UTM tags; a tampered link goes nowhere.
      const click = /href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/[^"]+)"/.exec(html)![1]!;
      const redirect = await fetch(click, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      assert.match(redirect.headers.get('location')!, /^https:\/\/shop\.example\/cart\?utm_source=tend&utm_medium=email/);
      const tampered = await fetch(click.slice(0, -3) + (click.endsWith('AAA') ? 'BBB' : 'AAA'), { redirect: 'manual' });
      assert.equal(tampered.status, 400);
      assert.equal(tampered.headers.get('location'), null);

      // One-click unsubscribe (RFC 8058) from the header.
      const rawHeader = (name: string) => mail.parsed.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '').replace(/\r?\n\s+/g, ' ');
      assert.equal(rawHeader('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
      const unsubscribeUrl = /<(http[^>]+)>/.exec(rawHeader('list-unsubscribe') ?? '')![1]!;
      const unsub = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      assert.equal(unsub.status, 200);

      // Ann abandons another cart: the journey runs, but no marketing email reaches her any more.
      clock.advance(60 * 60_000);
      await server.send(writeKey, [
        { type: 'track', userId: 'ann', event: 'Product Added', properties: { cart_id: 'cart-ann-2', sku: 'FLT-1', name: 'Water filter', price: 24.5, quantity: 1 }, timestamp: clock.now().toISOString() },
      ]);
      await server.tend.runner.drain();
      clock.advance(61 * 60_000);
      await server.tend.runner.drain();
      await server.tend.delivery.drain();
      assert.equal(mailbox.received.length, 1, 'no email after the unsubscribe');
      const contact = (await server.tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = 'ann'`, [ws])).rows[0]!;
      const log = (await (await api(`/api/contacts/${contact.id}/journeys`)).json()) as { runs: { state: string }[]; decisions: { reason: string }[] };
      assert.equal(log.runs.length, 2);
      assert.match(log.decisions[0]!.reason, /unreachable|consent|suppressed/);
      const events = (await server.tend.db.query<{ name: string }>(`select name from events where workspace_id = $1 and contact_id = $2 and name in ('Message Sent', 'Message Clicked', 'Message Opened', 'Unsubscribed') order by id`, [ws, contact.id])).rows.map((r) => r.name);
      assert.deepEqual(events, ['Message Sent', 'Message Clicked', 'Message Opened', 'Unsubscribed']);
    } finally {
      await server.close();
    }
  });
}
