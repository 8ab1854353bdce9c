/**
 * Bounce, complaint and delivery reports from the relays Tend sends through: Amazon SES (through
 * SNS), SendGrid, Mailgun and Postmark. Each parser turns one webhook body into DeliveryReports; the
 * routes (`/hooks/email/ses|sendgrid|mailgun|postmark`) verify the request and hand the reports to
 * tracking. Reports name the message by Tend's idempotency key, found in the relay's custom
 * arguments (see relayHeaders) or, failing that, in the Message-ID Tend gave the message.
 */
import { createHmac, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { z } from 'zod';
import { fail, ok, type Result } from '../../core/result.ts';
import type { DeliveryReport } from '../port.ts';

export type KeyOptions = {
  /** Tend's Message-ID domain; when given, only Message-IDs on it yield a key. */
  messageIdDomain?: string;
};

/**
 * Tend's idempotency key from a Message-ID `<key@domain>`. Without a domain to compare, only a
 * hexadecimal left-hand side counts (Tend's keys are hex; relays' own ids are not).
 */
export function keyFromMessageId(messageId: string | undefined | null, options: KeyOptions = {}): string | undefined {
  if (!messageId) return undefined;
  const m = /^\s*<?([^<>@\s]+)@([^<>@\s]+?)>?\s*$/.exec(messageId);
  if (!m) return undefined;
  const [, local, domain] = m as unknown as [string, string, string];
  if (options.messageIdDomain) return domain.toLowerCase() === options.messageIdDomain.toLowerCase() ? local : undefined;
  return /^[0-9a-f]{16,128}$/i.test(local) ? local : undefined;
}

const isoFrom = (value: string | number | undefined): string | undefined => {
  if (value === undefined || value === '') return undefined;
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
};

function invalid(error: z.ZodError, where: string): Result<never> {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  return fail({ code: 'invalid', message: `${where}: ${field ? `${field}: ` : ''}${issue.message}`, field: field || undefined });
}

// ---------------------------------------------------------------- Amazon SES through SNS

const SnsEnvelope = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string(),
  TopicArn: z.string(),
  Message: z.string(),
  Timestamp: z.string(),
  Subject: z.string().optional(),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
  SignatureVersion: z.string().optional(),
  Signature: z.string().optional(),
  SigningCertURL: z.string().optional(),
});
export type SnsEnvelope = z.infer<typeof SnsEnvelope>;

const SesRecipient = z.object({ emailAddress: z.string(), diagnosticCode: z.string().optional(), status: z.string().optional() });
const SesNotification = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail: z.object({
    messageId: z.string(),
    timestamp: z.string().optional(),
    destination: z.array(z.string()).optional(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
    commonHeaders: z.object({ messageId: z.string().optional() }).optional(),
    tags: z.record(z.string(), z.array(z.string())).optional(),
  }),
  bounce: z
    .object({ bounceType: z.string(), bounceSubType: z.string().optional(), bouncedRecipients: z.array(SesRecipient), timestamp: z.string().optional() })
    .optional(),
  complaint: z
    .object({ complainedRecipients: z.array(z.object({ emailAddress: z.string() })), complaintFeedbackType: z.string().optional(), timestamp: z.string().optional() })
    .optional(),
  delivery: z.object({ recipients: z.array(z.string()), timestamp: z.string().optional(), smtpResponse: z.string().optional() }).optional(),
  reject: z.object({ reason: z.string() }).optional(),
});

export type SesIntake =
  | { kind: 'reports'; reports: DeliveryReport[] }
  /**
   * SNS asks to confirm a subscription. Tend does not fetch the URL by itself: the route checks
   * the topic is one the operator expects and the URL is on `sns.<region>.amazonaws.com`
   * (isSnsUrl), then visits it, or shows it to the operator to confirm by hand.
   */
  | { kind: 'subscription'; topicArn: string; subscribeUrl: string; token: string }
  | { kind: 'ignored'; reason: string };

