// Email checks at the door: a practical syntax check, disposable-domain detection, role addresses
// and "did you mean" suggestions for mistyped mailbox providers. Everything here is pure and
// never throws, so it is safe to run on every identify call and every imported row.
import disposableDomains from 'disposable-email-domains/index.json' with { type: 'json' };
import disposableWildcards from 'disposable-email-domains/wildcard.json' with { type: 'json' };
import { domainToASCII } from 'node:url';

export type EmailCheck = {
  /** Trimmed and lower-cased address (domain in ASCII/punycode form); null when the syntax is invalid. */
  normalized: string | null;
  /** Syntax is fine and the domain is not a disposable-mail service. */
  valid: boolean;
  /** The most important problem: syntax > disposable > typo > role. 'typo' and 'role' keep valid=true. */
  reason: 'ok' | 'syntax' | 'disposable' | 'typo' | 'role';
  disposable: boolean;
  /** A shared mailbox (admin@, info@, noreply@ ...) rather than a person. */
  role: boolean;
  /** The corrected full address when the domain looks like a typo of a popular provider. */
  suggestion: string | null;
};

/** RFC 5321 caps a forward path at 256 octets; 320 (64 + 1 + 255) is the generous practical limit. */
export const MAX_EMAIL_LENGTH = 320;

// Above this we do not even trim: nobody pads an address with hundreds of spaces, and refusing
// early keeps the cost of hostile multi-megabyte input constant.
const MAX_RAW_LENGTH = 1024;

const DISPOSABLE: ReadonlySet<string> = new Set(disposableDomains);
// The wildcard list names services where every subdomain is a throwaway inbox too.
const DISPOSABLE_WILDCARDS: readonly string[] = disposableWildcards;

/**
 * Popular mailbox providers, most used first: typo suggestions point at these, and on a tie the
 * earlier entry wins.
 */
export const POPULAR_EMAIL_DOMAINS: readonly string[] = [
  'gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com', 'aol.com', 'live.com',
  'googlemail.com', 'msn.com', 'comcast.net', 'protonmail.com', 'proton.me', 'gmx.de', 'gmx.net',
  'web.de', 't-online.de', 'wp.pl', 'onet.pl', 'o2.pl', 'interia.pl', 'mail.ru', 'yandex.ru',
  'orange.fr', 'free.fr', 'btinternet.com', 'hotmail.co.uk', 'yahoo.co.uk', 'hotmail.fr',
  'verizon.net', 'sbcglobal.net', 'bellsouth.net', 'naver.com', 'libero.it', 'laposte.net',
  'yahoo.fr', 'yahoo.de',
];

// Real providers that sit within a couple of keystrokes of a popular one (ymail.com vs gmail.com,
// gmx.at vs gmx.de), and short ISP domains (cox.net, qq.com) too close to ordinary company domains
// to be worth suggesting: addresses here are never typos, but nothing is corrected towards them.
const OTHER_KNOWN_DOMAINS: readonly string[] = [
  'ymail.com', 'mail.com', 'email.com', 'me.com', 'mac.com', 'gmx.com', 'gmx.at', 'gmx.ch',
  'gmx.fr', 'aim.com', 'live.de', 'live.fr', 'live.co.uk', 'live.ca', 'outlook.de', 'outlook.fr',
  'hotmail.de', 'hotmail.it', 'hotmail.es', 'yahoo.es', 'yahoo.it', 'yahoo.ca', 'yahoo.co.jp',
  'yahoo.co.in', 'op.pl', 'vp.pl', 'tlen.pl', 'go2.pl', 'poczta.fm', 'bk.ru', 'list.ru',
  'inbox.ru', 'ya.ru', 'yandex.com', 'pm.me', 'tutanota.com', 'zoho.com', 'fastmail.com',
  'hey.com', 'mail.de', 'freenet.de', 'arcor.de', 'wanadoo.fr', 'neuf.fr', 'sky.com',
  'virginmedia.com', 'talktalk.net', 'bigpond.com', 'optusnet.com.au', 'shaw.ca', 'rogers.com',
  'att.net', 'cox.net', 'charter.net', 'qq.com', '163.com', 'sfr.fr', 'uol.com.br', 'bol.com.br', 'terra.com.br', '126.com', 'sina.com', 'daum.net', 'hanmail.net',
  'rediffmail.com', 'seznam.cz', 'centrum.cz', 'abv.bg', 'ukr.net', 'tiscali.it', 'alice.it',
];

