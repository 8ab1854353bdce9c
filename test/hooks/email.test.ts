import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { testDatabases } from '../helpers/db.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { snsStringToSign, type SnsEnvelope } from '../../src/channels/email/webhooks.ts';
import { eventsOf, sendThrough, startHooksServer, suppressions, type HooksServer, type SentMessage } from './helpers.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:tend-ses-events';
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem';

// SNS signs with the key of a certificate Tend fetches from SigningCertURL; here the "fetch" gives the public key.
const sns = generateKeyPairSync('rsa', { modulusLength: 2048 });
const snsPublicPem = sns.publicKey.export({ type: 'spki', format: 'pem' }).toString();
// SendGrid's signed Event Webhook: ECDSA P-256; Tend gets the public key (base64 DER) as configuration.
const sendgrid = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sendgridKey = sendgrid.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const MAILGUN_KEY = 'key-0123456789abcdef0123456789abcdef';

let snsSequence = 0;
function snsMessage(fields: Partial<SnsEnvelope> & Pick<SnsEnvelope, 'Type'>, options: { topic?: string; tamper?: boolean } = {}): string {
  const message: SnsEnvelope = {
    MessageId: `6f1c6d9e-0000-4000-8000-${String(++snsSequence).padStart(12, '0')}`,
    TopicArn: options.topic ?? TOPIC,
    Message: '',
    Timestamp: '2026-03-02T12:01:00.000Z',
    SignatureVersion: '2',
    SigningCertURL: CERT_URL,
    ...fields,
  };
  message.Signature = sign('sha256', Buffer.from(snsStringToSign(message)), sns.privateKey).toString('base64');
  if (options.tamper) message.Message = message.Message.replace('Permanent', 'Transient');
  return JSON.stringify(message);
}

const sesNotification = (type: 'Bounce' | 'Complaint' | 'Delivery', m: SentMessage, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    notificationType: type,
    mail: {
      timestamp: '2026-03-02T12:00:00.000Z', source: 'shop@shop.example', messageId: `0102018e-${m.id}-ses`, destination: [m.address],
      headers: [{ name: 'Message-ID', value: `<${m.idempotency_key}@shop.example>` }], commonHeaders: { messageId: `<${m.idempotency_key}@shop.example>` },
    },
    ...extra,
  });

