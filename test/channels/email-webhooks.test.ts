import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import {
  isSnsUrl,
  keyFromMessageId,
  parseMailgunEvent,
  parsePostmarkWebhook,
  parseSendGridEvents,
  parseSesNotification,
  snsStringToSign,
  verifyMailgunSignature,
  verifySendGridSignature,
  verifySnsSignature,
  type SnsEnvelope,
} from '../../src/channels/email/webhooks.ts';
import { parseDsn } from '../../src/channels/email/dsn.ts';
import type { DeliveryReport } from '../../src/channels/port.ts';
import type { Result } from '../../src/core/result.ts';

const KEY = '9f86d081884c7d659a2feaa0c55ad015';

function value<T>(r: Result<T>): T {
  assert.ok(r.ok, r.ok ? '' : r.problem.message);
  return r.value;
}

describe('Amazon SES through SNS', () => {
  const mail = {
    timestamp: '2026-03-02T10:15:00.000Z',
    source: 'hello@shop.example',
    messageId: '0100018e00a1b2c3-4d5e6f70-8192-4a3b-9c8d-7e6f5a4b3c2d-000000',
    destination: ['jane@example.com'],
    headersTruncated: false,
    headers: [
      { name: 'From', value: 'Shop <hello@shop.example>' },
      { name: 'Message-ID', value: `<${KEY}@shop.example>` },
    ],
    commonHeaders: { from: ['Shop <hello@shop.example>'], to: ['jane@example.com'], messageId: `<${KEY}@shop.example>`, subject: 'Your cart' },
  };
  const envelope = (message: object): SnsEnvelope => ({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:tend-ses',
    Message: JSON.stringify(message),
    Timestamp: '2026-03-02T10:15:03.000Z',
    SignatureVersion: '1',
    Signature: 'unused',
    SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
  });

  it('reads a permanent bounce as a hard bounce for each recipient', () => {
    const intake = value(
      parseSesNotification(
        envelope({
          notificationType: 'Bounce',
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            bouncedRecipients: [{ emailAddress: 'jane@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
            timestamp: '2026-03-02T10:15:02.000Z',
            feedbackId: '0100018e-feedback',
            reportingMTA: 'dsn; a1-2.smtp-out.eu-west-1.amazonses.com',
          },
          mail,
        }),
      ),
    );
    assert.deepEqual(intake, {
      kind: 'reports',
      reports: [
        {
          channel: 'email',
          type: 'bounced',
          idempotencyKey: KEY,
          providerMessageId: mail.messageId,
          address: 'jane@example.com',
          hard: true,
          reason: 'smtp; 550 5.1.1 user unknown',
          occurredAt: '2026-03-02T10:15:02.000Z',
        },
      ],
    });
  });

  it('reads a transient bounce as soft, a complaint, a delivery, and takes the key from the message tag first', () => {
    const tagged = { ...mail, tags: { tend_key: ['feedfacefeedface00'] } };
    const soft = value(parseSesNotification(envelope({ notificationType: 'Bounce', bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'jane@example.com' }] }, mail: tagged })));
    assert.ok(soft.kind === 'reports');
    assert.equal(soft.reports[0]!.hard, false);
    assert.equal(soft.reports[0]!.reason, 'Transient/MailboxFull');
    assert.equal(soft.reports[0]!.idempotencyKey, 'feedfacefeedface00');

    // SES event publishing names the type eventType rather than notificationType.
    const complaint = value(
      parseSesNotification(envelope({ eventType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'jane@example.com' }], complaintFeedbackType: 'abuse', timestamp: '2026-03-03T08:00:00.000Z' }, mail })),
    );
    assert.ok(complaint.kind === 'reports');
    assert.deepEqual(complaint.reports.map((r) => [r.type, r.address, r.reason]), [['complained', 'jane@example.com', 'abuse']]);

    const delivery = value(
      parseSesNotification({ notificationType: 'Delivery', delivery: { timestamp: '2026-03-02T10:15:01.000Z', recipients: ['jane@example.com'], smtpResponse: '250 2.0.0 OK', processingTimeMillis: 546 }, mail }),
    );
    assert.ok(delivery.kind === 'reports');
    assert.deepEqual(delivery.reports.map((r) => [r.type, r.idempotencyKey]), [['delivered', KEY]]);

    const open = value(parseSesNotification(envelope({ eventType: 'Open', open: {}, mail })));
    assert.equal(open.kind, 'ignored');
  });

  it('returns a subscription confirmation for the route to confirm, without fetching anything', () => {
    const intake = value(
      parseSesNotification({
        Type: 'SubscriptionConfirmation',
        MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
        Token: '2336412f37fb687f5d51e6e2425f004aed',
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:tend-ses',
        Message: 'You have chosen to subscribe to the topic arn:aws:sns:eu-west-1:123456789012:tend-ses.',
        SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:123456789012:tend-ses&Token=2336412f37fb687f5d51e6e2425f004aed',
        Timestamp: '2026-03-01T12:00:00.000Z',
        SignatureVersion: '1',
        Signature: 'unused',
        SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem',
      }),
    );
    assert.equal(intake.kind, 'subscription');
    assert.ok(intake.kind === 'subscription' && isSnsUrl(intake.subscribeUrl));
    assert.equal(isSnsUrl('https://sns.eu-west-1.amazonaws.com.evil.example/x.pem'), false);
    assert.equal(isSnsUrl('http://sns.eu-west-1.amazonaws.com/x.pem'), false);
    assert.equal(isSnsUrl('https://169.254.169.254/latest/meta-data'), false);
  });

  it('refuses a body that is not an SES notification, naming the field', () => {
    const r = parseSesNotification({ notificationType: 'Bounce' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.problem.message, /mail/);
  });

  it('checks the SNS signature against the signing certificate', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const message = envelope({ notificationType: 'Delivery', delivery: { recipients: ['jane@example.com'] }, mail });
    const signed = { ...message, SignatureVersion: '2', Signature: sign('sha256', Buffer.from(snsStringToSign(message)), privateKey).toString('base64') };
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(verifySnsSignature(signed, pem), true);
    assert.equal(verifySnsSignature({ ...signed, Message: signed.Message.replace('jane', 'john') }, pem), false);
  });
});

