/**
 * The signature on Tend's webhooks, for the receiving end. Tend signs like Stripe does:
 *
 *   Tend-Signature: t=1772446500,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
 *
 * where v1 is the hex HMAC-SHA256, keyed with the shared secret, of `${t}.${body}` (the raw request
 * body, byte for byte). While a secret is being replaced the header carries one v1 per secret. A
 * receiver recomputes the HMAC with its secret, compares in constant time with any v1, and refuses
 * a t further than a few minutes from its own clock, so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tend-Signature';

const hmac = (secret: string, t: number, body: string | Buffer) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

/** The Tend-Signature header value for a body sent at `timestamp` (Unix seconds), one v1 per secret. */
export function signWebhook(secrets: string | readonly string[], body: string | Buffer, timestamp: number): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${timestamp}`, ...list.map((s) => `v1=${hmac(s, timestamp, body)}`)].join(',');
}

/**
 * Checks a Tend-Signature header against the raw body: true when one of its v1 values is the
 * HMAC with `secret` and its timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifySignature(secret: string, header: string | undefined, body: string | Buffer, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  let t: number | undefined;
  const given: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (name === 't' && /^\d+$/.test(value)) t = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) given.push(value);
  }
  if (t === undefined || given.length === 0 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  return given.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
