import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { webhookConfigFromEnv, type WebhookConfig } from '../../src/channels/webhook/config.ts';
import { createWebhookProvider } from '../../src/channels/webhook/provider.ts';
import { signWebhook, verifySignature } from '../../src/channels/webhook/webhooks.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import type { OutgoingMessage } from '../../src/channels/port.ts';

const SECRET = 'whsec_0123456789abcdef0123';
const clock = new VirtualClock('2026-03-02T10:00:00Z');
const NOW = Math.floor(clock.now().getTime() / 1000);

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string; verified: boolean };

/** A receiver that verifies Tend's signature the way docs/channels.md tells receivers to. */
async function startReceiver() {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verifySignature(SECRET, req.headers['tend-signature'] as string | undefined, body, 300, NOW);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, verified });
      const path = req.url ?? '';
      if (path === '/hang') return; // never answers
      if (path === '/moved') {
        res.writeHead(301, { location: 'http://169.254.169.254/' });
        return res.end();
      }
      const status = /^\/status\/(\d+)$/.exec(path)?.[1];
      res.writeHead(status ? Number(status) : verified ? 200 : 401, status === '429' ? { 'retry-after': '42' } : {});
      res.end(verified ? 'thanks' : 'bad signature');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections, close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); } };
}

function hook(url: string, headers: Record<string, string> = {}): OutgoingMessage<'webhook'> {
  return {
    id: 'msg_w1',
    idempotencyKey: 'beefbeefbeefbeefbeefbeefbeefbeef',
    workspaceId: 'ws_test',
    channel: 'webhook',
    transactional: false,
    attempt: 1,
    payload: { url, method: 'POST', headers, body: JSON.stringify({ event: 'cart.abandoned', contact: { email: 'zoë@example.com' }, total: 129.9 }) },
  };
}

describe('webhook provider', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let config: WebhookConfig;
  before(async () => {
    receiver = await startReceiver();
    config = { ...webhookConfigFromEnv({ TEND_WEBHOOK_SECRET: SECRET, TEND_WEBHOOK_ALLOW_PRIVATE: 'true', TEND_WEBHOOK_TIMEOUT_MS: '300' })! };
  });
  after(() => receiver.close());

  it('posts the body with a verifiable signature, the idempotency key and the step headers', async () => {
    const m = hook(`${receiver.url}/hooks/tend`, { 'X-Partner-Token': 'abc', 'Content-Type': 'text/plain', Host: 'evil.example', 'Tend-Signature': 'forged' });
    const result = await createWebhookProvider(config, { clock }).send(m);
    assert.deepEqual(result, { status: 'accepted', detail: 'HTTP 200' });
    const req = receiver.seen.at(-1)!;
    assert.equal(req.verified, true);
    assert.equal(req.body, m.payload.body);
    assert.equal(req.headers['idempotency-key'], m.idempotencyKey);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-partner-token'], 'abc');
    assert.equal(req.headers.host, receiver.url.replace('http://', ''));
    assert.match(String(req.headers['tend-signature']), new RegExp(`^t=${NOW},v1=[0-9a-f]{64}$`));
  });

  it('maps 408, 429 (with Retry-After) and 5xx to retry, other 4xx and redirects to failed', async () => {
    const provider = createWebhookProvider(config, { clock });
    const outcome = async (path: string) => provider.send(hook(`${receiver.url}${path}`));
    assert.equal((await outcome('/status/408')).status, 'retry');
    const limited = await outcome('/status/429');
    assert.deepEqual([limited.status, limited.status === 'retry' && limited.retryAfterMs], ['retry', 42_000]);
    assert.equal((await outcome('/status/503')).status, 'retry');
    assert.equal((await outcome('/status/404')).status, 'failed');
    assert.equal((await outcome('/status/410')).status, 'failed');
    const moved = await outcome('/moved');
    assert.equal(moved.status, 'failed');
    assert.equal(receiver.seen.filter((s) => s.url === '/moved').length, 1);
  });

  it('retries on a timeout and on a closed port', async () => {
    const provider = createWebhookProvider(config, { clock });
    const slow = await provider.send(hook(`${receiver.url}/hang`));
    assert.equal(slow.status, 'retry');
    assert.match(slow.status === 'retry' ? slow.error : '', /no answer within 300 ms/);
    const gone = await startReceiver();
    await gone.close();
    assert.equal((await provider.send(hook(`${gone.url}/x`))).status, 'retry');
  });

  it('fails a step header that would split the request', async () => {
    const result = await createWebhookProvider(config, { clock }).send(hook(`${receiver.url}/x`, { 'X-Note': 'a\r\nX-Injected: 1' }));
    assert.equal(result.status, 'failed');
  });

  it('refuses 127.0.0.1 by default without connecting', async () => {
    const before = receiver.connections();
    const result = await createWebhookProvider({ ...config, allowPrivate: false }, { clock }).send(hook(`${receiver.url}/hooks/tend`));
    assert.equal(result.status, 'failed');
    assert.match(result.status === 'failed' ? result.error : '', /refused: .*loopback/);
    assert.equal(receiver.connections(), before);
  });
});

describe('verifySignature', () => {
  const body = '{"event":"cart.abandoned"}';

  it('accepts a fresh signature and refuses a stale one, a changed body, another secret', () => {
    const header = signWebhook(SECRET, body, NOW);
    assert.equal(verifySignature(SECRET, header, body, 300, NOW + 299), true);
    assert.equal(verifySignature(SECRET, header, body, 300, NOW + 301), false);
    assert.equal(verifySignature(SECRET, header, body + ' ', 300, NOW), false);
    assert.equal(verifySignature('whsec_another_secret_000', header, body, 300, NOW), false);
    assert.equal(verifySignature(SECRET, header.replace(`t=${NOW}`, `t=${NOW + 1}`), body, 300, NOW), false);
    assert.equal(verifySignature(SECRET, undefined, body, 300, NOW), false);
    assert.equal(verifySignature(SECRET, 'v1=abc', body, 300, NOW), false);
  });

  it('accepts any of several v1 values while a secret is replaced', () => {
    const header = signWebhook(['whsec_old_secret_000000', SECRET], body, NOW);
    assert.equal(verifySignature(SECRET, header, body, 300, NOW), true);
    assert.equal(verifySignature('whsec_old_secret_000000', header, body, 300, NOW), true);
  });

  it('is the documented HMAC-SHA256 of "t.body"', async () => {
    const { createHmac } = await import('node:crypto');
    const v1 = createHmac('sha256', SECRET).update(`${NOW}.${body}`).digest('hex');
    assert.equal(signWebhook(SECRET, body, NOW), `t=${NOW},v1=${v1}`);
  });
});

describe('webhook configuration', () => {
  it('is absent without a secret and names the variable that is wrong', () => {
    assert.equal(webhookConfigFromEnv({}), undefined);
    assert.throws(() => webhookConfigFromEnv({ TEND_WEBHOOK_SECRET: 'short' }), /TEND_WEBHOOK_SECRET is not valid/);
    assert.throws(() => webhookConfigFromEnv({ TEND_WEBHOOK_SECRET: SECRET, TEND_WEBHOOK_TIMEOUT_MS: '-1' }), /TEND_WEBHOOK_TIMEOUT_MS is not valid/);
    assert.deepEqual(webhookConfigFromEnv({ TEND_WEBHOOK_SECRET: `${SECRET}, whsec_next_secret_00000` })?.secrets, [SECRET, 'whsec_next_secret_00000']);
  });
});
