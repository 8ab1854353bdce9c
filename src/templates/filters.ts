import { filters as builtin, type Context, type FilterImplOptions } from 'liquidjs';

/**
 * Tend's own Liquid filters: money and dates in the contact's locale and time zone. Everything
 * else (default, url_encode, truncate, upcase, …) is liquidjs's standard set.
 *
 * Intl formatters cost tens of microseconds to build and a fraction of one to use, so they are
 * cached by locale, currency and zone; a render must stay far below half a millisecond.
 */

/** What liquidjs binds `this` to in a filter; these filters only read the render context. */
type FilterImpl = { context: Context };
type Handler = (this: FilterImpl, value: unknown, ...args: unknown[]) => unknown;
const strftimeDate = builtin.date as Handler;

const FALLBACK_LOCALE = 'en-US';
const CACHE_LIMIT = 500;

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let hit = cache.get(key);
  if (hit === undefined) {
    // A shop has a handful of locales and currencies; the cap only guards against junk values.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    hit = make();
    cache.set(key, hit);
  }
  return hit;
}

const locales = new Map<string, string>();
/** A usable BCP 47 tag for whatever the contact's profile holds ("pl_PL", "", "klingon" …). */
function localeOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') return FALLBACK_LOCALE;
  return cached(locales, raw, () => {
    try {
      return Intl.getCanonicalLocales(raw.replace(/_/g, '-'))[0] ?? FALLBACK_LOCALE;
    } catch {
      return FALLBACK_LOCALE;
    }
  });
}

const zones = new Map<string, string>();
/** A valid IANA zone, or UTC: a typo in a profile must not fail the message. */
function zoneOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') return 'UTC';
  return cached(zones, raw, () => {
    try {
      return new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
    } catch {
      return 'UTC';
    }
  });
}

function scope(impl: FilterImpl, ...path: string[]): unknown {
  return impl.context.getSync(path);
}

type When = { date: Date; zone: string };

/**
 * A value as an instant and the zone to show it in. "now" and "today" mean the render context's
 * `now` (the injected clock). A calendar date without a time ("1990-06-15": a birthday, an expiry
 * day) is that day everywhere, so it is shown in UTC, where it was parsed, not shifted a day back
 * for a contact west of Greenwich.
 */
function when(impl: FilterImpl, v: unknown, zone: unknown): When | undefined {
  const contactZone = () => zoneOf(zone === undefined ? scope(impl, 'contact', 'timezone') : zone);
  if (v === 'now' || v === 'today') {
    const now = scope(impl, 'now');
    return { date: typeof now === 'string' ? new Date(now) : new Date(), zone: contactZone() };
  }
  if (v instanceof Date) return { date: v, zone: contactZone() };
  if (typeof v === 'number') return { date: new Date(v * 1000), zone: contactZone() }; // Liquid's convention: Unix seconds
  if (typeof v !== 'string' || v === '') return undefined;
  const date = new Date(v);
  if (Number.isNaN(date.getTime())) return undefined;
  return { date, zone: /^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? 'UTC' : contactZone() };
}

const moneyFormats = new Map<string, Intl.NumberFormat>();
/**
 * `{{ item.price | money: cart.currency }}` → "€24.50" (or "24,50 €" for a German contact). Without
 * a currency argument it uses the order's, then the cart's; with none at all, a plain number.
 */
function money(this: FilterImpl, amount: unknown, currency?: unknown): unknown {
  const n = typeof amount === 'number' ? amount : typeof amount === 'string' && amount.trim() !== '' ? Number(amount) : NaN;
  if (!Number.isFinite(n)) return amount;
  const locale = localeOf(scope(this, 'contact', 'locale'));
  const code = [currency, scope(this, 'order', 'currency'), scope(this, 'cart', 'currency')].find(
    (c): c is string => typeof c === 'string' && /^[A-Za-z]{3}$/.test(c),
  );
  const key = `${locale}|${code ?? ''}`;
  const format = cached(moneyFormats, key, () =>
    code
      ? new Intl.NumberFormat(locale, { style: 'currency', currency: code.toUpperCase() })
      : new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  );
  return format.format(n);
}

/**
 * liquidjs's strftime `date`, shown in the contact's time zone unless a zone is given:
 * `{{ order.ordered_at | date: "%-d %B %Y" }}`.
 */
function date(this: FilterImpl, v: unknown, format?: unknown, zone?: unknown): unknown {
  const w = when(this, v, zone);
  return w ? strftimeDate.call(this, w.date, format, w.zone) : v;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
type Style = 'short' | 'medium' | 'long' | 'full';
const styleOf = (s: unknown, fallback: Style): Style =>
  s === 'short' || s === 'medium' || s === 'long' || s === 'full' ? s : fallback;

function intlDate(impl: FilterImpl, v: unknown, dateStyle: Style, timeStyle?: Style): unknown {
  const w = when(impl, v, undefined);
  if (!w) return v;
  const locale = localeOf(scope(impl, 'contact', 'locale'));
  const key = `${locale}|${w.zone}|${dateStyle}|${timeStyle ?? ''}`;
  return cached(dateFormats, key, () => new Intl.DateTimeFormat(locale, { dateStyle, timeStyle, timeZone: w.zone })).format(w.date);
}

/** `{{ coupon.expires_at | format_date }}` → "15 March 2025" in the contact's language and zone. */
function format_date(this: FilterImpl, v: unknown, style?: unknown): unknown {
  return intlDate(this, v, styleOf(style, 'long'));
}

/** `{{ event.occurred_at | format_datetime: "short" }}` → "01/03/2025, 19:04". */
function format_datetime(this: FilterImpl, v: unknown, style?: unknown): unknown {
  const s = styleOf(style, 'medium');
  return intlDate(this, v, s, 'short');
}

/** The filters Tend adds to (or overrides in) liquidjs's standard set. */
export const tendFilters: Record<string, FilterImplOptions> = { money, date, format_date, format_datetime };
