/**
 * Journey webhook steps: one signed request per message to the step's URL. The URL is the
 * marketer's choice, so it always passes the outbound guard (no private addresses, no redirects
 * followed), and the request carries the idempotency key so the receiver can drop a repeat.
 */
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import type { ChannelProvider, OutgoingMessage, SendResult } from '../port.ts';
import { outboundRequest, retryAfterMs, type Resolver } from '../ssrf.ts';
import type { WebhookConfig } from './config.ts';
import { SIGNATURE_HEADER, signWebhook } from './webhooks.ts';

export type WebhookDeps = { clock?: Clock; resolve?: Resolver };

/** Headers that belong to the transport or to Tend's own signing; a step's headers cannot set them. */
const controlled = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'content-type', 'idempotency-key', SIGNATURE_HEADER.toLowerCase()]);

/** The webhook channel: signed JSON requests. */
export function createWebhookProvider(config: WebhookConfig, deps: WebhookDeps = {}): ChannelProvider<'webhook'> {
  const clock = deps.clock ?? systemClock;
  return {
    channel: 'webhook',
    name: 'webhook',
    async send(message: OutgoingMessage<'webhook'>): Promise<SendResult> {
      const p = message.payload;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(p.headers)) {
        if (controlled.has(name.toLowerCase())) continue;
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) return { status: 'failed', error: `the header ${JSON.stringify(name)} is not a valid HTTP header` };
        headers[name.toLowerCase()] = value;
      }
      const now = clock.now();
      headers['content-type'] = 'application/json';
      headers['user-agent'] ??= 'Tend-Webhooks/1';
      headers['idempotency-key'] = message.idempotencyKey;
      headers[SIGNATURE_HEADER] = signWebhook(config.secrets, p.body, Math.floor(now.getTime() / 1000));
      const res = await outboundRequest(p.url, {
        method: p.method,
        headers,
        body: p.body,
        timeoutMs: config.timeoutMs,
        allowPrivate: config.allowPrivate,
        resolve: deps.resolve,
      });
      if (res.kind === 'refused') return { status: 'failed', error: `refused: ${res.reason}` };
      if (res.kind === 'error') return { status: 'retry', error: res.error, retryAfterMs: 30_000 };
      const detail = `HTTP ${res.status}`;
      if (res.status >= 200 && res.status < 300) return { status: 'accepted', detail };
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        return { status: 'retry', error: `${detail}: ${res.body.slice(0, 300)}`, retryAfterMs: retryAfterMs(res.headers['retry-after'], now) ?? 60_000 };
      }
      // 3xx too: redirects are not followed, a moved endpoint is the step's to fix.
      return { status: 'failed', error: `${detail}: ${res.body.slice(0, 300)}` };
    },
    async close() {},
  };
}
