import { createHmac, timingSafeEqual } from 'node:crypto';
import { channels, type Channel } from '../channels/port.ts';

/**
 * Signed tracking links. Every link Tend puts in a message carries a token: base64url(JSON payload)
 * "." base64url(HMAC-SHA256). The routes under /t/ act only on tokens that verify, so the click
 * redirect can only ever send people to a URL Tend signed, and an unsubscribe link only unsubscribes
 * the contact it was made for.
 *
 * Each payload names its kind (`k`), so a token made for one route is refused by the others: the
 * open pixel's URL, which image proxies see, cannot be replayed as a preferences link.
 */

type Ref = { w: string; m: string; c: string };
export type ClickPayload = Ref & { k: 'c'; u: string };
export type OpenPayload = Ref & { k: 'o' };
export type UnsubscribePayload = Ref & { k: 'u'; ch: Channel; t?: string };
export type PreferencesPayload = Ref & { k: 'p'; ch?: Channel };
/** A survey answer link: the survey and the answer ride in the query (the contact's own words). */
export type SurveyPayload = Ref & { k: 's' };
export type LinkPayload = ClickPayload | OpenPayload | UnsubscribePayload | PreferencesPayload | SurveyPayload;
export type LinkKind = LinkPayload['k'];
type PayloadOf<K extends LinkKind> = Extract<LinkPayload, { k: K }>;

export type TokenFailure = {
  ok: false;
  /** unsigned: no signature; tampered: the signature does not match; malformed: not a token; wrong_kind: made for another route. */
  reason: 'unsigned' | 'tampered' | 'malformed' | 'wrong_kind';
  message: string;
};
export type TokenResult<T> = { ok: true; payload: T } | TokenFailure;

/** The same secret may sign other things one day; this keeps a link's MAC from meaning anything else. */
const DOMAIN = 'tend/link/1.';
const MAX_TOKEN = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(DOMAIN).update(body).digest('base64url');
}

/** Signs a payload: base64url(JSON) "." base64url(HMAC-SHA256 with the workspace's link secret). */
export function signToken(secret: string, payload: LinkPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

/**
 * Checks a token and returns its payload. `secret` may be a list (the current secret first) so links
 * already sent keep working while a secret is rotated; `kind` refuses tokens made for another route.
 */
export function verifyToken<K extends LinkKind>(secret: string | readonly string[], token: string, kind: K): TokenResult<PayloadOf<K>>;
export function verifyToken(secret: string | readonly string[], token: string): TokenResult<LinkPayload>;
export function verifyToken(secret: string | readonly string[], token: string, kind?: LinkKind): TokenResult<LinkPayload> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN) return failure('malformed', 'not a link token');
  const dot = token.indexOf('.');
  if (dot === -1 || dot === token.length - 1) return failure('unsigned', 'the token has no signature');
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (!B64URL.test(body) || !B64URL.test(signature)) return failure('malformed', 'the token is not base64url');
  // Compare the encoded text, not decoded bytes: base64url's last character carries spare bits,
  // and two different strings decoding to the same MAC would let a changed token through.
  const given = Buffer.from(signature);
  const matches = (typeof secret === 'string' ? [secret] : secret).some((s) => {
    const expected = Buffer.from(mac(s, body));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!matches) return failure('tampered', 'the token signature does not match');
  // Only now is the payload worth parsing: it is Tend's own.
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return failure('malformed', 'the token payload is not JSON');
  }
  if (!isPayload(payload)) return failure('malformed', 'the token payload is not a link payload');
  if (kind !== undefined && payload.k !== kind) return failure('wrong_kind', `the token is for /t/${payload.k}/, not /t/${kind}/`);
  return { ok: true, payload };
}

