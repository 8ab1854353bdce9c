import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { smsConfigFromEnv, type HttpSmsConfig, type TwilioConfig } from '../../src/channels/sms/config.ts';
import { createHttpSmsProvider, createTwilioProvider } from '../../src/channels/sms/provider.ts';
import { isStartKeyword, isStopKeyword, parseTwilioWebhook, twilioSignature, verifyTwilioSignature } from '../../src/channels/sms/webhooks.ts';
import type { OutgoingMessage } from '../../src/channels/port.ts';

const SID = 'AC' + 'a1'.repeat(16);
const TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

/** A local HTTP server; `handle` answers each request, `seen` and `connections` record what came in. */
async function startServer(handle: (req: Seen) => { status: number; body: unknown; headers?: Record<string, string> }) {
  const seen: Seen[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(request);
      const answer = handle(request);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Speaks Twilio's Messages API, with Twilio's magic test numbers. */
function twilioApi(req: Seen) {
  if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${SID}/Messages.json`) return { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } };
  if (req.headers.authorization !== `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`) return { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } };
  const form = new URLSearchParams(req.body);
  const to = form.get('To');
  if (to === '+15005550001') return { status: 400, body: { code: 21211, message: "The 'To' number +15005550001 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 } };
  if (to === '+15005550009') return { status: 400, body: { code: 21614, message: "'To' number is not a valid mobile number", more_info: 'https://www.twilio.com/docs/errors/21614', status: 400 } };
  if (to === '+15005550004') return { status: 400, body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 } };
  if (to === '+15005550429') return { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 }, headers: { 'retry-after': '7' } };
  if (to === '+15005550500') return { status: 503, body: { message: 'Service unavailable' } };
  return { status: 201, body: { sid: 'SM' + 'b2'.repeat(16), status: 'queued', to, from: form.get('From'), body: form.get('Body'), price: null, error_code: null } };
}

function sms(to: string, key = 'c0ffee00c0ffee00c0ffee00c0ffee00'): OutgoingMessage<'sms'> {
  return { id: 'msg_1', idempotencyKey: key, workspaceId: 'ws_test', channel: 'sms', transactional: false, attempt: 1, payload: { to, body: 'Your cart is waiting: https://shop.example/c/1 Reply STOP to opt out' } };
}

describe('Twilio provider', () => {
  let api: Awaited<ReturnType<typeof startServer>>;
  let config: TwilioConfig;
  before(async () => {
    api = await startServer(twilioApi);
    const c = smsConfigFromEnv({
      TEND_TWILIO_ACCOUNT_SID: SID,
      TEND_TWILIO_AUTH_TOKEN: TOKEN,
      TEND_SMS_FROM: '+15005550006',
      TEND_TWILIO_BASE_URL: api.url,
      TEND_PUBLIC_URL: 'https://tend.shop.example/',
      TEND_SMS_ALLOW_PRIVATE: 'true',
    });
    assert.ok(c?.kind === 'twilio');
    config = c;
  });
  after(() => api.close());

  it('sends a form-encoded message with Basic auth, the idempotency token and a status callback naming the message', async () => {
    const result = await createTwilioProvider(config).send(sms('+48500100200'));
    assert.deepEqual(result, { status: 'accepted', providerMessageId: 'SM' + 'b2'.repeat(16), detail: 'queued' });
    const req = api.seen.at(-1)!;
    assert.equal(req.headers['i-twilio-idempotency-token'], 'c0ffee00c0ffee00c0ffee00c0ffee00');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.body);
    assert.equal(form.get('To'), '+48500100200');
    assert.equal(form.get('From'), '+15005550006');
    assert.match(form.get('Body')!, /Reply STOP/);
    assert.equal(form.get('StatusCallback'), 'https://tend.shop.example/hooks/sms/twilio?k=c0ffee00c0ffee00c0ffee00c0ffee00');
  });

  it('fails invalid and non-mobile numbers with invalid_address, and an opted-out one without suppression', async () => {
    const provider = createTwilioProvider(config);
    const invalid = await provider.send(sms('+15005550001'));
    assert.deepEqual([invalid.status, invalid.status === 'failed' && invalid.suppress], ['failed', 'invalid_address']);
    assert.match(invalid.status === 'failed' ? invalid.error : '', /21211/);
    const landline = await provider.send(sms('+15005550009'));
    assert.deepEqual([landline.status, landline.status === 'failed' && landline.suppress], ['failed', 'invalid_address']);
    const stopped = await provider.send(sms('+15005550004'));
    assert.deepEqual([stopped.status, stopped.status === 'failed' && stopped.suppress], ['failed', undefined]);
  });

  it('retries 429 (honouring Retry-After) and 5xx, and wrong credentials', async () => {
    const provider = createTwilioProvider(config);
    const limited = await provider.send(sms('+15005550429'));
    assert.deepEqual([limited.status, limited.status === 'retry' && limited.retryAfterMs], ['retry', 7000]);
    assert.equal((await provider.send(sms('+15005550500'))).status, 'retry');
    const wrong = await createTwilioProvider({ ...config, authToken: 'x'.repeat(32) }).send(sms('+48500100200'));
    assert.equal(wrong.status, 'retry');
  });

  it('retries when the API cannot be reached', async () => {
    const down = await startServer(twilioApi);
    await down.close();
    const result = await createTwilioProvider({ ...config, baseUrl: down.url }).send(sms('+48500100200'));
    assert.equal(result.status, 'retry');
  });

  it('refuses a private address by default without connecting', async () => {
    const before = api.connections();
    const result = await createTwilioProvider({ ...config, allowPrivate: false }).send(sms('+48500100200'));
    assert.equal(result.status, 'failed');
    assert.match(result.status === 'failed' ? result.error : '', /loopback/);
    assert.equal(api.connections(), before);
  });
});

describe('generic HTTP SMS provider', () => {
  let gateway: Awaited<ReturnType<typeof startServer>>;
  let config: HttpSmsConfig;
  before(async () => {
    gateway = await startServer((req) => {
      if (req.headers.authorization !== 'Bearer gw-token') return { status: 401, body: { error: 'unauthorized' } };
      const body = JSON.parse(req.body) as { to: string };
      if (body.to === '+15550000429') return { status: 429, body: { error: 'slow down' } };
      if (body.to === '+15550000500') return { status: 502, body: { error: 'upstream' } };
      if (body.to === '+15550000400') return { status: 422, body: { error: 'invalid number' } };
      return { status: 202, body: { id: 'gw-81723' } };
    });
    const c = smsConfigFromEnv({ TEND_SMS_URL: `${gateway.url}/sms`, TEND_SMS_TOKEN: 'gw-token', TEND_SMS_FROM: 'TendShop', TEND_SMS_ALLOW_PRIVATE: '1' });
    assert.ok(c?.kind === 'http');
    config = c;
  });
  after(() => gateway.close());

  it('posts JSON with the idempotency key as id and header', async () => {
    const result = await createHttpSmsProvider(config).send(sms('+48500100200', 'feed0000feed0000'));
    assert.deepEqual(result, { status: 'accepted', providerMessageId: 'gw-81723' });
    const req = gateway.seen.at(-1)!;
    assert.equal(req.url, '/sms');
    assert.equal(req.headers['idempotency-key'], 'feed0000feed0000');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body), { to: '+48500100200', from: 'TendShop', body: sms('').payload.body, id: 'feed0000feed0000' });
  });

  it('retries 429 and 5xx, fails other 4xx', async () => {
    const provider = createHttpSmsProvider(config);
    assert.equal((await provider.send(sms('+15550000429'))).status, 'retry');
    assert.equal((await provider.send(sms('+15550000500'))).status, 'retry');
    const bad = await provider.send(sms('+15550000400'));
    assert.equal(bad.status, 'failed');
    assert.match(bad.status === 'failed' ? bad.error : '', /422/);
  });

  it('refuses a private address by default without connecting', async () => {
    const before = gateway.connections();
    const result = await createHttpSmsProvider({ ...config, allowPrivate: false }).send(sms('+48500100200'));
    assert.equal(result.status, 'failed');
    assert.equal(gateway.connections(), before);
  });
});

describe('SMS configuration', () => {
  it('names the variable that is wrong', () => {
    assert.equal(smsConfigFromEnv({}), undefined);
    assert.throws(() => smsConfigFromEnv({ TEND_TWILIO_ACCOUNT_SID: SID, TEND_SMS_FROM: '+15005550006' }), /TEND_TWILIO_AUTH_TOKEN is required/);
    assert.throws(() => smsConfigFromEnv({ TEND_TWILIO_ACCOUNT_SID: 'nope', TEND_TWILIO_AUTH_TOKEN: TOKEN, TEND_SMS_FROM: '+15005550006' }), /TEND_TWILIO_ACCOUNT_SID is not valid/);
    assert.throws(() => smsConfigFromEnv({ TEND_TWILIO_ACCOUNT_SID: SID, TEND_TWILIO_AUTH_TOKEN: TOKEN }), /TEND_SMS_FROM/);
    assert.throws(() => smsConfigFromEnv({ TEND_SMS_URL: 'ftp://gw.example/sms' }), /TEND_SMS_URL is not valid/);
    assert.throws(() => smsConfigFromEnv({ TEND_SMS_URL: 'https://gw.example/sms', TEND_SMS_TIMEOUT_MS: 'soon' }), /TEND_SMS_TIMEOUT_MS is not valid/);
  });
});

describe('Twilio webhooks', () => {
  const url = 'https://tend.shop.example/hooks/sms/twilio?k=c0ffee00c0ffee00';

  it('reads status callbacks', () => {
    const status = (MessageStatus: string, extra: Record<string, string> = {}) =>
      parseTwilioWebhook({ MessageSid: 'SM' + 'b2'.repeat(16), SmsSid: 'SM' + 'b2'.repeat(16), AccountSid: SID, From: '+15005550006', To: '+48500100200', MessageStatus, SmsStatus: MessageStatus, ApiVersion: '2010-04-01', ...extra }, url);
    assert.deepEqual(status('delivered'), { ok: true, value: { type: 'delivered', channel: 'sms', idempotencyKey: 'c0ffee00c0ffee00', providerMessageId: 'SM' + 'b2'.repeat(16), address: '+48500100200' } });
    assert.deepEqual(status('sent'), { ok: true, value: null });
    const dead = status('undelivered', { ErrorCode: '30005' });
    assert.ok(dead.ok && dead.value);
    assert.deepEqual([dead.value.type, dead.value.hard, dead.value.reason], ['bounced', true, 'Twilio error 30005']);
    const carrier = status('failed', { ErrorCode: '30007' });
    assert.ok(carrier.ok && carrier.value?.type === 'failed');
    const optedOut = status('undelivered', { ErrorCode: '21610' });
    assert.ok(optedOut.ok && optedOut.value?.type === 'unsubscribed');
    assert.equal(parseTwilioWebhook({ AccountSid: SID }).ok, false);
  });

  it('reads inbound messages and recognises STOP and START keywords', () => {
    const inbound = parseTwilioWebhook({ MessageSid: 'SM' + 'c3'.repeat(16), AccountSid: SID, From: '+48500100200', To: '+15005550006', Body: '  Stop ', NumMedia: '0', SmsStatus: 'received' });
    assert.deepEqual(inbound, { ok: true, value: { type: 'inbound', channel: 'sms', providerMessageId: 'SM' + 'c3'.repeat(16), address: '+48500100200', text: '  Stop ' } });
    for (const word of ['STOP', 'stop', ' StopAll ', 'unsubscribe', 'CANCEL', 'end', 'Quit', 'STOP.']) assert.equal(isStopKeyword(word), true, word);
    for (const text of ['stop it please', 'Stopped', 'start', '', 'STOPP']) assert.equal(isStopKeyword(text), false, text);
    for (const word of ['START', ' unstop', 'Start']) assert.equal(isStartKeyword(word), true, word);
    assert.equal(isStartKeyword('STOP'), false);
  });

  it("matches Twilio's published signature example", () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    assert.equal(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  it('verifies X-Twilio-Signature over the URL and the sorted parameters', () => {
    const params = { MessageSid: 'SM1', From: '+48500100200', To: '+15005550006', Body: 'STOP', MessageStatus: 'received' };
    const signature = twilioSignature(TOKEN, url, params);
    assert.equal(verifyTwilioSignature(TOKEN, url, params, signature), true);
    // Twilio may sign with the default port written out.
    assert.equal(verifyTwilioSignature(TOKEN, url, params, twilioSignature(TOKEN, url.replace('example/', 'example:443/'), params)), true);
    assert.equal(verifyTwilioSignature(TOKEN, url, { ...params, Body: 'START' }, signature), false);
    assert.equal(verifyTwilioSignature(TOKEN, url.replace('k=c0', 'k=c1'), params, signature), false);
    assert.equal(verifyTwilioSignature('another-token-0000', url, params, signature), false);
    assert.equal(verifyTwilioSignature(TOKEN, url, params, undefined), false);
    // Independent of parameter order, as Twilio's scheme sorts by name.
    const reordered = Object.fromEntries(Object.entries(params).reverse());
    assert.equal(twilioSignature(TOKEN, url, reordered), signature);
  });
});