/** Parses an SNS message carrying an SES notification (or a raw SES notification without the envelope). */
export function parseSesNotification(body: unknown, options: KeyOptions = {}): Result<SesIntake> {
  let inner: unknown = body;
  if (body && typeof body === 'object' && 'Type' in body) {
    const env = SnsEnvelope.safeParse(body);
    if (!env.success) return invalid(env.error, 'SNS message');
    if (env.data.Type === 'SubscriptionConfirmation') {
      if (!env.data.SubscribeURL || !env.data.Token) return fail({ code: 'invalid', message: 'SNS subscription confirmation without SubscribeURL or Token', field: 'SubscribeURL' });
      return ok({ kind: 'subscription', topicArn: env.data.TopicArn, subscribeUrl: env.data.SubscribeURL, token: env.data.Token });
    }
    if (env.data.Type === 'UnsubscribeConfirmation') return ok({ kind: 'ignored', reason: 'unsubscribe confirmation' });
    try {
      inner = JSON.parse(env.data.Message);
    } catch {
      return fail({ code: 'invalid', message: 'SNS message: Message is not JSON', field: 'Message' });
    }
  }
  const parsed = SesNotification.safeParse(inner);
  if (!parsed.success) return invalid(parsed.error, 'SES notification');
  const n = parsed.data;
  const header = (name: string) => n.mail.headers?.find((h) => h.name.toLowerCase() === name)?.value;
  const idempotencyKey =
    n.mail.tags?.tend_key?.[0] ?? header('x-tend-key') ?? keyFromMessageId(n.mail.commonHeaders?.messageId ?? header('message-id'), options);
  const base = { channel: 'email' as const, idempotencyKey, providerMessageId: n.mail.messageId };
  const type = n.notificationType ?? n.eventType;
  switch (type) {
    case 'Bounce': {
      if (!n.bounce) return fail({ code: 'invalid', message: 'SES notification: a Bounce without bounce', field: 'bounce' });
      const hard = n.bounce.bounceType === 'Permanent';
      const reports = n.bounce.bouncedRecipients.map(
        (r): DeliveryReport => ({
          ...base,
          type: 'bounced',
          address: r.emailAddress,
          hard,
          reason: r.diagnosticCode ?? `${n.bounce!.bounceType}/${n.bounce!.bounceSubType ?? 'General'}`,
          occurredAt: isoFrom(n.bounce!.timestamp),
        }),
      );
      return ok({ kind: 'reports', reports });
    }
    case 'Complaint': {
      if (!n.complaint) return fail({ code: 'invalid', message: 'SES notification: a Complaint without complaint', field: 'complaint' });
      if (n.complaint.complaintFeedbackType === 'not-spam') return ok({ kind: 'ignored', reason: 'not-spam feedback' });
      const reports = n.complaint.complainedRecipients.map(
        (r): DeliveryReport => ({ ...base, type: 'complained', address: r.emailAddress, reason: n.complaint!.complaintFeedbackType ?? 'complaint', occurredAt: isoFrom(n.complaint!.timestamp) }),
      );
      return ok({ kind: 'reports', reports });
    }
    case 'Delivery': {
      const recipients = n.delivery?.recipients ?? n.mail.destination ?? [];
      const reports = recipients.map((address): DeliveryReport => ({ ...base, type: 'delivered', address, reason: n.delivery?.smtpResponse, occurredAt: isoFrom(n.delivery?.timestamp) }));
      return ok({ kind: 'reports', reports });
    }
    case 'Reject':
      return ok({ kind: 'reports', reports: [{ ...base, type: 'failed', reason: n.reject?.reason ?? 'rejected by SES', occurredAt: isoFrom(n.mail.timestamp) }] });
    default:
      return ok({ kind: 'ignored', reason: `SES ${type ?? 'unknown'} notification` });
  }
}

/** True for an SNS URL Tend may visit (a signing certificate or subscription link): https on sns.<region>.amazonaws.com. */
export function isSnsUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' && !url.username && !url.port && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname);
  } catch {
    return false;
  }
}

/** The text SNS signs, per its documentation: selected fields as "Name\nvalue\n" in a fixed order. */
export function snsStringToSign(m: SnsEnvelope): string {
  const fields =
    m.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  return fields.map((f) => (m[f] === undefined ? '' : `${f}\n${m[f]}\n`)).join('');
}

/**
 * Checks an SNS message's signature against the certificate from its SigningCertURL (which the
 * route fetched only after isSnsUrl said yes, and may cache). Signature version 1 is SHA1, 2 SHA256.
 */
