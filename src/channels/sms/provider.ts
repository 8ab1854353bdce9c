/**
 * SMS through Twilio's Messages API or a generic JSON gateway. Both pass the idempotency key to the
 * far side (Twilio's I-Twilio-Idempotency-Token, an Idempotency-Key header), so a retry after a
 * lost answer does not text the person twice. Every request goes through the outbound guard.
 */
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import type { ChannelProvider, OutgoingMessage, SendResult } from '../port.ts';
import { outboundRequest, retryAfterMs, type OutboundResponse, type Resolver } from '../ssrf.ts';
import type { HttpSmsConfig, TwilioConfig } from './config.ts';

export type SmsDeps = { clock?: Clock; resolve?: Resolver };

/** Twilio error codes that mean the number itself cannot take SMS: invalid, not mobile, unroutable. */
export const twilioInvalidNumberCodes = new Set([21211, 21217, 21401, 21407, 21421, 21601, 21612, 21614]);

const MINUTE = 60_000;

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The shared part of reading an HTTP answer: refused → failed, no answer → retry, 429/5xx → retry
 * (honouring Retry-After), 401/403 → retry (the credentials are the operator's to fix, not the
 * message's fault), 2xx → undefined (the caller reads the body).
 */
function commonResult(res: OutboundResponse, now: Date): SendResult | undefined {
  if (res.kind === 'refused') return { status: 'failed', error: `refused: ${res.reason}` };
  if (res.kind === 'error') return { status: 'retry', error: res.error, retryAfterMs: 30_000 };
  if (res.status >= 200 && res.status < 300) return undefined;
  const detail = `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
  if (res.status === 429 || res.status >= 500) return { status: 'retry', error: detail, retryAfterMs: retryAfterMs(res.headers['retry-after'], now) ?? (res.status === 429 ? MINUTE : 30_000) };
  if (res.status === 401 || res.status === 403) return { status: 'retry', error: `the gateway refused the credentials: ${detail}`, retryAfterMs: 15 * MINUTE };
  return undefined;
}

/** SMS through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`). */
export function createTwilioProvider(config: TwilioConfig, deps: SmsDeps = {}): ChannelProvider<'sms'> {
  const clock = deps.clock ?? systemClock;
  const endpoint = `${config.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${config.accountSid}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;
  return {
    channel: 'sms',
    name: 'twilio',
    async send(message: OutgoingMessage<'sms'>): Promise<SendResult> {
      const p = message.payload;
      const form = new URLSearchParams({ To: p.to, Body: p.body });
      const from = p.from ?? config.from;
      if (from) form.set('From', from);
      else if (config.messagingServiceSid) form.set('MessagingServiceSid', config.messagingServiceSid);
      if (config.statusCallbackUrl) {
        const callback = new URL(config.statusCallbackUrl);
        callback.searchParams.set('k', message.idempotencyKey);
        form.set('StatusCallback', callback.toString());
      }
      const res = await outboundRequest(endpoint, {
        method: 'POST',
        headers: {
          authorization,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          'i-twilio-idempotency-token': message.idempotencyKey,
        },
        body: form.toString(),
        timeoutMs: config.timeoutMs,
        allowPrivate: config.allowPrivate,
        resolve: deps.resolve,
      });
      const common = commonResult(res, clock.now());
      if (common) return common;
      if (res.kind !== 'response') return { status: 'retry', error: 'no answer' };
      const json = parseJson(res.body);
      if (res.status >= 200 && res.status < 300) {
        return { status: 'accepted', providerMessageId: typeof json?.sid === 'string' ? json.sid : undefined, detail: typeof json?.status === 'string' ? json.status : undefined };
      }
      const code = typeof json?.code === 'number' ? json.code : undefined;
      const error = `Twilio ${code ?? res.status}: ${typeof json?.message === 'string' ? json.message : res.body.slice(0, 300)}`;
      if (code !== undefined && twilioInvalidNumberCodes.has(code)) return { status: 'failed', error, suppress: 'invalid_address' };
      return { status: 'failed', error };
    },
    async close() {},
  };
}

/**
 * SMS through a generic gateway: `POST url` with JSON `{to, from, body, id}`, an Idempotency-Key
 * header and an optional bearer token. 2xx accepted (an `id` or `message_id` in the answer becomes
 * the provider's id), 429/5xx retry, other 4xx failed.
 */
export function createHttpSmsProvider(config: HttpSmsConfig, deps: SmsDeps = {}): ChannelProvider<'sms'> {
  const clock = deps.clock ?? systemClock;
  return {
    channel: 'sms',
    name: 'http',
    async send(message: OutgoingMessage<'sms'>): Promise<SendResult> {
      const p = message.payload;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': message.idempotencyKey };
      if (config.token) headers.authorization = `Bearer ${config.token}`;
      const res = await outboundRequest(config.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ to: p.to, from: p.from ?? config.from, body: p.body, id: message.idempotencyKey }),
        timeoutMs: config.timeoutMs,
        allowPrivate: config.allowPrivate,
        resolve: deps.resolve,
      });
      const common = commonResult(res, clock.now());
      if (common) return common;
      if (res.kind !== 'response') return { status: 'retry', error: 'no answer' };
      if (res.status >= 200 && res.status < 300) {
        const json = parseJson(res.body);
        const id = json?.id ?? json?.message_id;
        return { status: 'accepted', providerMessageId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined };
      }
      return { status: 'failed', error: `HTTP ${res.status}: ${res.body.slice(0, 300)}` };
    },
    async close() {},
  };
}