const KNOWN_DOMAINS: ReadonlySet<string> = new Set([...POPULAR_EMAIL_DOMAINS, ...OTHER_KNOWN_DOMAINS]);

// Misspellings of ".com" corrected only when the rest of the domain is a popular provider's name,
// because .co, .cm and friends are real country domains in their own right.
const COM_TYPOS: ReadonlySet<string> = new Set([
  'con', 'cmo', 'cm', 'co', 'om', 'comm', 'cpm', 'xom', 'vom', 'ocm', 'cim', 'cok', 'coom', 'c0m', 'vcom',
]);

// Role mailboxes, compared with dots, dashes and underscores removed ("no-reply" = "noreply").
const ROLE_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'abuse', 'accounting', 'accounts', 'admin', 'administrator', 'all', 'billing', 'careers',
  'compliance', 'contact', 'contactus', 'customercare', 'customerservice', 'customersupport',
  'dev', 'devnull', 'donotreply', 'enquiries', 'enquiry', 'everyone', 'feedback', 'finance',
  'help', 'helpdesk', 'hello', 'hostmaster', 'hr', 'info', 'information', 'inquiries', 'inquiry',
  'it', 'jobs', 'legal', 'mail', 'mailerdaemon', 'marketing', 'media', 'newsletter', 'noc',
  'noreply', 'notifications', 'office', 'orders', 'postmaster', 'press', 'privacy', 'recruiting',
  'root', 'sales', 'security', 'service', 'shop', 'staff', 'subscribe', 'support', 'sysadmin',
  'team', 'test', 'unsubscribe', 'webmaster',
]);

// Dot-atom local part: letters (any script), digits, marks and RFC 5322 atext symbols, separated by
// single dots. Quoted local parts ("john doe"@x) are legal but practically never real; we refuse them.
const LOCAL_ATOM = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// Whitespace, C0/C1 controls, zero-width and bidi controls: never part of a real address.
const FORBIDDEN_CHARS = /[\s\p{Cc}\p{Cf}]/u;

/**
 * Checks one email address: syntax, disposable domain, role mailbox and likely typo.
 * The address is normalized by trimming and lower-casing the whole of it, local part included:
 * the standard lets the local part be case-sensitive, but no mainstream provider treats it so,
 * and lower-casing lets "Jane@X.com" and "jane@x.com" be recognised as one contact.
 * Never throws; work is bounded for any input length.
 */
export function checkEmail(input: string): EmailCheck {
  const parsed = parseEmail(input);
  if (parsed === null) {
    return { normalized: null, valid: false, reason: 'syntax', disposable: false, role: false, suggestion: null };
  }
  const { local, domain } = parsed;
  const disposable = isDisposableDomain(domain);
  const role = isRoleLocalPart(local);
  const suggestedDomain = suggestDomain(domain);
  const suggestion = suggestedDomain === null ? null : `${local}@${suggestedDomain}`;
  const reason: EmailCheck['reason'] = disposable ? 'disposable' : suggestion !== null ? 'typo' : role ? 'role' : 'ok';
  return { normalized: `${local}@${domain}`, valid: !disposable, reason, disposable, role, suggestion };
}

