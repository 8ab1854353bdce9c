// Formatting of numbers, money, dates and the names of people and events, in the browser's locale.

const number = new Intl.NumberFormat();
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatNumber = (n) => (n === null || n === undefined ? '—' : number.format(Number(n)));

/** Money with its currency when known; plain two decimals otherwise. */
export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined) return '—';
  const value = Number(amount);
  if (currency && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value);
    } catch {
      // An unknown currency code: fall through to a plain number.
    }
  }
  return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
}

export function formatDate(value, { time = true } = {}) {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : (time ? dateTime : dateOnly).format(date);
}

/** "3 minutes ago", "yesterday", "in 2 days". */
export function formatRelative(value, now = Date.now()) {
  if (!value) return '—';
  const seconds = (new Date(value).getTime() - now) / 1000;
  const steps = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [604800, 'day'], [2629800, 'week'], [31557600, 'month'], [Infinity, 'year']];
  const sizes = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800, month: 2629800, year: 31557600 };
  for (const [limit, unit] of steps) {
    if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / sizes[unit]), unit);
  }
  return formatDate(value);
}

/** The best human name in a contact's traits, or null. */
export function personName(contact) {
  const t = contact?.traits ?? {};
  const text = (v) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  const full = [text(t.first_name ?? t.firstName), text(t.last_name ?? t.lastName)].filter(Boolean).join(' ');
  return full || text(t.name);
}

/** What to call a contact in lists and headings. */
export function contactLabel(contact) {
  return personName(contact) ?? contact?.email ?? contact?.userId ?? `Anonymous visitor #${contact?.id ?? '?'}`;
}

/** An event's headline: the track name, or what a page, identify or alias call did. */
export function eventLabel(event) {
  switch (event.type) {
    case 'track':
      return event.name ?? 'Track';
    case 'page':
      return event.name ? `Viewed page ${event.name}` : 'Viewed a page';
    case 'screen':
      return event.name ? `Viewed screen ${event.name}` : 'Viewed a screen';
    case 'identify':
      return 'Identified';
    case 'group':
      return event.name ? `Joined group ${event.name}` : 'Joined a group';
    case 'alias':
      return 'Linked a previous id';
    default:
      return event.name ?? event.type;
  }
}

/** A short one-line summary of an object's keys and values, for tables. */
export function summarize(properties, max = 4) {
  if (!properties || typeof properties !== 'object') return '';
  const entries = Object.entries(properties);
  const shown = entries.slice(0, max).map(([k, v]) => `${k}: ${short(v)}`);
  if (entries.length > max) shown.push(`+${entries.length - max} more`);
  return shown.join(' · ');
}

function short(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** A value shown in a key/value list: strings as they are, everything else as JSON. */
export const display = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));
