/**
 * What Twilio tells Tend at `/hooks/sms/twilio`: status callbacks for messages Tend sent (the
 * callback URL carries `?k=<idempotency key>`) and inbound messages (replies, STOP). The route
 * checks X-Twilio-Signature with verifyTwilioSignature before believing either.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail, ok, type Result } from '../../core/result.ts';
import type { DeliveryReport } from '../port.ts';

export type TwilioParams = Record<string, string | string[] | undefined>;

/** Twilio error codes on an undelivered message that mean the number cannot take SMS. */
const deadNumberCodes = new Set(['21211', '21614', '30005', '30006']);

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * One Twilio webhook → a DeliveryReport, or null for in-between states (queued, sent, …).
 * `url` is the full URL Twilio called; its `k` parameter names Tend's message.
 */
export function parseTwilioWebhook(params: TwilioParams, url?: string): Result<DeliveryReport | null> {
  const sid = one(params.MessageSid) ?? one(params.SmsSid);
  if (!sid) return fail({ code: 'invalid', message: 'Twilio webhook without MessageSid', field: 'MessageSid' });
  let idempotencyKey: string | undefined;
  if (url) {
    try {
      idempotencyKey = new URL(url, 'http://tend.invalid').searchParams.get('k') ?? undefined;
    } catch {
      idempotencyKey = undefined;
    }
  }
  const status = one(params.MessageStatus) ?? one(params.SmsStatus);
  const body = one(params.Body);
  if (body !== undefined && (status === undefined || status === 'received')) {
    const from = one(params.From);
    if (!from) return fail({ code: 'invalid', message: 'inbound Twilio message without From', field: 'From' });
    return ok({ type: 'inbound', channel: 'sms', providerMessageId: sid, address: from, text: body });
  }
  const base = { channel: 'sms' as const, idempotencyKey, providerMessageId: sid, address: one(params.To) };
  const code = one(params.ErrorCode);
  const reason = code ? `Twilio error ${code}${one(params.ErrorMessage) ? `: ${one(params.ErrorMessage)}` : ''}` : status;
  switch (status) {
    case 'delivered':
      return ok({ ...base, type: 'delivered' });
    case 'undelivered':
    case 'failed':
      if (code === '21610') return ok({ ...base, type: 'unsubscribed', reason: 'the recipient opted out at the carrier (21610)' });
      if (code && deadNumberCodes.has(code)) return ok({ ...base, type: 'bounced', hard: true, reason });
      return ok({ ...base, type: 'failed', reason });
    case undefined:
      return fail({ code: 'invalid', message: 'Twilio webhook without MessageStatus or Body', field: 'MessageStatus' });
    default:
      return ok(null);
  }
}

const normalise = (text: string) => text.trim().replace(/[.!]+$/, '').toUpperCase();

/** Opt-out keywords carriers and Twilio honour: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (any case, trimmed). */
export function isStopKeyword(text: string): boolean {
  return ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'].includes(normalise(text));
}

/** Opt-in again: START, UNSTOP (any case, trimmed). */
export function isStartKeyword(text: string): boolean {
  return ['START', 'UNSTOP'].includes(normalise(text));
}

/** Twilio's request signature: base64 HMAC-SHA1 of the URL followed by every POST parameter's name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? [...value].sort() : [value]) data += name + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The URL with its default port written out, and without it: Twilio may have signed either. */
function urlVariants(url: string): string[] {
  try {
    const u = new URL(url);
    const port = u.protocol === 'https:' ? '443' : '80';
    if (u.port) {
      const bare = new URL(url);
      bare.port = '';
      return [url, bare.toString()];
    }
    return [url, url.replace(u.host, `${u.host}:${port}`)];
  } catch {
    return [url];
  }
}

/**
 * Checks the X-Twilio-Signature header of a webhook. `url` must be the exact public URL Twilio
 * called (with the query string): behind a proxy, build it from TEND_PUBLIC_URL, not the Host header.
 */
export function verifyTwilioSignature(authToken: string, url: string, params: TwilioParams, signature: string | undefined): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  return urlVariants(url).some((u) => {
    const expected = Buffer.from(twilioSignature(authToken, u, params));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}