/** Splits and validates an address; returns the lower-cased parts, or null when it is not usable. */
function parseEmail(input: unknown): { local: string; domain: string } | null {
  if (typeof input !== 'string' || input.length > MAX_RAW_LENGTH) return null;
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_EMAIL_LENGTH) return null;
  if (FORBIDDEN_CHARS.test(trimmed)) return null;
  const at = trimmed.indexOf('@');
  if (at <= 0 || at !== trimmed.lastIndexOf('@')) return null;
  const local = trimmed.slice(0, at).toLowerCase();
  const domain = toAsciiDomain(trimmed.slice(at + 1));
  if (local.length > 64 || !LOCAL_ATOM.test(local)) return null;
  if (domain === null || !isValidDomain(domain)) return null;
  return { local, domain };
}

/** Lower-cases the domain and turns an internationalized one into its punycode form. */
function toAsciiDomain(raw: string): string | null {
  const lower = raw.toLowerCase();
  // Only letters, digits, dots and hyphens can be in an ASCII domain; anything else in the ASCII
  // range (<, >, /, quotes ...) is refused before it can reach the IDN converter.
  if (/^[\x21-\x7e]*$/.test(lower)) return /^[a-z0-9.-]+$/.test(lower) ? lower : null;
  if (/[\x21-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(lower)) return null;
  const ascii = domainToASCII(lower);
  return ascii === '' ? null : ascii;
}

function isValidDomain(domain: string): boolean {
  if (domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1] ?? '';
  return TLD.test(tld) && labels.every((label) => DOMAIN_LABEL.test(label));
}

/** True when the (lower-case) domain belongs to a known throwaway-inbox service. */
export function isDisposableDomain(domain: string): boolean {
  if (DISPOSABLE.has(domain)) return true;
  for (const wildcard of DISPOSABLE_WILDCARDS) {
    if (domain.endsWith(`.${wildcard}`)) return true;
  }
  return false;
}

/** True when the (lower-case) local part names a shared mailbox; a "+tag" is ignored. */
export function isRoleLocalPart(local: string): boolean {
  const base = local.split('+', 1)[0] ?? '';
  return ROLE_LOCAL_PARTS.has(base.replace(/[._-]/g, ''));
}

/**
 * Suggests the popular provider a (lower-case, valid) domain most likely meant, or null when the
 * domain is known or nothing is close. Distances: ≤ 2 edits for longer domains, ≤ 1 for short
 * ones such as wp.pl, where two edits already reach a different real provider.
 */
export function suggestDomain(domain: string): string | null {
  if (KNOWN_DOMAINS.has(domain)) return null;
  const remembered = suggestions.get(domain);
  if (remembered !== undefined) return remembered;
  const suggestion = closestPopularDomain(domain);
  // Most addresses share a few domains: remember the answer (a bounded map, simply forgotten when full).
  if (suggestions.size >= MAX_REMEMBERED) suggestions.clear();
  suggestions.set(domain, suggestion);
  return suggestion;
}

const suggestions = new Map<string, string | null>();
const MAX_REMEMBERED = 10_000;

function closestPopularDomain(domain: string): string | null {
  const dot = domain.lastIndexOf('.');
  const name = domain.slice(0, dot);
  const tld = domain.slice(dot + 1);
  if (COM_TYPOS.has(tld) && POPULAR_EMAIL_DOMAINS.includes(`${name}.com`)) return `${name}.com`;

  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of POPULAR_EMAIL_DOMAINS) {
    const limit = candidate.length >= 9 ? 2 : 1;
    const distance = damerauLevenshtein(domain, candidate, limit);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Optimal-string-alignment Damerau–Levenshtein distance (insert, delete, substitute, swap two
 * neighbours). Returns limit + 1 as soon as the answer must exceed limit, keeping it cheap.
 */
export function damerauLevenshtein(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const width = b.length + 1;
  let prevPrev = new Array<number>(width).fill(0);
  let prev = Array.from({ length: width }, (_, j) => j);
  let current = new Array<number>(width).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((prev[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (prevPrev[j - 2] ?? 0) + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    [prevPrev, prev, current] = [prev, current, prevPrev];
  }
  const result = prev[b.length] ?? 0;
  return result > limit ? limit + 1 : result;
}
