import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launchBrowser, localContext, screenshot, signIn, skipWithoutChromium, watch } from './browser.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_EVENT = '<script>alert("event")</script> Clicked';

describe('web app in a browser', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer(testDatabases()[0]!);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const send = (writeKey: string, batch: unknown[]) => server.send(writeKey, batch);
  const admin = (token: string, path: string) => server.admin(token, 'GET', path);

  /** A workspace with a small shop's worth of data, one of the contacts hostile. */
  async function shop() {
    const ws = await server.workspace();
    // The anonymous visit and the sign-up travel in separate requests, as they do from a browser.
    await send(ws.writeKey, [
      { type: 'page', anonymousId: 'anon-7', name: 'Home' },
      { type: 'track', anonymousId: 'anon-7', event: 'Product Viewed', properties: { sku: 'KTL-1', name: 'Kettle', category: 'Kitchen', price: 40 } },
    ]);
    await send(ws.writeKey, [
      {
        type: 'identify', anonymousId: 'anon-7', userId: 'shopper-1',
        traits: { first_name: HOSTILE, email: 'ann@gmial.com', plan: 'gold', [HOSTILE]: 'hostile key', consent: { email: true, sms: false } },
        context: { timezone: 'Europe/Warsaw', locale: 'pl-PL' },
      },
      { type: 'track', userId: 'shopper-1', event: HOSTILE_EVENT, properties: { note: HOSTILE } },
      { type: 'track', userId: 'shopper-1', event: 'Product Added', properties: { cart_id: 'cart-9', sku: 'FLT-2', name: 'Filter pack', category: 'Spare parts', price: 12.5, quantity: 2 } },
      { type: 'track', userId: 'shopper-1', event: 'Order Completed', properties: { order_id: 'ord-1001', total: 52.5, currency: 'EUR', products: [{ sku: 'KTL-1', price: 40, quantity: 1 }, { sku: 'FLT-2', price: 12.5, quantity: 1 }] } },
      { type: 'identify', userId: 'someone-else', traits: { first_name: 'Bob', email: 'info@example.com' } },
      { type: 'page', anonymousId: 'anon-8', name: 'Pricing' },
    ]);
    return ws;
  }

  const open = (token: string, hash = '') => signIn(browser, server.url, token, hash);

  const statValue = (page: Page, label: string) => page.locator(`[data-stat="${label}"] .stat-value`).innerText();

  it('signs in with the admin token and shows the overview counts, and signs out', async () => {
    const ws = await shop();
    const stats = (await admin(ws.adminToken, '/api/stats')).body;
    const { page, problems, close } = await open(ws.adminToken);
    assert.equal(await page.locator('.workspace-name').innerText(), 'test');
    await page.waitForSelector('.stats');
    assert.equal(await statValue(page, 'Contacts'), String(stats.contacts));
    assert.equal(await statValue(page, 'Known contacts'), '2');
    assert.equal(await statValue(page, 'Events'), String(stats.events));
    assert.equal(await statValue(page, 'Orders'), '1');
    assert.equal(await statValue(page, 'Products'), '2');
    assert.equal(await statValue(page, 'Open carts'), String(stats.openCarts));
    assert.match(await statValue(page, 'Revenue'), /€\s?52\.50|52\.50\s?€/);
    assert.match(await page.locator('[data-section=latest-events]').innerText(), /Viewed page Pricing/);
    await screenshot(page, 'overview');

    // The token is kept: a reload opens the workspace again without asking.
    await page.reload();
    await page.waitForSelector('.stats');
    await page.click('[data-sign-out]');
    await page.waitForSelector('input[name=token]');
    assert.equal(await page.evaluate(() => localStorage.getItem('tend.adminToken')), null);
    assert.deepEqual(problems, []);
    await close();
  });

  it('refuses a wrong token with a clear error and keeps nothing', async () => {
    const { context, problems } = await localContext(browser);
    const page = await context.newPage();
    watch(page, problems);
    await page.goto(server.url);
    await page.click('button[type=submit]');
    assert.match(await page.locator('.form-error').innerText(), /Paste the admin token/);
    await page.fill('input[name=token]', 'tat_not-a-real-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.form-error:not([hidden])');
    await page.waitForFunction(() => /not accepted/.test(document.querySelector('.form-error')?.textContent ?? ''));
    assert.equal(await page.evaluate(() => localStorage.getItem('tend.adminToken')), null);
    assert.equal(await page.locator('.workspace-name').count(), 0);
    await screenshot(page, 'sign-in-error');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('finds a contact by search and shows profile, consent, orders and events, hostile strings as text', async () => {
    const ws = await shop();
    const { page, problems, close } = await open(ws.adminToken, '#/contacts');
    await page.waitForSelector('.results table');
    assert.equal(await page.locator('.results tbody tr').count(), 3);
    await screenshot(page, 'contacts');
    await page.fill('input[name=q]', 'gmial');
    await page.waitForFunction(() => document.querySelectorAll('.results tbody tr').length === 1);
    assert.match(page.url(), /#\/contacts\?q=gmial$/);
    const row = page.locator('.results tbody tr');
    assert.equal(await row.locator('strong').first().innerText(), HOSTILE);
    assert.match(await row.innerText(), /Possible typo/);
    await row.locator('td').nth(3).click(); // anywhere on the row opens the contact

    await page.waitForSelector('.timeline-item');
    assert.match(page.url(), /#\/contacts\/\d+$/);
    assert.equal(await page.locator('h1').innerText(), HOSTILE);
    const profile = await page.locator('[data-section=profile]').innerText();
    assert.match(profile, /shopper-1/);
    assert.match(profile, /ann@gmial\.com/);
    assert.match(profile, /Did you mean ann@gmail\.com\?/);
    assert.match(profile, /Europe\/Warsaw/);
    assert.match(profile, /pl-PL/);
    const traits = await page.locator('[data-section=traits]').innerText();
    assert.ok(traits.includes(HOSTILE), traits);
    assert.match(traits, /gold/);
    const consent = await page.locator('[data-section=consent]').innerText();
    assert.match(consent, /email\s+\S+\s+Granted/);
    assert.match(consent, /sms\s+\S+\s+Refused/);
    assert.match(await page.locator('[data-section=anonymous-ids]').innerText(), /anon-7/);
    const orders = await page.locator('[data-section=orders]').innerText();
    assert.match(orders, /ord-1001/);
    assert.match(orders, /Kettle/);
    assert.match(orders, /€\s?52\.50|52\.50\s?€/);
    assert.match(await page.locator('[data-section=carts]').innerText(), /cart-9[\s\S]*FLT-2/);
    const activity = await page.locator('[data-section=activity]').innerText();
    assert.ok(activity.includes(HOSTILE_EVENT), activity);
    assert.match(activity, /Order Completed/);
    assert.match(activity, /Viewed page Home/);
    await page.locator('.timeline-item', { hasText: HOSTILE_EVENT }).locator('summary').click();
    assert.ok((await page.locator('.timeline-item', { hasText: HOSTILE_EVENT }).innerText()).includes(HOSTILE));

    // Nothing hostile became markup: no <img>, no <script> inside the app, no dialog.
    assert.equal(await page.locator('#app img').count(), 0);
    assert.equal(await page.locator('#app script').count(), 0);
    await screenshot(page, 'contact');

    // The address is the state: a reload shows the same contact.
    await page.reload();
    await page.waitForSelector('.timeline-item');
    assert.equal(await page.locator('h1').innerText(), HOSTILE);
    assert.deepEqual(problems, []);
    await close();
  });

  it('exports a contact as JSON and erases it after a confirmation', async () => {
    const ws = await shop();
    const id = ((await admin(ws.adminToken, '/api/contacts/by-user/shopper-1')).body as { id: number }).id;
    const { page, problems, close } = await open(ws.adminToken, `#/contacts/${id}`);
    await page.waitForSelector('[data-action=export]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=export]')]);
    assert.equal(download.suggestedFilename(), `tend-contact-${id}-export.json`);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8')) as { contact: { userId: string }; events: unknown[]; orders: unknown[] };
    assert.equal(exported.contact.userId, 'shopper-1');
    assert.ok(exported.events.length >= 5);
    assert.equal(exported.orders.length, 1);

    await page.click('[data-action=erase]');
    await page.waitForSelector('dialog.modal[open]');
    assert.ok((await page.locator('dialog.modal h2').innerText()).includes(HOSTILE));
    await screenshot(page, 'erase-dialog');
    await page.click('dialog.modal button[value=cancel]');
    await page.waitForSelector('dialog.modal', { state: 'detached' });
    assert.equal((await admin(ws.adminToken, `/api/contacts/${id}`)).status, 200);

    await page.click('[data-action=erase]');
    await page.click('dialog.modal button[value=confirm]');
    await page.waitForURL(/#\/contacts$/);
    assert.equal(await page.locator('.toast', { hasText: 'was erased' }).innerText(), `${HOSTILE} was erased`);
    assert.equal((await admin(ws.adminToken, `/api/contacts/${id}`)).status, 404);
    assert.equal((await admin(ws.adminToken, '/api/orders/ord-1001')).status, 404);
    await page.waitForSelector('.results table');
    assert.doesNotMatch(await page.locator('.results').innerText(), /shopper-1/);

    // The erased contact's page now says so, readably.
    await page.goto(`${server.url}/#/contacts/${id}`);
    await page.waitForSelector('.state:not(.loading)');
    assert.match(await page.locator('.state').innerText(), new RegExp(`no contact #${id}`));
    assert.deepEqual(problems, []);
    await close();
  });

  it('lists products by category, orders with their items, and events by name', async () => {
    const ws = await shop();
    const { page, problems, close } = await open(ws.adminToken, '#/products');
    await page.waitForSelector('.results table');
    assert.equal(await page.locator('.results tbody tr').count(), 2);
    await page.waitForSelector('select[name=category] option[value="Spare parts"]', { state: 'attached' });
    await page.selectOption('select[name=category]', 'Spare parts');
    await page.waitForFunction(() => document.querySelectorAll('.results tbody tr').length === 1);
    assert.match(await page.locator('.results tbody').innerText(), /Filter pack[\s\S]*FLT-2/);
    assert.match(page.url(), /category=Spare\+parts/);
    await page.fill('input[name=q]', 'kettle');
    await page.waitForSelector('.results .state');
    await page.selectOption('select[name=category]', '');
    await page.waitForFunction(() => /Kettle/.test(document.querySelector('.results tbody')?.textContent ?? ''));
    await screenshot(page, 'products');

    await page.click('.nav-item[data-nav=orders]');
    await page.waitForSelector('.results table');
    assert.match(await page.locator('.results tbody').innerText(), /ord-1001[\s\S]*ann@gmial\.com[\s\S]*completed/);
    await screenshot(page, 'orders');
    await page.click('.results tbody tr >> text=ord-1001');
    await page.waitForSelector('[data-section=items] table');
    const items = await page.locator('[data-section=items]').innerText();
    assert.match(items, /Kettle[\s\S]*KTL-1/);
    assert.match(items, /Filter pack[\s\S]*FLT-2/);
    assert.match(await page.locator('[data-section=totals]').innerText(), /52\.50/);
    await screenshot(page, 'order');

    await page.click('.nav-item[data-nav=events]');
    await page.waitForSelector('.results table');
    assert.equal(await page.locator('.results tbody tr').count(), 8);
    await page.fill('input[name=name]', 'Order Completed');
    await page.waitForFunction(() => document.querySelectorAll('.results tbody tr').length === 1);
    assert.match(await page.locator('.results tbody').innerText(), /Order Completed[\s\S]*shopper-1/);
    await page.fill('input[name=name]', 'No such event');
    await page.waitForSelector('.results .state');
    assert.match(await page.locator('.results .state').innerText(), /No “No such event” events/);
    await page.fill('input[name=name]', '');
    await page.waitForSelector('.results table');
    await screenshot(page, 'events');

    await page.goto(`${server.url}/#/nowhere`);
    await page.waitForSelector('h1');
    assert.equal(await page.locator('h1').innerText(), 'Page not found');
    assert.deepEqual(problems, []);
    await close();
  });

  it('escapes every kind of hostile value in its HTML templates', async () => {
    const { context, problems } = await localContext(browser);
    const page = await context.newPage();
    watch(page, problems);
    await page.goto(`${server.url}/app/index.html`);
    const rendered = await page.evaluate(async (modulePath) => {
      const { html, mount, safeUrl } = await import(modulePath);
      const values = ['<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', "' onmouseover='alert(1)", '`${x}`', '&lt;b&gt;', '</textarea><script>alert(1)</script>'];
      const box = document.createElement('div');
      mount(box, html`<p title="${values[1]}" data-x='${values[2]}'>${values[0]}</p><ul>${values.map((v: string) => html`<li>${v}</li>`)}</ul>`);
      return {
        texts: Array.from(box.querySelectorAll('li'), (li) => li.textContent),
        title: box.querySelector('p')!.getAttribute('title'),
        dataX: box.querySelector('p')!.getAttribute('data-x'),
        elements: box.querySelectorAll('img, svg, script').length,
        urls: [safeUrl('javascript:alert(1)'), safeUrl('https://shop.example/p/1'), safeUrl('data:text/html,x'), safeUrl(42)],
      };
    }, '/app/lib/html.js');
    assert.deepEqual(rendered.texts, ['<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', "' onmouseover='alert(1)", '`${x}`', '&lt;b&gt;', '</textarea><script>alert(1)</script>']);
    assert.equal(rendered.title, '"><svg onload=alert(1)>');
    assert.equal(rendered.dataX, "' onmouseover='alert(1)");
    assert.equal(rendered.elements, 0);
    assert.deepEqual(rendered.urls, [null, 'https://shop.example/p/1', null, null]);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
