/**
 * Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).
 * web-push builds the request (encryption, VAPID JWT, headers); Tend sends it itself through the
 * outbound guard, because the endpoint comes from a browser and could name any address, and
 * web-push's own sender can neither be guarded nor reach a plain-http push service in tests.
 *
 * The Topic header is derived from the idempotency key: a push service keeps only the newest
 * message per topic for an offline browser, so a retry replaces the first try instead of adding a
 * second notification; the notification's tag does the same in the browser's tray.
 */
import { createHash } from 'node:crypto';
import { webpush } from './web-push.ts';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import type { ChannelProvider, OutgoingMessage, PushPayload, SendResult } from '../port.ts';
import { outboundRequest, retryAfterMs, type Resolver } from '../ssrf.ts';
import type { PushConfig } from './config.ts';

export type PushDeps = { clock?: Clock; resolve?: Resolver };

/** The most a push service must accept in an encrypted message (RFC 8030 §7.2), less the aes128gcm overhead. */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 17;

/** A Topic (at most 32 URL-safe characters) for an idempotency key: the key itself when it fits, else a hash of it. */
export function topicFor(idempotencyKey: string): string {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(idempotencyKey)) return idempotencyKey;
  return createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 32);
}

/** What the service worker receives (decrypted): the notification and how to report it. */
export type PushMessage = PushPayload['notification'] & { id: string; tag: string; receipt?: string };

/** The JSON the service worker gets for a message. */
export function pushMessage(message: OutgoingMessage<'push'>, receiptUrl?: string): PushMessage {
  const n = message.payload.notification;
  return { ...n, id: message.idempotencyKey, tag: topicFor(message.idempotencyKey), ...(receiptUrl ? { receipt: receiptUrl } : {}) };
}

/** The web push channel. */
export function createWebPushProvider(config: PushConfig, deps: PushDeps = {}): ChannelProvider<'push'> {
  const clock = deps.clock ?? systemClock;
  const vapidDetails = { subject: config.subject, publicKey: config.publicKey, privateKey: config.privateKey };
  return {
    channel: 'push',
    name: 'web-push',
    async send(message: OutgoingMessage<'push'>): Promise<SendResult> {
      const p = message.payload;
      const json = JSON.stringify(pushMessage(message, config.receiptUrl));
      if (Buffer.byteLength(json) > MAX_PAYLOAD_BYTES) return { status: 'failed', error: `the notification is ${Buffer.byteLength(json)} bytes as JSON; push allows ${MAX_PAYLOAD_BYTES}` };
      let details: ReturnType<ReturnType<typeof webpush>['generateRequestDetails']>;
      try {
        details = webpush().generateRequestDetails(p.subscription, json, {
          vapidDetails,
          TTL: p.ttl ?? config.defaultTtl,
          urgency: p.urgency ?? 'normal',
          topic: topicFor(message.idempotencyKey),
          contentEncoding: 'aes128gcm',
        });
      } catch (err) {
        // Keys that do not decode or are not on the curve: this subscription can never work.
        return { status: 'failed', error: `unusable subscription: ${(err as Error).message}`, suppress: 'subscription_gone' };
      }
      const headers = Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)]));
      const now = clock.now();
      const res = await outboundRequest(details.endpoint, {
        method: 'POST',
        headers,
        body: details.body ?? undefined,
        timeoutMs: config.timeoutMs,
        allowPrivate: config.allowPrivate,
        resolve: deps.resolve,
      });
      if (res.kind === 'refused') return { status: 'failed', error: `refused: ${res.reason}`, suppress: 'subscription_gone' };
      if (res.kind === 'error') return { status: 'retry', error: res.error, retryAfterMs: 30_000 };
      if (res.status >= 200 && res.status < 300) {
        const location = res.headers.location;
        return { status: 'accepted', providerMessageId: typeof location === 'string' ? location : undefined, detail: `HTTP ${res.status}` };
      }
      const detail = `push service answered ${res.status}: ${res.body.slice(0, 200)}`;
      if (res.status === 404 || res.status === 410) return { status: 'failed', error: detail, suppress: 'subscription_gone' };
      if (res.status === 429 || res.status >= 500) return { status: 'retry', error: detail, retryAfterMs: retryAfterMs(res.headers['retry-after'], now) ?? 60_000 };
      return { status: 'failed', error: detail };
    },
    async close() {},
  };
}
