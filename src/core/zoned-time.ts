/**
 * Wall-clock time in a contact's time zone, from the IANA database that ships with Node (Intl).
 * Journeys wait "until 09:00 in the contact's zone", quiet hours end "at 08:00 Europe/Warsaw", and
 * birthdays fall on the contact's local day; all of these need the instant at which a local time
 * happens, across daylight-saving changes.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

/** Is `tz` a time zone Intl knows? Unknown or missing zones fall back to the workspace default. */
export function isTimeZone(tz: string | null | undefined): tz is string {
  if (!tz) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export type LocalParts = { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number };

/** The local calendar date and time of an instant in `tz`; weekday 1 = Monday … 7 = Sunday. */
export function localParts(at: Date, tz: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const { year, month, day, hour, minute, second } = parts as Record<string, number>;
  const weekday = ((new Date(Date.UTC(year!, month! - 1, day!)).getUTCDay() + 6) % 7) + 1;
  return { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second!, weekday };
}

/** The offset of `tz` from UTC at an instant, in milliseconds. */
function offsetMs(at: Date, tz: string): number {
  const p = localParts(at, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `tz` shows this date and time. A time skipped by a
 * daylight-saving jump resolves to the same wall time in the new offset (02:30 becomes 03:30).
 */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, tz: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - offsetMs(new Date(guess), tz);
  const second = guess - offsetMs(new Date(first), tz);
  return new Date(second);
}

/** "09:00" → [9, 0]. */
export function parseTimeOfDay(hhmm: string): [number, number] {
  const [h, m] = hhmm.split(':').map(Number);
  return [h!, m!];
}

/** The next instant strictly after `now` at which the local time in `tz` is `hhmm`. */
export function nextLocalTime(now: Date, hhmm: string, tz: string): Date {
  const [h, m] = parseTimeOfDay(hhmm);
  const p = localParts(now, tz);
  for (let add = 0; add < 3; add++) {
    const d = new Date(Date.UTC(p.year, p.month - 1, p.day + add));
    const at = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), h, m, tz);
    if (at.getTime() > now.getTime()) return at;
  }
  throw new Error(`no ${hhmm} in ${tz} within three days of ${now.toISOString()}`);
}

/** Minutes since local midnight. */
export function localMinutes(at: Date, tz: string): number {
  const p = localParts(at, tz);
  return p.hour * 60 + p.minute;
}

const unitMs: Record<string, number> = { min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Adds "90d", "1h", "3mo", "-30d" …; months and years move the calendar date (UTC). */
export function addDuration(at: Date, duration: string): Date {
  const m = /^([+-]?\d+)(min|h|d|w|mo|y)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  const n = Number(m[1]);
  const unit = m[2]!;
  if (unit === 'mo' || unit === 'y') {
    const d = new Date(at);
    d.setUTCMonth(d.getUTCMonth() + (unit === 'y' ? 12 * n : n));
    return d;
  }
  return new Date(at.getTime() + n * unitMs[unit]!);
}

/** The length of a duration in milliseconds (months as 30 days, years as 365: for windows). */
export function durationMs(duration: string): number {
  const m = /^([+-]?\d+)(min|h|d|w|mo|y)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  const n = Number(m[1]);
  return n * (m[2] === 'mo' ? 30 * 86_400_000 : m[2] === 'y' ? 365 * 86_400_000 : unitMs[m[2]!]!);
}

/** A calendar date ("1990-05-17", or the date part of a timestamp) shifted by an offset such as +3mo. */
export function shiftDate(date: string, offset: string | undefined): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(d.getTime())) return null;
  const shifted = offset ? addDuration(d, offset) : d;
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}