for (const target of testDatabases()) {
  describe(`email webhooks over HTTP (${target.name})`, () => {
    const fetched: string[] = [];
    let server: HooksServer;
    let ws: Awaited<ReturnType<HooksServer['workspace']>>;
    const sent = new Map<string, SentMessage>();
    const people = ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal'];

    before(async () => {
      server = await startHooksServer(target, {
        clock: new VirtualClock('2026-03-02T12:00:00Z'),
        config: { sesTopicArns: [TOPIC], sendgridKey, mailgunKey: MAILGUN_KEY },
        fetchSns: async (url) => {
          fetched.push(url);
          return url === CERT_URL ? snsPublicPem : '<ConfirmSubscriptionResponse/>';
        },
      });
      ws = await server.workspace();
      const r = await server.tend.ingest.ingest(ws.id, people.map((u) => ({ type: 'identify', userId: u, traits: { email: `${u}@example.com`, first_name: u, consent: { email: true } } })));
      assert.deepEqual(r.rejected, []);
      for (const m of await sendThrough(server.tend, ws.id, 'email', people)) sent.set(m.user_id, m);
    });
    after(() => server?.close());

    const events = (who: string, ...names: string[]) => eventsOf(server.tend, ws.id, sent.get(who)!.contact_id, names);

    it('SES through SNS: a signed hard bounce suppresses the address and records the event, once', async () => {
      const ann = sent.get('ann')!;
      // The bounce is an event like any other: journeys can start from it.
      const cleanUp = await server.tend.journeys.create(ws.id, { name: 'Bounced: ask for a new address', trigger: { type: 'event', event: 'Message Bounced' }, steps: [{ id: 'done', type: 'exit' }] });
      assert.ok(cleanUp.ok && (await server.tend.journeys.publish(ws.id, cleanUp.value.id)).ok);
      const body = snsMessage({
        Type: 'Notification',
        Message: sesNotification('Bounce', ann, {
          bounce: { bounceType: 'Permanent', bounceSubType: 'General', timestamp: '2026-03-02T12:00:40.000Z', bouncedRecipients: [{ emailAddress: ann.address, status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] },
        }),
      });
      // SNS posts JSON as text/plain.
      const first = await server.post(`/hooks/email/ses?token=${ws.token}`, body, { 'content-type': 'text/plain; charset=UTF-8' });
      assert.equal(first.status, 200, first.text);
      assert.deepEqual([first.json.applied, first.json.events], [1, 1]);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${ann.address}`], 'hard_bounce');
      const again = await server.post(`/hooks/email/ses?token=${ws.token}`, body);
      assert.equal(again.status, 200);
      assert.deepEqual([again.json.events, again.json.duplicates], [0, 1], 'a redelivered notification is stored once');
      const bounced = await events('ann', 'Message Bounced');
      assert.equal(bounced.length, 1);
      assert.equal(bounced[0]!.properties.hard, true);
      assert.equal(bounced[0]!.properties.message_id, ann.id);
      assert.match(String(bounced[0]!.properties.reason), /550 5\.1\.1/);
      assert.deepEqual(fetched, [CERT_URL], 'the certificate is fetched once, from SNS');
      const runs = await server.tend.db.query<{ n: number }>(`select count(*)::int as n from journey_runs where workspace_id = $1 and journey_id = $2 and contact_id = $3`, [ws.id, cleanUp.value.id, ann.contact_id]);
      assert.equal(runs.rows[0]!.n, 1, 'the bounce started the journey, once');

      // The policy gate now refuses the address.
      await sendThrough(server.tend, ws.id, 'email', ['bob'], 'Another mail');
      await server.tend.ingest.ingest(ws.id, [{ type: 'track', userId: 'ann', event: 'Another mail' }]);
      await server.tend.runner.drain();
      const { rows } = await server.tend.db.query<{ reason: string }>(`select reason from policy_decisions where workspace_id = $1 and contact_id = $2`, [ws.id, ann.contact_id]);
      assert.match(rows.at(-1)?.reason ?? '', /suppressed: ann@example\.com \(hard_bounce\)/);
    });

    it('SES: a bad signature, an unlisted topic without a token, and a foreign certificate URL are refused', async () => {
      const bob = sent.get('bob')!;
      const bounce = sesNotification('Bounce', bob, { bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: bob.address }] } });
      const tampered = await server.post('/hooks/email/ses', snsMessage({ Type: 'Notification', Message: bounce }, { tamper: true }));
      assert.equal(tampered.status, 401);
      assert.match(String(tampered.json.error), /SNS signature does not verify/);
      const unlisted = await server.post(`/hooks/email/ses?workspace=${ws.id}`, snsMessage({ Type: 'Notification', Message: bounce }, { topic: 'arn:aws:sns:eu-west-1:999999999999:someone-else' }));
      assert.equal(unlisted.status, 401);
      assert.match(String(unlisted.json.error), /not accepted: list it in TEND_SES_TOPIC_ARNS or add \?token=/);
      const foreign = JSON.parse(snsMessage({ Type: 'Notification', Message: bounce })) as Record<string, string>;
      foreign.SigningCertURL = 'https://evil.example/cert.pem';
      assert.equal((await server.post('/hooks/email/ses', JSON.stringify(foreign))).status, 401);
      assert.ok(!fetched.includes('https://evil.example/cert.pem'));
      assert.equal((await suppressions(server.tend, ws.id))[`email:${bob.address}`], undefined, 'nothing changed');
      // A listed topic needs no token: SNS's signature and the topic vouch for it.
      const listed = await server.post(`/hooks/email/ses?workspace=${ws.id}`, snsMessage({ Type: 'Notification', Message: sesNotification('Complaint', bob, { complaint: { complainedRecipients: [{ emailAddress: bob.address }], complaintFeedbackType: 'abuse' } }) }));
      assert.equal(listed.status, 200, listed.text);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${bob.address}`], 'complaint');
      assert.equal((await events('bob', 'Message Complained')).length, 1);
    });

    it('SES: subscriptions are confirmed only for a listed topic at an SNS URL that confirms it', async () => {
      const confirmUrl = (topic: string, host = 'sns.eu-west-1.amazonaws.com') =>
        `https://${host}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topic)}&Token=2336412f37fb687f5d51e6e2425c464de257ebb6`;
      const subscription = (url: string, topic = TOPIC) => snsMessage({ Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe…', SubscribeURL: url, Token: '2336412f37fb687f5d51e6e2425c464de257ebb6' }, { topic });
      const before = fetched.length;
      const good = await server.post(`/hooks/email/ses?token=${ws.token}`, subscription(confirmUrl(TOPIC)));
      assert.deepEqual([good.status, good.json.confirmed], [200, true]);
      assert.deepEqual(fetched.slice(before), [confirmUrl(TOPIC)]);
      const other = 'arn:aws:sns:eu-west-1:123456789012:not-configured';
      const unlisted = await server.post(`/hooks/email/ses?token=${ws.token}`, subscription(confirmUrl(other), other));
      assert.deepEqual([unlisted.status, unlisted.json.confirmed], [200, false]);
      assert.match(String(unlisted.json.reason), /not in TEND_SES_TOPIC_ARNS/);
      const elsewhere = await server.post(`/hooks/email/ses?token=${ws.token}`, subscription('https://attacker.example/?Action=ConfirmSubscription'));
      assert.deepEqual([elsewhere.status, elsewhere.json.confirmed], [200, false]);
      const otherRegion = await server.post(`/hooks/email/ses?token=${ws.token}`, subscription(confirmUrl(TOPIC, 'sns.us-east-1.amazonaws.com')));
      assert.equal(otherRegion.json.confirmed, false);
      assert.deepEqual(fetched.slice(before), [confirmUrl(TOPIC)], 'nothing else was fetched');
    });

    it('SendGrid: a signed bounce suppresses; an unsigned or wrongly signed one is refused', async () => {
      const cat = sent.get('cat')!;
      const body = JSON.stringify([
        { email: cat.address, timestamp: 1772452860, 'smtp-id': `<${cat.idempotency_key}@shop.example>`, event: 'processed', sg_message_id: 'sg1.filter0001' },
        { email: cat.address, timestamp: 1772452900, event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 The email account that you tried to reach does not exist', tend_key: cat.idempotency_key, sg_message_id: 'sg1.filter0001' },
      ]);
      const timestamp = '1772452901';
      const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), sendgrid.privateKey).toString('base64');
      const headers = { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp };
      const unsigned = await server.post(`/hooks/email/sendgrid?token=${ws.token}`, body);
      assert.equal(unsigned.status, 401, 'with a verification key configured, the signature is required');
      const wrong = await server.post('/hooks/email/sendgrid', body, { ...headers, 'x-twilio-email-event-webhook-timestamp': '1772452999' });
      assert.equal(wrong.status, 401);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${cat.address}`], undefined);
      const signed = await server.post('/hooks/email/sendgrid', body, headers);
      assert.equal(signed.status, 200, signed.text);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${cat.address}`], 'hard_bounce');
      assert.equal((await events('cat', 'Message Bounced')).length, 1);
    });

    it('Mailgun: a signed permanent failure suppresses; a bad signature is refused', async () => {
      const dan = sent.get('dan')!;
      const signature = (timestamp: string, token: string) => ({ timestamp, token, signature: createHmac('sha256', MAILGUN_KEY).update(timestamp + token).digest('hex') });
      const event = {
        event: 'failed', id: 'G9Bn5sl1TC6nu79C8C0bwg', timestamp: 1772452900.5, severity: 'permanent', reason: 'bounce', recipient: dan.address,
        'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist', description: '' },
        message: { headers: { 'message-id': `${dan.idempotency_key}@shop.example`, to: dan.address } }, 'user-variables': { tend_key: dan.idempotency_key },
      };
      const forged = await server.post('/hooks/email/mailgun', JSON.stringify({ signature: { ...signature('1772452901', 'a'.repeat(50)), signature: 'ab'.repeat(32) }, 'event-data': event }));
      assert.equal(forged.status, 401);
      const ok = await server.post('/hooks/email/mailgun', JSON.stringify({ signature: signature('1772452901', 'b'.repeat(50)), 'event-data': event }));
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${dan.address}`], 'hard_bounce');
      const soft = await server.post('/hooks/email/mailgun', JSON.stringify({ signature: signature('1772452902', 'c'.repeat(50)), 'event-data': { ...event, severity: 'temporary', recipient: sent.get('hal')!.address, 'user-variables': { tend_key: sent.get('hal')!.idempotency_key } } }));
      assert.equal(soft.status, 200);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${sent.get('hal')!.address}`], undefined, 'a soft bounce does not suppress');
      assert.equal((await events('hal', 'Message Bounced'))[0]?.properties.hard, false);
    });

    it('Postmark: the hooks token as the Basic-auth password; a wrong or missing token is refused', async () => {
      const eve = sent.get('eve')!;
      const body = JSON.stringify({ RecordType: 'SpamComplaint', MessageStream: 'outbound', ID: 42, Type: 'SpamComplaint', TypeCode: 512, Email: eve.address, BouncedAt: '2026-03-02T12:05:00Z', MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', Metadata: { tend_key: eve.idempotency_key } });
      assert.equal((await server.post('/hooks/email/postmark', body)).status, 401);
      const wrong = await server.post('/hooks/email/postmark', body, { authorization: `Basic ${Buffer.from(`tend:${ws.id}.${'A'.repeat(43)}`).toString('base64')}` });
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.json.error), /hooks token is not valid/);
      const right = await server.post('/hooks/email/postmark', body, { authorization: `Basic ${Buffer.from(`tend:${ws.token}`).toString('base64')}` });
      assert.equal(right.status, 200, right.text);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${eve.address}`], 'complaint');
      // Another shop's token cannot touch this shop's messages.
      const other = await server.workspace();
      const fay = sent.get('fay')!;
      const foreign = await server.post(`/hooks/email/postmark?token=${other.token}`, JSON.stringify({ RecordType: 'Bounce', Type: 'HardBounce', Email: fay.address, Metadata: { tend_key: fay.idempotency_key } }));
      assert.deepEqual([foreign.status, foreign.json.applied, foreign.json.ignored], [200, 0, 1]);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${fay.address}`], undefined);
    });

    it('a bounce message (RFC 3464) posted raw by a mailbox forwarder', async () => {
      const fay = sent.get('fay')!;
      const dsn = [
        'From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>',
        'To: bounces@shop.example',
        'Subject: Undelivered Mail Returned to Sender',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
        '',
        '--B1',
        'Content-Type: text/plain',
        '',
        'I am sorry to have to inform you that your message could not be delivered.',
        '',
        '--B1',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.shop.example',
        '',
        `Final-Recipient: rfc822; ${fay.address}`,
        'Action: failed',
        'Status: 5.1.1',
        'Diagnostic-Code: smtp; 550 5.1.1 <fay@example.com>: Recipient address rejected',
        '',
        '--B1',
        'Content-Type: text/rfc822-headers',
        '',
        'From: Shop <shop@shop.example>',
        `To: ${fay.address}`,
        `Message-ID: <${fay.idempotency_key}@shop.example>`,
        'Subject: Hello fay',
        '',
        '--B1--',
        '',
      ].join('\r\n');
      assert.equal((await server.post('/hooks/email/dsn', dsn, { 'content-type': 'message/rfc822' })).status, 401);
      const r = await server.post(`/hooks/email/dsn?token=${ws.token}`, dsn, { 'content-type': 'text/plain' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.applied, 1);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${fay.address}`], 'hard_bounce');
      const notDsn = await server.post(`/hooks/email/dsn?token=${ws.token}`, 'Subject: hello\r\n\r\njust mail', { 'content-type': 'message/rfc822' });
      assert.equal(notDsn.status, 400);
      assert.match(String(notDsn.json.error), /not a delivery status notification/);
    });

    it('a delivery report records "Message Delivered" and suppresses nothing', async () => {
      const gus = sent.get('gus')!;
      const r = await server.post(`/hooks/email/ses?token=${ws.token}`, snsMessage({ Type: 'Notification', Message: sesNotification('Delivery', gus, { delivery: { recipients: [gus.address], timestamp: '2026-03-02T12:00:03.000Z', smtpResponse: '250 2.0.0 OK' } }) }));
      assert.equal(r.status, 200, r.text);
      assert.equal((await events('gus', 'Message Delivered')).length, 1);
      assert.equal((await suppressions(server.tend, ws.id))[`email:${gus.address}`], undefined);
    });

    it('bad input gets a 400 that names the field, never a 500', async () => {
      const malformed = await server.post(`/hooks/email/postmark?token=${ws.token}`, '{"RecordType": ');
      assert.deepEqual([malformed.status, malformed.json.field], [400, 'body']);
      assert.match(String(malformed.json.error), /malformed JSON/);
      const empty = await server.post(`/hooks/email/postmark?token=${ws.token}`, '');
      assert.deepEqual([empty.status, empty.json.error], [400, 'the request body is empty']);
      const noRecordType = await server.post(`/hooks/email/postmark?token=${ws.token}`, '{"Email": "x@example.com"}');
      assert.deepEqual([noRecordType.status, noRecordType.json.field], [400, 'RecordType']);
      const notSns = await server.post(`/hooks/email/ses?token=${ws.token}`, '{"notificationType": "Bounce"}');
      assert.deepEqual([notSns.status, notSns.json.field], [400, 'Type']);
      const unsignedSns = await server.post(`/hooks/email/ses?token=${ws.token}`, JSON.stringify({ ...JSON.parse(snsMessage({ Type: 'Notification', Message: '{}' })), Signature: undefined }));
      assert.deepEqual([unsignedSns.status, unsignedSns.json.field], [400, 'Signature']);
      const badSes = await server.post(`/hooks/email/ses?token=${ws.token}`, snsMessage({ Type: 'Notification', Message: '{"notificationType":"Bounce"}' }));
      assert.deepEqual([badSes.status, badSes.json.field], [400, 'mail']);
      const hugeToken = await server.post(`/hooks/email/postmark?token=${'x'.repeat(500)}`, '{}');
      assert.deepEqual([hugeToken.status, hugeToken.json.field], [400, 'query.token']);
    });
  });
}
