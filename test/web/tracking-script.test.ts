import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser, Page, Request } from 'playwright-core';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, basic, type TestServer } from '../helpers/server.ts';
import { eventually, launchBrowser, localContext, skipWithoutChromium, watch } from './browser.ts';

/**
 * A fake shop on 127.0.0.1 but another port than Tend, so every call is cross-origin as in
 * production. (A page that Playwright fulfils itself counts as public to Chromium, which then
 * refuses it any request to 127.0.0.1: a real local server avoids that.) Each page's <head> is
 * registered under its path.
 */
async function startShop() {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const head = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (head === undefined) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Kettle shop</title>${head}</head><body><h1>Kettles</h1></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url, pages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Contact = { id: number; userId: string | null; email: string | null; timezone: string | null; locale: string | null; anonymousIds: string[] };
type Event = { type: string; name: string | null; properties: Record<string, unknown> };

describe('tend.js in a browser', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  let shop: Awaited<ReturnType<typeof startShop>>;
  let SHOP: string;
  before(async () => {
    server = await startTestServer(testDatabases()[0]!);
    shop = await startShop();
    SHOP = shop.url;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await shop?.close();
    await server?.close();
  });

  const admin = async <T>(token: string, path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as T };
  };
  /** The contact known by a user id or an anonymous id, once it exists. */
  const contactOf = (token: string, id: string) =>
    eventually(async () => {
      const r = await admin<Contact>(token, `/api/contacts/by-user/${encodeURIComponent(id)}`);
      return r.status === 200 ? r.body : undefined;
    });
  const eventsOf = async (token: string, contactId: number) => (await admin<{ events: Event[] }>(token, `/api/contacts/${contactId}/events`)).body.events;

  /** Opens a shop page whose <head> holds `head`; returns the page and the /v1 requests it makes. */
  let pageCount = 0;
  async function shopPage(head: string, options: { query?: string } = {}) {
    const { context, problems } = await localContext(browser, { timezoneId: 'Europe/Warsaw', locale: 'pl-PL' });
    const path = `/shop/${++pageCount}`;
    shop.pages.set(path, head);
    const page = await context.newPage();
    watch(page, problems);
    const calls: Request[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${server.url}/v1/`) && r.method() === 'POST') calls.push(r);
    });
    await page.goto(`${SHOP}${path}${options.query ?? ''}`);
    await page.waitForFunction(() => typeof (window as unknown as { tend?: { version?: string } }).tend?.version === 'string');
    return { page, context, problems, calls, path };
  }
  const tag = (writeKey: string, attrs = '') => `<script async src="${server.url}/tend.js" data-write-key="${writeKey}"${attrs}></script>`;
  const run = (page: Page, code: string) => page.evaluate(code);

  it('sends a page view on load, then track and identify, and merges the visitor into the known profile', async () => {
    const ws = await server.workspace();
    const { page, context, problems, calls, path } = await shopPage(tag(ws.writeKey), { query: '?utm_source=news' });
    const anonymousId = (await run(page, 'tend.anonymousId()')) as string;
    assert.match(anonymousId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(await run(page, 'localStorage.getItem("tend_aid")'), anonymousId);
    assert.ok(((await run(page, 'document.cookie')) as string).includes(`tend_aid=${anonymousId}`));

    const visitor = await contactOf(ws.adminToken, anonymousId);
    assert.equal(visitor.userId, null);
    const [view] = await eventsOf(ws.adminToken, visitor.id);
    assert.equal(view!.type, 'page');
    assert.equal(view!.properties.path, path);
    assert.equal(view!.properties.search, '?utm_source=news');
    assert.equal(view!.properties.title, 'Kettle shop');
    assert.equal(view!.properties.url, `${SHOP}${path}?utm_source=news`);

    await run(page, `tend.track('Product Added', { cart_id: 'cart-1', sku: 'KTL-1', name: 'Steel kettle', price: 40, quantity: 1 }); tend.flush()`);
    await run(page, `tend.identify('shopper-42', { email: 'ann@example.com', first_name: 'Ann' }); tend.flush()`);
    assert.equal(await run(page, 'tend.userId()'), 'shopper-42');

    const known = await contactOf(ws.adminToken, 'shopper-42');
    // The visitor's profile was merged into the known one: the anonymous id now leads there.
    assert.deepEqual(known.anonymousIds, [anonymousId]);
    assert.equal((await contactOf(ws.adminToken, anonymousId)).id, known.id);
    assert.equal(known.email, 'ann@example.com');
    assert.equal(known.timezone, 'Europe/Warsaw');
    assert.equal(known.locale, 'pl-PL');
    assert.deepEqual((await eventsOf(ws.adminToken, known.id)).map((e) => e.name ?? e.type), ['identify', 'Product Added', 'page']);
    const { carts } = (await admin<{ carts: { cartId: string }[] }>(ws.adminToken, `/api/contacts/${known.id}/orders`)).body;
    assert.deepEqual(carts.map((c) => c.cartId), ['cart-1']);

    // Every call went to /v1/batch with the write key as the Basic-auth user name.
    assert.ok(calls.length >= 3);
    for (const call of calls) {
      assert.equal(new URL(call.url()).pathname, '/v1/batch');
      assert.equal(await call.headerValue('authorization'), basic(ws.writeKey));
    }
    const exported = (await admin<{ events: { type: string; message_id: string; context: Record<string, unknown> }[] }>(ws.adminToken, `/api/contacts/${known.id}/export`)).body;
    const ctx = exported.events.find((e) => e.type === 'track')!.context as { library: { name: string }; page: { path: string }; userAgent: string; timezone: string; locale: string };
    assert.equal(ctx.library.name, 'tend.js');
    assert.equal(ctx.page.path, path);
    assert.match(ctx.userAgent, /Chrome/);
    assert.equal(ctx.timezone, 'Europe/Warsaw');
    assert.equal(ctx.locale, 'pl-PL');
    assert.equal(new Set(exported.events.map((e) => e.message_id)).size, 3);

    // The next page load remembers who this is.
    await page.reload();
    await eventually(async () => ((await eventsOf(ws.adminToken, known.id)).length === 4 ? true : undefined));
    assert.equal((await admin<{ contacts: number }>(ws.adminToken, '/api/stats')).body.contacts, 1);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('hands what is still queued to sendBeacon, as text/plain with the write key inside, when the page is hidden', async () => {
    const ws = await server.workspace();
    const { page, context, problems } = await shopPage(tag(ws.writeKey, ' data-auto-page="false"'));
    const anonymousId = (await run(page, 'tend.anonymousId()')) as string;
    const beacon = page.waitForRequest((r) => r.url() === `${server.url}/v1/batch`);
    await run(page, `tend.track('Checkout Left', { step: 2 }); window.dispatchEvent(new Event('pagehide'))`);
    const request = await beacon;
    assert.match((await request.headerValue('content-type')) ?? '', /^text\/plain/);
    assert.equal(await request.headerValue('authorization'), null);
    const body = JSON.parse(request.postData()!) as { writeKey: string; batch: { event: string }[] };
    assert.equal(body.writeKey, ws.writeKey);
    assert.deepEqual(body.batch.map((m) => m.event), ['Checkout Left']);

    const visitor = await contactOf(ws.adminToken, anonymousId);
    assert.deepEqual((await eventsOf(ws.adminToken, visitor.id)).map((e) => [e.name, e.properties.step]), [['Checkout Left', 2]]);
    assert.equal((await admin<{ events: number }>(ws.adminToken, '/api/stats')).body.events, 1, 'no automatic page view');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('runs calls queued before it loaded (snippet style), and reset forgets the person', async () => {
    const ws = await server.workspace();
    const snippet = `<script>window.tend=window.tend||function(){(tend.q=tend.q||[]).push(arguments)};
      tend('track', 'Queued Event', { n: 1 });
      tend('init', ${JSON.stringify(ws.writeKey)}, { host: ${JSON.stringify(server.url)}, autoPage: false });</script>
      <script async src="${server.url}/tend.js"></script>`;
    const { page, context, problems } = await shopPage(snippet);
    await run(page, 'tend.flush()');
    await run(page, `tend('identify', 'queued-1', { plan: 'pro' }); tend.flush()`);
    const before = (await run(page, 'tend.anonymousId()')) as string;
    const known = await contactOf(ws.adminToken, 'queued-1');
    await eventually(async () => ((await eventsOf(ws.adminToken, known.id)).length === 2 ? true : undefined));
    assert.deepEqual((await eventsOf(ws.adminToken, known.id)).map((e) => e.name ?? e.type), ['identify', 'Queued Event']);

    await run(page, 'tend.reset()');
    assert.equal(await run(page, 'tend.userId()'), null);
    assert.equal(await run(page, 'localStorage.getItem("tend_uid")'), null);
    const after = (await run(page, 'tend.anonymousId()')) as string;
    assert.notEqual(after, before);
    await run(page, `tend.page('After sign-out'); tend.flush()`);
    const stranger = await contactOf(ws.adminToken, after);
    assert.notEqual(stranger.id, known.id);
    assert.equal(stranger.userId, null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('merges the page view of a visitor who identifies at once (page and identify in one batch)', async () => {
    const ws = await server.workspace();
    const snippet = `<script>window.tend=window.tend||function(){(tend.q=tend.q||[]).push(arguments)};
      tend('init', ${JSON.stringify(ws.writeKey)}, { host: ${JSON.stringify(server.url)} });
      tend('identify', 'fast-1');</script><script async src="${server.url}/tend.js"></script>`;
    const { page, context } = await shopPage(snippet);
    await run(page, 'tend.flush()');
    const known = await contactOf(ws.adminToken, 'fast-1');
    await context.close();
    assert.deepEqual((await eventsOf(ws.adminToken, known.id)).map((e) => e.type).sort(), ['identify', 'page']);
    assert.equal((await admin<{ contacts: number }>(ws.adminToken, '/api/stats')).body.contacts, 1);
  });
});
