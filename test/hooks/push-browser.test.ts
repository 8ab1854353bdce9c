import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { testDatabases } from '../helpers/db.ts';
import { eventually, launchBrowser, localContext, skipWithoutChromium, watch } from '../web/browser.ts';
import { generateVapidKeys } from '../../src/channels/push/config.ts';
import { startHooksServer, type HooksServer } from './helpers.ts';

const vapid = generateVapidKeys();

/**
 * A shop on another port than Tend (every call cross-origin, as in production). Its own
 * /tend-sw.js pulls in Tend's worker with importScripts, as docs/tracking-api.md shows.
 */
async function startShop(tendUrl: string, writeKey: string) {
  const server: Server = createServer((req, res) => {
    if (req.url === '/tend-sw.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(`importScripts('${tendUrl}/tend-sw.js');`);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><script src="${tendUrl}/tend.js" data-write-key="${writeKey}" data-auto-page="false"></script></head>
<body><button id="notify" onclick="window.result = tend.push.subscribe().then((s) => s && s.endpoint, (e) => 'error: ' + e.message)">Notify me</button></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Headless Chromium has no push service to subscribe at; the browser's side of PushManager is
// replaced by one that records the key it was given and answers as Chrome does.
const fakePushService = () => {
  const endpoint = 'https://fcm.googleapis.com/fcm/send/dGVzdA:APA91bHPRgkF3JUikC4ENAHEeMrd41Zxv3hVZjC9KtT8OvPVGJ-hQMRKRrZuJAEcl7B338qju59zJMjw2DELjzEvxwYv7hH5Ynpc1ODQ0aT4U4OFEeco8ohsN5PjL1iC2dNtk2BAokeMCg2ZXKqpc8FXKmhX94kIxQ';
  let subscription: unknown = null;
  const proto = (window as unknown as { PushManager: { prototype: Record<string, unknown> } }).PushManager.prototype;
  proto.getSubscription = async () => subscription;
  proto.subscribe = async (options: { applicationServerKey: Uint8Array }) => {
    (window as unknown as { pushKey: number[] }).pushKey = [...new Uint8Array(options.applicationServerKey)];
    subscription = {
      endpoint, options: { applicationServerKey: options.applicationServerKey.buffer }, unsubscribe: async () => true,
      toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' } }),
    };
    return subscription;
  };
};

describe('tend.push.subscribe in a browser', { skip: skipWithoutChromium }, () => {
  let server: HooksServer;
  let browser: Browser;
  before(async () => {
    server = await startHooksServer(testDatabases()[0]!, { config: { vapidPublicKey: vapid.publicKey } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('registers the service worker, subscribes with the VAPID key and stores the subscription for the visitor', async () => {
    const ws = await server.workspace();
    const shop = await startShop(server.url, ws.writeKey);
    const { context, problems } = await localContext(browser);
    try {
      await context.grantPermissions(['notifications'], { origin: shop.url });
      await context.addInitScript(fakePushService);
      const page = await context.newPage();
      watch(page, problems);
      await page.goto(`${shop.url}/`);
      await page.click('#notify');
      const endpoint = await page.evaluate(() => (window as unknown as { result: Promise<string> }).result);
      assert.match(endpoint, /^https:\/\/fcm\.googleapis\.com\/fcm\/send\//, endpoint);
      const key = await page.evaluate(() => (window as unknown as { pushKey: number[] }).pushKey);
      assert.deepEqual(Buffer.from(key).toString('base64url'), vapid.publicKey, 'subscribed with Tend’s VAPID key');
      const worker = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.active?.scriptURL);
      assert.equal(worker, `${shop.url}/tend-sw.js`);
      const row = await eventually(async () => {
        const { rows } = await server.tend.db.query<{ contact_id: number }>(`select contact_id from push_subscriptions where workspace_id = $1 and endpoint = $2`, [ws.id, endpoint]);
        return rows[0];
      });
      const anonymous = await page.evaluate(() => (window as unknown as { tend: { anonymousId(): string } }).tend.anonymousId());
      const alias = await server.tend.db.query<{ contact_id: number }>(`select contact_id from contact_aliases where workspace_id = $1 and alias_id = $2`, [ws.id, anonymous]);
      assert.equal(Number(row.contact_id), Number(alias.rows[0]!.contact_id), 'the subscription belongs to this visitor');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await shop.close();
    }
  });
});
