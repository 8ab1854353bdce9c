import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, randomBytes, verify, type ECDH } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { generateVapidKeys, loadOrCreateVapidKeys, pushConfigFromEnv, type PushConfig } from '../../src/channels/push/config.ts';
import { createWebPushProvider, topicFor } from '../../src/channels/push/provider.ts';
import { serviceWorkerSource } from '../../src/channels/push/service-worker.ts';
import { parsePushReceipt } from '../../src/channels/push/webhooks.ts';
import type { OutgoingMessage } from '../../src/channels/port.ts';

/** http_ece (web-push's own encryption library) decrypts what a browser would. */
const ece = createRequire(import.meta.url)('http_ece') as { decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer };

type Seen = { url: string; headers: IncomingMessage['headers']; body: Buffer };

/** A push service on 127.0.0.1: takes messages at /push/ok, and answers as real services do on other paths. */
async function startPushService() {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const answers: Record<string, [number, Record<string, string>]> = {
        '/push/ok': [201, { location: `https://push.example/m/${seen.length}` }],
        '/push/gone': [410, {}],
        '/push/unknown': [404, {}],
        '/push/busy': [429, { 'retry-after': '30' }],
        '/push/down': [502, {}],
        '/push/bad-jwt': [403, {}],
      };
      const [status, headers] = answers[req.url ?? ''] ?? [400, {}];
      res.writeHead(status, headers);
      res.end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { origin: `http://127.0.0.1:${port}`, seen, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A browser's subscription: a real P-256 key pair and auth secret. */
function browser(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16).toString('base64url');
  return { ecdh, auth, subscription: { endpoint, keys: { p256dh: ecdh.getPublicKey('base64url'), auth } } };
}

function push(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }, key = '5eed5eed5eed5eed5eed5eed5eed5eed'): OutgoingMessage<'push'> {
  return {
    id: 'msg_p1',
    idempotencyKey: key,
    workspaceId: 'ws_test',
    channel: 'push',
    transactional: false,
    attempt: 1,
    payload: {
      subscription,
      notification: {
        title: 'Your cart misses you',
        body: 'The Merino jumper in your cart is almost sold out.',
        url: 'https://shop.example/t/c/abc?sig=1',
        image: 'https://shop.example/img/jumper.jpg',
        icon: 'https://shop.example/icon-192.png',
        actions: [
          { action: 'open-cart', title: 'Open cart', url: 'https://shop.example/t/c/cart?sig=2' },
          { action: 'later', title: 'Remind me later', url: 'https://shop.example/t/c/later?sig=3' },
        ],
      },
      ttl: 3600,
      urgency: 'high',
    },
  };
}

