/**
 * The port every channel provider plugs into. The send pipeline (src/channels/delivery.ts) owns it:
 * it renders a message, records it with a stable idempotency key, and only then hands it to a
 * provider. A provider turns one rendered message into one delivery attempt and says how it went;
 * it never decides whether a message should go (that is the policy gate) and never writes to Tend's
 * database (that is the pipeline, which records the outcome).
 *
 * Idempotency: `idempotencyKey` is the same on every attempt of the same message. Providers pass it
 * on wherever the far side can use it (the email's Message-ID, an `Idempotency-Key` header, the push
 * notification's topic, the print piece id), so a retry after a crash repeats the same message and
 * can never become a second, different one.
 */

export const channels = ['email', 'sms', 'push', 'print', 'webhook'] as const;
export type Channel = (typeof channels)[number];

export type EmailPayload = {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers: List-Unsubscribe, List-Unsubscribe-Post, X-Tend-* … */
  headers: Record<string, string>;
};

export type SmsPayload = {
  /** E.164, e.g. +48500100200. */
  to: string;
  from?: string;
  body: string;
  /** How many SMS segments the body takes (GSM-7 160/153, UCS-2 70/67): what the message costs. */
  segments?: number;
};

export type PushSubscriptionKeys = { p256dh: string; auth: string };
export type PushPayload = {
  subscription: { endpoint: string; keys: PushSubscriptionKeys };
  notification: {
    title: string;
    body: string;
    /** Where a click on the notification goes (a signed click-tracking link). */
    url?: string;
    image?: string;
    icon?: string;
    actions?: { action: string; title: string; url: string }[];
  };
  /** Seconds the push service keeps the message for an offline browser. */
  ttl?: number;
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
};

export type PostalAddress = {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  region?: string;
  country: string;
};
export type PrintPayload = {
  format: 'letter' | 'postcard';
  address: PostalAddress;
  /** The rendered piece: simple HTML-ish text (paragraphs, headings, bold, images by URL are ignored). */
  body: string;
  /** Front of a postcard (its headline); ignored for letters. */
  headline?: string;
};

export type WebhookPayload = {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  /** The request body exactly as sent (JSON text, rendered from the step's template). */
  body: string;
};

export type PayloadOf = {
  email: EmailPayload;
  sms: SmsPayload;
  push: PushPayload;
  print: PrintPayload;
  webhook: WebhookPayload;
};

export type OutgoingMessage<C extends Channel = Channel> = {
  /** Tend's id of the message (the `messages` row). */
  id: string;
  /** Stable across retries of this message; unique per message. Safe in headers (hex). */
  idempotencyKey: string;
  workspaceId: string;
  channel: C;
  /** Marketing messages may be capped and need consent; transactional ones (receipts) are exempt. */
  transactional: boolean;
  payload: PayloadOf[C];
  /** 1 on the first try; providers may use it in logs, never to change the message. */
  attempt: number;
};

export type SendResult =
  /** The far side took the message. `providerMessageId` is how its later webhooks name it. */
  | { status: 'accepted'; providerMessageId?: string; detail?: string; costCents?: number }
  /** Try again later (4xx SMTP reply, HTTP 429/5xx, a network error). */
  | { status: 'retry'; error: string; retryAfterMs?: number }
  /** Will never work for this recipient (5xx SMTP reply, invalid number, push subscription gone). */
  | { status: 'failed'; error: string; suppress?: 'hard_bounce' | 'invalid_address' | 'subscription_gone' };

export interface ChannelProvider<C extends Channel = Channel> {
  readonly channel: C;
  /** A short name shown in the message log: 'smtp', 'outbox', 'twilio', 'http', 'web-push', 'pdf', 'webhook'. */
  readonly name: string;
  send(message: OutgoingMessage<C>): Promise<SendResult>;
  /** Releases connections, flushes batches. */
  close(): Promise<void>;
}

/**
 * What a provider's webhook (or a bounce message) tells Tend about a message after it was sent.
 * The tracking domain turns these into contact events ("Message Delivered", "Message Bounced", …)
 * and suppressions.
 */
export type DeliveryReport = {
  type: 'delivered' | 'bounced' | 'complained' | 'unsubscribed' | 'failed' | 'inbound';
  channel: Channel;
  /** Tend's idempotency key if the provider echoes it (Message-ID, custom args), else undefined. */
  idempotencyKey?: string;
  providerMessageId?: string;
  /** The address or number it is about, when the report names it. */
  address?: string;
  /** For bounces: a hard bounce suppresses the address; a soft one does not. */
  hard?: boolean;
  reason?: string;
  /** An inbound SMS body (for STOP handling). */
  text?: string;
  occurredAt?: string;
};