function failure(reason: TokenFailure['reason'], message: string): TokenFailure {
  return { ok: false, reason, message };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isChannel = (v: unknown): v is Channel => (channels as readonly unknown[]).includes(v);

function isPayload(p: unknown): p is LinkPayload {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  if (!isText(o.w) || !isText(o.m) || !isText(o.c)) return false;
  switch (o.k) {
    case 'c':
      return isText(o.u) && /^https?:\/\//i.test(o.u);
    case 'o':
      return true;
    case 'u':
      return isChannel(o.ch) && (o.t === undefined || isText(o.t));
    case 'p':
      return o.ch === undefined || isChannel(o.ch);
    case 's':
      return true;
    default:
      return false;
  }
}

/** Whose message a link belongs to, and where Tend's /t/ routes are served. */
export type LinkContext = { baseUrl: string; secret: string; workspaceId: string; messageId: string; contactId: string };
export type Utm = { source: string; medium: string; campaign: string; content?: string };

const trimBase = (baseUrl: string) => baseUrl.replace(/\/+$/, '');
const ref = (l: LinkContext): Ref => ({ w: l.workspaceId, m: l.messageId, c: l.contactId });

/** The click-tracking URL for `url` (which should already carry its UTM parameters). */
export function clickUrl(l: LinkContext, url: string): string {
  return `${trimBase(l.baseUrl)}/t/c/${signToken(l.secret, { k: 'c', ...ref(l), u: url })}`;
}

/** The open pixel's URL. */
export function openUrl(l: LinkContext): string {
  return `${trimBase(l.baseUrl)}/t/o/${signToken(l.secret, { k: 'o', ...ref(l) })}`;
}

/** One-click unsubscribe from a channel (and a topic, when given): `${baseUrl}/t/u/<token>`. */
export function unsubscribeUrl(l: LinkContext & { channel: Channel; topic?: string }): string {
  const payload: UnsubscribePayload = { k: 'u', ...ref(l), ch: l.channel, ...(l.topic ? { t: l.topic } : {}) };
  return `${trimBase(l.baseUrl)}/t/u/${signToken(l.secret, payload)}`;
}

/** The contact's preference centre: `${baseUrl}/t/p/<token>`. */
export function preferencesUrl(l: LinkContext & { channel?: Channel }): string {
  const payload: PreferencesPayload = { k: 'p', ...ref(l), ...(l.channel ? { ch: l.channel } : {}) };
  return `${trimBase(l.baseUrl)}/t/p/${signToken(l.secret, payload)}`;
}

/** The base of survey answer links: `${baseUrl}/t/s/<token>`; a template adds `?q=<survey>&a=<answer>`. */
export function surveyUrl(l: LinkContext): string {
  return `${trimBase(l.baseUrl)}/t/s/${signToken(l.secret, { k: 's', ...ref(l) })}`;
}

/**
 * Adds UTM parameters to an http(s) URL, keeping its query and fragment as written; parameters the
 * URL already has win (a marketer's hand-made utm_content stays). Other URLs come back unchanged.
 */
export function addUtm(url: string, utm: Utm): string {
  if (!/^https?:\/\//i.test(url)) return url;
  const hashAt = url.indexOf('#');
  const main = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt);
  const queryAt = main.indexOf('?');
  const query = queryAt === -1 ? '' : main.slice(queryAt + 1);
  const present = new Set(query.split('&').map((pair) => safeDecode(pair.split('=')[0]!)));
  const wanted: [string, string | undefined][] = [
    ['utm_source', utm.source],
    ['utm_medium', utm.medium],
    ['utm_campaign', utm.campaign],
    ['utm_content', utm.content],
  ];
  const added = wanted.filter(([k, v]) => v && !present.has(k)).map(([k, v]) => `${k}=${encodeURIComponent(v!)}`);
  if (added.length === 0) return url;
  const separator = queryAt === -1 ? '?' : query === '' || query.endsWith('&') ? '' : '&';
  return `${main}${separator}${added.join('&')}${fragment}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export type RewriteOptions = LinkContext & { utm?: Utm };

// An <a> start tag, quoted attribute values may hold '>'.
const ANCHOR = /<a\s(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
// One attribute at a time, so an href written inside another attribute's value is never taken.
const ATTRIBUTE = /\s*([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?|\s*\/?/y;

/**
 * Tracks an email's links and opens: every `<a href="http(s)://…">` points at a signed
 * `${baseUrl}/t/c/<token>` for the original URL plus UTM parameters, and an open pixel goes before
 * `</body>`. `mailto:`, `tel:`, `#anchors`, `javascript:` and links already under `${baseUrl}/t/`
 * stay as they are. One pass over the string, no DOM: this runs for every message.
 */
export function rewriteEmailLinks(html: string, options: RewriteOptions): string {
  const base = trimBase(options.baseUrl);
  const signed = new Map<string, string>(); // the same URL twice in one email is signed once
  const rewritten = html.replace(ANCHOR, (tag) => {
    const href = findHref(tag);
    if (!href) return tag;
    const url = trackable(decodeEntities(href.value), base);
    if (!url) return tag;
    let tracked = signed.get(url);
    if (tracked === undefined) {
      tracked = clickUrl(options, options.utm ? addUtm(url, options.utm) : url);
      signed.set(url, tracked);
    }
    return `${tag.slice(0, href.start)}href="${escapeAttribute(tracked)}"${tag.slice(href.end)}`;
  });
  const pixel = `<img src="${escapeAttribute(openUrl(options))}" width="1" height="1" alt="" style="display:none">`;
  let end = rewritten.lastIndexOf('</body>');
  if (end === -1) end = rewritten.search(/<\/body\s*>(?![\s\S]*<\/body)/i);
  return end === -1 ? rewritten + pixel : rewritten.slice(0, end) + pixel + rewritten.slice(end);
}

/**
 * Tracks the bare http(s) URLs of a plain-text part the same way (no pixel: text cannot show one).
 * Not meant for SMS, where a token makes each link some 200 characters long.
 */
export function rewriteTextLinks(text: string, options: RewriteOptions): string {
  const base = trimBase(options.baseUrl);
  return text.replace(/https?:\/\/[^\s<>"'[\]()]+/gi, (found) => {
    // Sentence punctuation after a URL is not part of it.
    const url = found.replace(/[.,;:!?]+$/, '');
    const target = trackable(url, base);
    if (!target) return found;
    return clickUrl(options, options.utm ? addUtm(target, options.utm) : target) + found.slice(url.length);
  });
}

/** The URL to sign, or undefined for links that must not be tracked. */
function trackable(raw: string, base: string): string | undefined {
  // Browsers drop tabs and line breaks inside URLs and spaces around them; so does Tend.
  const url = raw.replace(/[\t\n\r]/g, '').trim();
  if (!/^https?:\/\//i.test(url) || url.startsWith(`${base}/t/`)) return undefined;
  try {
    // Normalised (spaces percent-encoded, host lower-cased) so the redirect's Location is valid.
    return new URL(url).href;
  } catch {
    return undefined;
  }
}

function findHref(tag: string): { value: string; start: number; end: number } | undefined {
  ATTRIBUTE.lastIndex = 2; // after "<a"
  while (ATTRIBUTE.lastIndex < tag.length - 1) {
    const start = ATTRIBUTE.lastIndex;
    const m = ATTRIBUTE.exec(tag);
    if (!m || m[0].length === 0) return undefined;
    if (m[1]?.toLowerCase() === 'href') {
      const value = m[2] ?? m[3] ?? m[4];
      if (value === undefined) return undefined;
      const leading = m[0].length - m[0].trimStart().length;
      return { value, start: start + leading, end: ATTRIBUTE.lastIndex };
    }
  }
  return undefined;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * Decodes the character references an href may hold (`&amp;` above all). Named ones need their
 * semicolon: in an attribute a browser reads `?a=1&lt=2` literally, and so must Tend.
 */
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d+);?|#[xX]([0-9a-fA-F]+);?|([a-zA-Z]+);)/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? whole;
    const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