/** Checks an ES256 VAPID JWT with the VAPID public key and returns its claims. */
function vapidClaims(authorization: string, publicKey: string): Record<string, unknown> {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(authorization);
  assert.ok(m, authorization);
  assert.equal(m[2], publicKey);
  const [head, claims, signature] = m[1]!.split('.') as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(head, 'base64url').toString()), { typ: 'JWT', alg: 'ES256' });
  const raw = Buffer.from(publicKey, 'base64url');
  const key = { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') };
  assert.ok(verify('sha256', Buffer.from(`${head}.${claims}`), { key, format: 'jwk', dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')), 'the VAPID JWT signature verifies');
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
}

describe('web push provider', () => {
  let service: Awaited<ReturnType<typeof startPushService>>;
  let config: PushConfig;
  before(async () => {
    service = await startPushService();
    const keys = generateVapidKeys();
    const c = pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: keys.publicKey, TEND_VAPID_PRIVATE_KEY: keys.privateKey, TEND_VAPID_SUBJECT: 'mailto:ops@shop.example', TEND_PUBLIC_URL: 'https://tend.shop.example' });
    assert.ok(c);
    config = { ...c, allowPrivate: true };
  });
  after(() => service.close());

  it('sends an encrypted aes128gcm message with VAPID, TTL, urgency and a topic from the idempotency key', async () => {
    const b = browser(`${service.origin}/push/ok`);
    const m = push(b.subscription);
    const result = await createWebPushProvider(config).send(m);
    assert.deepEqual(result, { status: 'accepted', providerMessageId: 'https://push.example/m/1', detail: 'HTTP 201' });
    const req = service.seen.at(-1)!;
    assert.equal(req.headers.ttl, '3600');
    assert.equal(req.headers.urgency, 'high');
    assert.equal(req.headers.topic, m.idempotencyKey);
    assert.equal(req.headers['content-encoding'], 'aes128gcm');
    const claims = vapidClaims(String(req.headers.authorization), config.publicKey);
    assert.equal(claims.aud, service.origin);
    assert.equal(claims.sub, 'mailto:ops@shop.example');
    assert.ok(Number(claims.exp) > Date.now() / 1000 && Number(claims.exp) <= Date.now() / 1000 + 24 * 3600);
    const decrypted = JSON.parse(ece.decrypt(req.body, { version: 'aes128gcm', privateKey: b.ecdh, authSecret: b.auth }).toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(decrypted, { ...m.payload.notification, id: m.idempotencyKey, tag: m.idempotencyKey, receipt: 'https://tend.shop.example/hooks/push/receipt' });
  });

  it('sends the same topic on a retry, so the push service replaces rather than duplicates', async () => {
    const b = browser(`${service.origin}/push/ok`);
    const provider = createWebPushProvider(config);
    const long = 'k'.repeat(40) + ':' + 'x'.repeat(20);
    await provider.send(push(b.subscription, long));
    await provider.send({ ...push(b.subscription, long), attempt: 2 });
    const [a, c] = service.seen.slice(-2);
    assert.equal(a!.headers.topic, c!.headers.topic);
    assert.equal(a!.headers.topic, topicFor(long));
    assert.match(topicFor(long), /^[A-Za-z0-9_-]{32}$/);
  });

  it('suppresses gone subscriptions (404, 410) and retries 429 and 5xx', async () => {
    const provider = createWebPushProvider(config);
    const outcome = (path: string) => provider.send(push(browser(`${service.origin}${path}`).subscription));
    for (const path of ['/push/gone', '/push/unknown']) {
      const r = await outcome(path);
      assert.deepEqual([r.status, r.status === 'failed' && r.suppress], ['failed', 'subscription_gone'], path);
    }
    const busy = await outcome('/push/busy');
    assert.deepEqual([busy.status, busy.status === 'retry' && busy.retryAfterMs], ['retry', 30_000]);
    assert.equal((await outcome('/push/down')).status, 'retry');
    const forbidden = await outcome('/push/bad-jwt');
    assert.deepEqual([forbidden.status, forbidden.status === 'failed' && forbidden.suppress], ['failed', undefined]);
  });

  it('fails a subscription whose keys are not a P-256 point, and a notification too large for push', async () => {
    const provider = createWebPushProvider(config);
    const broken = await provider.send(push({ endpoint: `${service.origin}/push/ok`, keys: { p256dh: 'AAAA', auth: 'BBBB' } }));
    assert.deepEqual([broken.status, broken.status === 'failed' && broken.suppress], ['failed', 'subscription_gone']);
    const big = push(browser(`${service.origin}/push/ok`).subscription);
    big.payload.notification.body = 'x'.repeat(5000);
    const tooBig = await provider.send(big);
    assert.equal(tooBig.status, 'failed');
    assert.match(tooBig.status === 'failed' ? tooBig.error : '', /bytes/);
  });

  it('refuses an endpoint on a private address by default without connecting', async () => {
    const before = service.connections();
    const r = await createWebPushProvider({ ...config, allowPrivate: false }).send(push(browser(`${service.origin}/push/ok`).subscription));
    assert.equal(r.status, 'failed');
    assert.equal(service.connections(), before);
  });
});

describe('web push configuration', () => {
  it('is absent without VAPID variables, and names the one that is missing or wrong', () => {
    const keys = generateVapidKeys();
    const other = generateVapidKeys();
    assert.equal(pushConfigFromEnv({}), undefined);
    assert.throws(() => pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: keys.publicKey, TEND_VAPID_SUBJECT: 'mailto:a@b.example' }), /TEND_VAPID_PRIVATE_KEY is required/);
    assert.throws(() => pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: keys.publicKey, TEND_VAPID_PRIVATE_KEY: keys.privateKey, TEND_VAPID_SUBJECT: 'ops@shop.example' }), /TEND_VAPID_SUBJECT is not valid/);
    assert.throws(() => pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: 'short', TEND_VAPID_PRIVATE_KEY: keys.privateKey, TEND_VAPID_SUBJECT: 'https://shop.example' }), /TEND_VAPID_PUBLIC_KEY is not valid/);
    assert.throws(() => pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: other.publicKey, TEND_VAPID_PRIVATE_KEY: keys.privateKey, TEND_VAPID_SUBJECT: 'https://shop.example' }), /not the public key of TEND_VAPID_PRIVATE_KEY/);
  });

  it('creates VAPID keys on first start and keeps them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tend-vapid-'));
    try {
      const file = join(dir, 'keys', 'vapid.json');
      const first = await loadOrCreateVapidKeys(file);
      const second = await loadOrCreateVapidKeys(file);
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.deepEqual([second.publicKey, second.privateKey], [first.publicKey, first.privateKey]);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.ok(pushConfigFromEnv({ TEND_VAPID_PUBLIC_KEY: first.publicKey, TEND_VAPID_PRIVATE_KEY: first.privateKey, TEND_VAPID_SUBJECT: 'mailto:ops@shop.example' }));
      assert.match(await readFile(file, 'utf8'), /"publicKey"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the service worker', () => {
  /** Runs the worker's source in a sandbox with the few browser APIs it uses. */
  function load() {
    const listeners: Record<string, (event: unknown) => void> = {};
    const shown: { title: string; options: Record<string, unknown> }[] = [];
    const opened: string[] = [];
    const fetched: { url: string; init: { body: string } }[] = [];
    const waits: Promise<unknown>[] = [];
    const self = {
      location: { origin: 'https://shop.example' },
      addEventListener: (type: string, fn: (event: unknown) => void) => (listeners[type] = fn),
      skipWaiting: () => undefined,
      registration: { showNotification: async (title: string, options: Record<string, unknown>) => void shown.push({ title, options }) },
      clients: { claim: async () => undefined, matchAll: async () => [{ url: 'https://shop.example/other', focus: async () => undefined }], openWindow: async (url: string) => void opened.push(url) },
    };
    const fetch = async (url: string, init: { body: string }) => void fetched.push({ url, init });
    vm.runInNewContext(serviceWorkerSource, { self, fetch, URL, JSON, Promise, Array });
    const event = (extra: object) => ({ waitUntil: (p: Promise<unknown>) => waits.push(p), ...extra });
    return { listeners, shown, opened, fetched, event, settle: () => Promise.all(waits) };
  }

  it('shows the notification with image and actions, and reports it shown', async () => {
    const sw = load();
    const message = { title: 'Your cart', body: 'Still there', url: 'https://shop.example/t/c/1', image: 'https://shop.example/i.jpg', icon: 'https://shop.example/icon.png', actions: [{ action: 'cart', title: 'Open cart', url: 'https://shop.example/t/c/2' }], id: 'abc123', tag: 'abc123', receipt: 'https://tend.shop.example/hooks/push/receipt' };
    sw.listeners.push!(sw.event({ data: { json: () => message } }));
    await sw.settle();
    assert.equal(sw.shown.length, 1);
    const { title, options } = sw.shown[0]!;
    assert.equal(title, 'Your cart');
    assert.equal(options.body, 'Still there');
    assert.equal(options.image, 'https://shop.example/i.jpg');
    assert.equal(options.icon, 'https://shop.example/icon.png');
    assert.equal(options.tag, 'abc123');
    assert.deepEqual(JSON.parse(JSON.stringify(options.actions)), [{ action: 'cart', title: 'Open cart' }]);
    assert.equal(sw.fetched[0]!.url, 'https://tend.shop.example/hooks/push/receipt');
    assert.deepEqual(parsePushReceipt(JSON.parse(sw.fetched[0]!.init.body)), { ok: true, value: { type: 'delivered', channel: 'push', idempotencyKey: 'abc123', reason: 'shown by the browser', occurredAt: undefined } });
  });

  it('opens the notification URL on a click, or the clicked action URL; never a javascript: URL', async () => {
    const sw = load();
    const data = { id: 'abc123', url: 'https://shop.example/t/c/1', actions: { cart: 'https://shop.example/t/c/2' } };
    let closed = 0;
    const notification = { data, close: () => closed++ };
    sw.listeners.notificationclick!(sw.event({ notification, action: '' }));
    sw.listeners.notificationclick!(sw.event({ notification, action: 'cart' }));
    await sw.settle();
    assert.deepEqual(sw.opened, ['https://shop.example/t/c/1', 'https://shop.example/t/c/2']);
    assert.equal(closed, 2);

    const evil = load();
    evil.listeners.push!(evil.event({ data: { json: () => ({ title: 'x', url: 'javascript:alert(1)', id: 'k' }) } }));
    await evil.settle();
    evil.listeners.notificationclick!(evil.event({ notification: { data: evil.shown[0]!.options.data, close: () => undefined }, action: '' }));
    await evil.settle();
    assert.deepEqual(evil.opened, []);
  });

  it('refuses a receipt that is not one', () => {
    assert.equal(parsePushReceipt({ id: 'abc', event: 'clicked' }).ok, false);
    assert.equal(parsePushReceipt({ event: 'shown' }).ok, false);
  });
});