export function verifySnsSignature(message: SnsEnvelope, certificatePem: string): boolean {
  if (!message.Signature) return false;
  const algorithm = message.SignatureVersion === '2' ? 'sha256' : 'sha1';
  try {
    return cryptoVerify(algorithm, Buffer.from(snsStringToSign(message)), certificatePem, Buffer.from(message.Signature, 'base64'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- SendGrid

const SendGridEvent = z.object({
  event: z.string(),
  email: z.string().optional(),
  timestamp: z.number().optional(),
  'smtp-id': z.string().optional(),
  sg_message_id: z.string().optional(),
  reason: z.string().optional(),
  status: z.string().optional(),
  type: z.string().optional(),
  tend_key: z.string().optional(),
});
const SendGridEvents = z.array(z.looseObject(SendGridEvent.shape));

/** Parses SendGrid's event webhook: an array of events; custom argument `tend_key` names the message. */
export function parseSendGridEvents(body: unknown, options: KeyOptions = {}): Result<DeliveryReport[]> {
  const parsed = SendGridEvents.safeParse(body);
  if (!parsed.success) return invalid(parsed.error, 'SendGrid events');
  const reports: DeliveryReport[] = [];
  for (const e of parsed.data) {
    const base = {
      channel: 'email' as const,
      idempotencyKey: e.tend_key ?? keyFromMessageId(e['smtp-id'], options),
      providerMessageId: e.sg_message_id,
      address: e.email,
      occurredAt: isoFrom(e.timestamp),
    };
    const reason = e.reason ?? e.status;
    switch (e.event) {
      case 'delivered':
        reports.push({ ...base, type: 'delivered', reason });
        break;
      case 'bounce':
        // SendGrid files refusals that are about Tend's reputation or content as type "blocked".
        reports.push({ ...base, type: 'bounced', hard: e.type !== 'blocked', reason });
        break;
      case 'dropped':
        if (/bounced address|invalid/i.test(e.reason ?? '')) reports.push({ ...base, type: 'bounced', hard: true, reason });
        else if (/spam reporting/i.test(e.reason ?? '')) reports.push({ ...base, type: 'complained', reason });
        else if (/unsubscribed/i.test(e.reason ?? '')) reports.push({ ...base, type: 'unsubscribed', reason });
        else reports.push({ ...base, type: 'failed', reason });
        break;
      case 'spamreport':
        reports.push({ ...base, type: 'complained', reason: 'spam report' });
        break;
      case 'unsubscribe':
      case 'group_unsubscribe':
        reports.push({ ...base, type: 'unsubscribed', reason: e.event });
        break;
      default:
        break; // processed, deferred, open, click, group_resubscribe: not delivery outcomes
    }
  }
  return ok(reports);
}

/**
 * Checks SendGrid's signed event webhook: ECDSA P-256 over `timestamp + raw body`, from headers
 * X-Twilio-Email-Event-Webhook-Signature and …-Timestamp, with the verification key from SendGrid's settings.
 */
export function verifySendGridSignature(publicKeyBase64: string, rawBody: string | Buffer, signatureBase64: string, timestamp: string): boolean {
  try {
    const key = { key: Buffer.from(publicKeyBase64, 'base64'), format: 'der' as const, type: 'spki' as const };
    return cryptoVerify('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(rawBody)]), key, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- Mailgun

const MailgunBody = z.object({
  signature: z.object({ timestamp: z.string(), token: z.string(), signature: z.string() }).optional(),
  'event-data': z.object({
    event: z.string(),
    id: z.string().optional(),
    timestamp: z.number().optional(),
    severity: z.enum(['permanent', 'temporary']).optional(),
    reason: z.string().optional(),
    recipient: z.string().optional(),
    'delivery-status': z.object({ code: z.number().optional(), message: z.string().optional(), description: z.string().optional() }).optional(),
    message: z.object({ headers: z.record(z.string(), z.unknown()).optional() }).optional(),
    'user-variables': z.record(z.string(), z.unknown()).optional(),
  }),
});
export type MailgunBody = z.infer<typeof MailgunBody>;

/** Parses a Mailgun webhook (`{ signature, "event-data" }`); the variable `tend_key` names the message. */
export function parseMailgunEvent(body: unknown, options: KeyOptions = {}): Result<DeliveryReport[]> {
  const parsed = MailgunBody.safeParse(body);
  if (!parsed.success) return invalid(parsed.error, 'Mailgun webhook');
  const e = parsed.data['event-data'];
  const variable = e['user-variables']?.tend_key;
  const messageId = e.message?.headers?.['message-id'];
  const base = {
    channel: 'email' as const,
    idempotencyKey: typeof variable === 'string' ? variable : keyFromMessageId(typeof messageId === 'string' ? messageId : undefined, options),
    providerMessageId: typeof messageId === 'string' ? messageId : e.id,
    address: e.recipient,
    occurredAt: isoFrom(e.timestamp),
  };
  const status = e['delivery-status'];
  const reason = [status?.code, status?.message || status?.description || e.reason].filter((x) => x !== undefined && x !== '').join(' ') || undefined;
  switch (e.event) {
    case 'delivered':
      return ok([{ ...base, type: 'delivered', reason }]);
    case 'failed':
      return ok([{ ...base, type: 'bounced', hard: e.severity === 'permanent', reason }]);
    case 'complained':
      return ok([{ ...base, type: 'complained', reason: 'complaint' }]);
    case 'unsubscribed':
      return ok([{ ...base, type: 'unsubscribed', reason: 'unsubscribed' }]);
    default:
      return ok([]);
  }
}

/** Checks a Mailgun webhook signature: hex HMAC-SHA256 of timestamp + token with the webhook signing key. */
export function verifyMailgunSignature(signingKey: string, signature: { timestamp: string; token: string; signature: string }): boolean {
  const expected = createHmac('sha256', signingKey).update(signature.timestamp + signature.token).digest();
  const given = Buffer.from(signature.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// ---------------------------------------------------------------- Postmark

const PostmarkBody = z.object({
  RecordType: z.string(),
  MessageID: z.string().optional(),
  Type: z.string().optional(),
  Email: z.string().optional(),
  Recipient: z.string().optional(),
  Description: z.string().optional(),
  Details: z.string().optional(),
  Inactive: z.boolean().optional(),
  BouncedAt: z.string().optional(),
  DeliveredAt: z.string().optional(),
  ChangedAt: z.string().optional(),
  SuppressSending: z.boolean().optional(),
  SuppressionReason: z.string().nullable().optional(),
  Metadata: z.record(z.string(), z.string()).optional(),
});

const postmarkHard = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);

/**
 * Parses a Postmark webhook (Bounce, SpamComplaint, Delivery, SubscriptionChange). Postmark
 * replaces the Message-ID, so the message is named by the metadata `tend_key` only.
 */
export function parsePostmarkWebhook(body: unknown): Result<DeliveryReport[]> {
  const parsed = PostmarkBody.safeParse(body);
  if (!parsed.success) return invalid(parsed.error, 'Postmark webhook');
  const p = parsed.data;
  const base = { channel: 'email' as const, idempotencyKey: p.Metadata?.tend_key, providerMessageId: p.MessageID, address: p.Email ?? p.Recipient };
  switch (p.RecordType) {
    case 'Bounce':
      return ok([
        {
          ...base,
          type: 'bounced',
          hard: postmarkHard.has(p.Type ?? '') || p.Inactive === true,
          reason: [p.Type, p.Description ?? p.Details].filter(Boolean).join(': '),
          occurredAt: isoFrom(p.BouncedAt),
        },
      ]);
    case 'SpamComplaint':
      return ok([{ ...base, type: 'complained', reason: 'spam complaint', occurredAt: isoFrom(p.BouncedAt) }]);
    case 'Delivery':
      return ok([{ ...base, type: 'delivered', reason: p.Details, occurredAt: isoFrom(p.DeliveredAt) }]);
    case 'SubscriptionChange':
      return p.SuppressSending && p.SuppressionReason === 'ManualSuppression'
        ? ok([{ ...base, type: 'unsubscribed', reason: 'unsubscribed at Postmark', occurredAt: isoFrom(p.ChangedAt) }])
        : ok([]);
    default:
      return ok([]);
  }
}