describe('SendGrid event webhook', () => {
  const events = [
    { email: 'jane@example.com', timestamp: 1772446500, 'smtp-id': `<${KEY}@shop.example>`, event: 'processed', sg_event_id: 'e1', sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0' },
    { email: 'jane@example.com', timestamp: 1772446501, 'smtp-id': `<${KEY}@shop.example>`, event: 'delivered', response: '250 OK', sg_event_id: 'e2', sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0' },
    { email: 'gone@example.com', timestamp: 1772446502, event: 'bounce', type: 'bounce', status: '5.1.1', reason: '550 5.1.1 The email account that you tried to reach does not exist.', bounce_classification: 'Invalid Address', tend_key: 'aaaabbbbccccdddd', sg_message_id: 'm2' },
    { email: 'busy@example.com', timestamp: 1772446503, event: 'bounce', type: 'blocked', status: '4.0.0', reason: '550 5.7.1 blocked by policy', tend_key: 'aaaabbbbccccdddd01', sg_message_id: 'm3' },
    { email: 'old@example.com', timestamp: 1772446504, event: 'dropped', reason: 'Bounced Address', tend_key: 'aaaabbbbccccdddd02', sg_message_id: 'm4' },
    { email: 'angry@example.com', timestamp: 1772446505, event: 'spamreport', tend_key: 'aaaabbbbccccdddd03', sg_message_id: 'm5' },
    { email: 'bye@example.com', timestamp: 1772446506, event: 'unsubscribe', tend_key: 'aaaabbbbccccdddd04', sg_message_id: 'm6' },
    { email: 'jane@example.com', timestamp: 1772446507, event: 'open', sg_message_id: 'm1', useragent: 'Mozilla/5.0' },
  ];

  it('turns the events into reports and skips the ones that are not outcomes', () => {
    const reports = value(parseSendGridEvents(events));
    assert.deepEqual(
      reports.map((r) => [r.type, r.address, r.hard, r.idempotencyKey]),
      [
        ['delivered', 'jane@example.com', undefined, KEY],
        ['bounced', 'gone@example.com', true, 'aaaabbbbccccdddd'],
        ['bounced', 'busy@example.com', false, 'aaaabbbbccccdddd01'],
        ['bounced', 'old@example.com', true, 'aaaabbbbccccdddd02'],
        ['complained', 'angry@example.com', undefined, 'aaaabbbbccccdddd03'],
        ['unsubscribed', 'bye@example.com', undefined, 'aaaabbbbccccdddd04'],
      ],
    );
    assert.equal(reports[0]!.occurredAt, new Date(1772446501 * 1000).toISOString());
    assert.equal(parseSendGridEvents({ event: 'bounce' }).ok, false);
  });

  it('verifies the signed event webhook (ECDSA P-256)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const body = JSON.stringify(events);
    const timestamp = '1772446510';
    const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
    const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(verifySendGridSignature(key, body, signature, timestamp), true);
    assert.equal(verifySendGridSignature(key, body + ' ', signature, timestamp), false);
    assert.equal(verifySendGridSignature(key, body, signature, '1772446511'), false);
  });
});

describe('Mailgun webhooks', () => {
  const signingKey = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
  const signature = (timestamp: string, token: string) => ({ timestamp, token, signature: createHmac('sha256', signingKey).update(timestamp + token).digest('hex') });
  const event = (data: object) => ({
    signature: signature('1772446500', 'b1f9a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c'),
    'event-data': {
      id: 'CPgfbmQMTCKtHW6uIWtuVe',
      timestamp: 1772446500.123,
      recipient: 'jane@example.com',
      message: { headers: { to: 'jane@example.com', 'message-id': `${KEY}@shop.example`, from: 'hello@shop.example', subject: 'Your cart' } },
      'user-variables': {},
      ...data,
    },
  });

  it('reads permanent and temporary failures, complaints and deliveries', () => {
    const permanent = value(parseMailgunEvent(event({ event: 'failed', severity: 'permanent', reason: 'bounce', 'delivery-status': { code: 550, message: '5.1.1 The email account does not exist', description: '' } })));
    assert.deepEqual(permanent, [
      {
        channel: 'email',
        type: 'bounced',
        idempotencyKey: KEY,
        providerMessageId: `${KEY}@shop.example`,
        address: 'jane@example.com',
        hard: true,
        reason: '550 5.1.1 The email account does not exist',
        occurredAt: new Date(1772446500123).toISOString(),
      },
    ]);
    const temporary = value(parseMailgunEvent(event({ event: 'failed', severity: 'temporary', reason: 'generic', 'delivery-status': { code: 452, message: '4.2.2 Mailbox full' }, 'user-variables': { tend_key: 'cafebabecafebabe' } })));
    assert.deepEqual([temporary[0]!.hard, temporary[0]!.idempotencyKey], [false, 'cafebabecafebabe']);
    assert.equal(value(parseMailgunEvent(event({ event: 'complained' })))[0]!.type, 'complained');
    assert.equal(value(parseMailgunEvent(event({ event: 'delivered', 'delivery-status': { code: 250, message: 'OK' } })))[0]!.type, 'delivered');
    assert.deepEqual(value(parseMailgunEvent(event({ event: 'opened' }))), []);
  });

  it('verifies the webhook signature', () => {
    const body = event({ event: 'delivered' });
    assert.equal(verifyMailgunSignature(signingKey, body.signature), true);
    assert.equal(verifyMailgunSignature('another-key', body.signature), false);
    assert.equal(verifyMailgunSignature(signingKey, { ...body.signature, timestamp: '1772446501' }), false);
  });
});

describe('Postmark webhooks', () => {
  it('reads bounces, spam complaints, deliveries and unsubscribes, naming the message by its metadata', () => {
    const bounce = value(
      parsePostmarkWebhook({
        RecordType: 'Bounce',
        ID: 4323372036,
        Type: 'HardBounce',
        TypeCode: 1,
        Name: 'Hard bounce',
        Tag: 'abandoned-cart',
        MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
        Metadata: { tend_key: KEY },
        ServerID: 23,
        MessageStream: 'outbound',
        Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
        Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
        Email: 'gone@example.com',
        From: 'hello@shop.example',
        BouncedAt: '2026-03-02T10:15:02Z',
        DumpAvailable: true,
        Inactive: true,
        CanActivate: true,
        Subject: 'Your cart',
      }),
    );
    assert.deepEqual(
      bounce.map((r: DeliveryReport) => [r.type, r.hard, r.address, r.idempotencyKey, r.providerMessageId]),
      [['bounced', true, 'gone@example.com', KEY, '883953f4-6105-42a2-a16a-77a8eac79483']],
    );
    const soft = value(parsePostmarkWebhook({ RecordType: 'Bounce', Type: 'SoftBounce', Email: 'full@example.com', Inactive: false, Description: 'Mailbox full', MessageID: 'x' }));
    assert.equal(soft[0]!.hard, false);
    const spam = value(parsePostmarkWebhook({ RecordType: 'SpamComplaint', Type: 'SpamComplaint', Email: 'angry@example.com', MessageID: 'y', BouncedAt: '2026-03-03T00:00:00Z', Metadata: { tend_key: KEY } }));
    assert.equal(spam[0]!.type, 'complained');
    const delivered = value(parsePostmarkWebhook({ RecordType: 'Delivery', Recipient: 'jane@example.com', MessageID: 'z', DeliveredAt: '2026-03-02T10:15:01Z', Details: 'Test delivery webhook details', Metadata: { tend_key: KEY } }));
    assert.deepEqual([delivered[0]!.type, delivered[0]!.address], ['delivered', 'jane@example.com']);
    const unsub = value(parsePostmarkWebhook({ RecordType: 'SubscriptionChange', Recipient: 'bye@example.com', SuppressSending: true, SuppressionReason: 'ManualSuppression', ChangedAt: '2026-03-04T00:00:00Z', MessageID: 'w' }));
    assert.equal(unsub[0]!.type, 'unsubscribed');
    assert.deepEqual(value(parsePostmarkWebhook({ RecordType: 'Open', MessageID: 'v' })), []);
  });
});

describe('Message-ID keys', () => {
  it('takes the key only from Tend-looking Message-IDs', () => {
    assert.equal(keyFromMessageId(`<${KEY}@shop.example>`), KEY);
    assert.equal(keyFromMessageId(`${KEY}@shop.example`), KEY);
    assert.equal(keyFromMessageId('<0100018e00a1b2c3-4d5e6f70-8192@email.amazonses.com>'), undefined);
    assert.equal(keyFromMessageId('<abc.def@relay.example>', { messageIdDomain: 'shop.example' }), undefined);
    assert.equal(keyFromMessageId('<custom_key_1@shop.example>', { messageIdDomain: 'shop.example' }), 'custom_key_1');
  });
});

describe('delivery status notifications', () => {
  const postfixBounce = [
    'Return-Path: <>',
    'Received: by mx.shop.example (Postfix) id 3F1A2B4C5D; Mon,  2 Mar 2026 10:15:04 +0000 (UTC)',
    'Date: Mon,  2 Mar 2026 10:15:04 +0000 (UTC)',
    'From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    'To: bounces@shop.example',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="3F1A2B4C5D.1772446504/mx.shop.example"',
    'Content-Transfer-Encoding: 8bit',
    'Message-Id: <20260302101504.3F1A2B4C5D@mx.shop.example>',
    '',
    'This is a MIME-encapsulated message.',
    '',
    '--3F1A2B4C5D.1772446504/mx.shop.example',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.shop.example.',
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients.',
    '',
    '<gone@example.com>: host mx.example.com[203.0.113.25] said: 550 5.1.1',
    '    <gone@example.com>: Recipient address rejected: User unknown (in reply to',
    '    RCPT TO command)',
    '',
    '--3F1A2B4C5D.1772446504/mx.shop.example',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.shop.example',
    'X-Postfix-Queue-ID: 3F1A2B4C5D',
    'X-Postfix-Sender: rfc822; hello@shop.example',
    'Arrival-Date: Mon,  2 Mar 2026 10:15:03 +0000 (UTC)',
    '',
    'Final-Recipient: rfc822; gone@example.com',
    'Original-Recipient: rfc822;gone@example.com',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mx.example.com',
    'Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address',
    '    rejected: User unknown',
    '',
    'Final-Recipient: rfc822; slow@example.com',
    'Action: delayed',
    'Status: 4.4.1',
    'Diagnostic-Code: X-Postfix; connect to mx.example.com[203.0.113.25]:25: Connection timed out',
    '',
    '--3F1A2B4C5D.1772446504/mx.shop.example',
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    'Return-Path: <hello@shop.example>',
    'Received: from tend (localhost [127.0.0.1]) by mx.shop.example (Postfix) with ESMTPSA id 3F1A2B4C5D',
    'From: Shop <hello@shop.example>',
    'To: gone@example.com',
    'Subject: Your cart misses you',
    `Message-ID: <${KEY}@shop.example>`,
    'MIME-Version: 1.0',
    '',
    '--3F1A2B4C5D.1772446504/mx.shop.example--',
    '',
  ].join('\r\n');

  it('reads a Postfix bounce: hard for 5.x.x, soft for a delay, key from the original Message-ID', () => {
    const reports = value(parseDsn(postfixBounce));
    assert.deepEqual(reports, [
      {
        channel: 'email',
        type: 'bounced',
        idempotencyKey: KEY,
        providerMessageId: `<${KEY}@shop.example>`,
        address: 'gone@example.com',
        hard: true,
        reason: '550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown',
        occurredAt: undefined,
      },
      {
        channel: 'email',
        type: 'bounced',
        idempotencyKey: KEY,
        providerMessageId: `<${KEY}@shop.example>`,
        address: 'slow@example.com',
        hard: false,
        reason: 'delayed: connect to mx.example.com[203.0.113.25]:25: Connection timed out',
        occurredAt: undefined,
      },
    ]);
  });

  it('reads the original message from a base64 message/rfc822 part and X-Tend-Key', () => {
    const original = ['From: hello@shop.example', 'To: jane@example.com', 'Message-ID: <rewritten@relay.example>', 'X-Tend-Key: 0123456789abcdef0123', 'Subject: Hi', '', 'Hello'].join('\r\n');
    const dsn = [
      'From: postmaster@relay.example',
      'To: bounces@shop.example',
      'Subject: Delivery Status Notification (Failure)',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/report; report-type="delivery-status"; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'Delivery failed.',
      '--inner',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns;relay.example',
      '',
      'Final-Recipient: rfc822;jane@example.com',
      'Action: failed',
      'Status: 4.4.7',
      'Last-Attempt-Date: Wed, 04 Mar 2026 10:00:00 +0000',
      '',
      '--inner',
      'Content-Type: message/rfc822',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(original).toString('base64'),
      '--inner--',
      '--outer--',
    ].join('\n');
    const [report] = value(parseDsn(Buffer.from(dsn)));
    assert.deepEqual(
      [report!.type, report!.hard, report!.address, report!.idempotencyKey, report!.occurredAt, report!.reason],
      ['bounced', false, 'jane@example.com', '0123456789abcdef0123', '2026-03-04T10:00:00.000Z', 'status 4.4.7'],
    );
  });

  it('reads an abuse report (ARF) as a complaint', () => {
    const arf = [
      'From: <abuse@mailbox.example>',
      'To: <fbl@shop.example>',
      'Subject: FW: Your cart',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="part1_13d.2e68ed54_boundary"',
      '',
      '--part1_13d.2e68ed54_boundary',
      'Content-Type: text/plain; charset="US-ASCII"',
      '',
      'This is an email abuse report.',
      '',
      '--part1_13d.2e68ed54_boundary',
      'Content-Type: message/feedback-report',
      '',
      'Feedback-Type: abuse',
      'User-Agent: SomeGenerator/1.0',
      'Version: 1',
      'Original-Mail-From: <hello@shop.example>',
      'Original-Rcpt-To: <angry@example.com>',
      'Arrival-Date: Thu, 5 Mar 2026 09:00:00 +0000',
      '',
      '--part1_13d.2e68ed54_boundary',
      'Content-Type: text/rfc822-headers',
      '',
      'From: <hello@shop.example>',
      'To: <angry@example.com>',
      `Message-ID: <${KEY}@shop.example>`,
      '',
      '--part1_13d.2e68ed54_boundary--',
    ].join('\r\n');
    const [report] = value(parseDsn(arf));
    assert.deepEqual([report!.type, report!.address, report!.idempotencyKey, report!.reason], ['complained', 'angry@example.com', KEY, 'abuse']);
  });

  it('refuses a message that is not a report', () => {
    const r = parseDsn('From: a@b.example\r\nSubject: hello\r\n\r\nJust a reply.\r\n');
    assert.equal(r.ok, false);
  });
});
