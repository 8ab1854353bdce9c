// Cell types shared by the CSV formats. Every cell arrives as text (blank cells are left out of the
// row), so each type is a zod schema from string to its value, with messages that say what was
// expected and quote (shortened, escaped) what was found.
import { z } from 'zod';

/** A cell value quoted for an error message: shortened, with control characters escaped. */
export function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

const CONTROL = /[\p{Cc}]/u;

/** Trimmed text of at most `max` characters. */
export const text = (max: number) => z.string().trim().max(max, { error: `is too long (at most ${max} characters)` });

/** An identifier: trimmed, at most `max` characters, no control characters. */
export const identifier = (max = 256) =>
  text(max).refine((s) => !CONTROL.test(s), { error: 'must not contain control characters (tabs, line breaks …)' });

/** An amount of money: a non-negative decimal number written with a dot, below 10^12. */
export const money = z.string().transform((raw, ctx) => {
  const s = raw.trim();
  if (!/^[-+]?\d+(\.\d+)?$/.test(s)) {
    ctx.addIssue({ code: 'custom', message: `${show(s)} is not a number (write amounts like 19.99, with a dot and no currency sign)` });
    return z.NEVER;
  }
  const n = Number(s);
  if (n < 0) ctx.addIssue({ code: 'custom', message: `must not be negative (found ${s})` });
  else if (n >= 1e12) ctx.addIssue({ code: 'custom', message: `is too large (found ${s})` });
  return Math.round(n * 100) / 100;
});

/** A whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) =>
  z.string().transform((raw, ctx) => {
    const s = raw.trim();
    if (!/^[-+]?\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `${show(s)} is not a whole number` });
      return z.NEVER;
    }
    const n = Number(s);
    if (n < min) ctx.addIssue({ code: 'custom', message: `must be at least ${min} (found ${s})` });
    else if (n > max) ctx.addIssue({ code: 'custom', message: `must be at most ${max.toLocaleString('en')} (found ${s})` });
    return n;
  });

/** A three-letter ISO 4217 currency code, upper-cased. */
export const currency = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{3}$/, { error: 'must be a three-letter currency code such as EUR' })
  .transform((s) => s.toUpperCase());

/** yes/no in the spellings spreadsheets produce. */
export const yesNo = z.string().transform((raw, ctx) => {
  const s = raw.trim().toLowerCase();
  if (['true', 'yes', 'y', '1', 't'].includes(s)) return true;
  if (['false', 'no', 'n', '0', 'f'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `${show(raw)} is not yes or no (write true/false, yes/no or 1/0)` });
  return z.NEVER;
});

/** An http(s) address; anything else (javascript:, data:) could run in the web app. */
export const httpUrl = text(2000).refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'must be an http:// or https:// address' },
);

/** Skus separated by `|`. */
export const skuList = z.string().transform((raw, ctx) => {
  const skus = raw.split('|').map((s) => s.trim()).filter((s) => s !== '');
  if (skus.length > 100) ctx.addIssue({ code: 'custom', message: `lists ${skus.length} skus; at most 100` });
  const bad = skus.find((s) => s.length > 200 || CONTROL.test(s));
  if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `${show(bad)} is not a valid sku` });
  return [...new Set(skus)];
});

/** A calendar date (YYYY-MM-DD), checked to exist. */
export const calendarDate = z.string().transform((raw, ctx) => {
  const s = raw.trim();
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? realDate(s) : null;
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `${show(s)} is not a date (write YYYY-MM-DD)` });
    return z.NEVER;
  }
  return s;
});

/**
 * A point in time: an ISO 8601 date-time (without an offset it is read as UTC), a date YYYY-MM-DD
 * or YYYYMMDD (midnight UTC; research data such as CDNOW uses the latter).
 */
export const timestamp = z.string().transform((raw, ctx) => {
  const d = parseTimestamp(raw.trim());
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `${show(raw.trim())} is not a date (write YYYY-MM-DD, YYYYMMDD or an ISO 8601 date-time such as 2026-03-01T14:30:00Z)` });
    return z.NEVER;
  }
  return d;
});

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTimestamp(s: string): Date | null {
  if (/^\d{8}$/.test(s)) return realDate(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return realDate(s);
  const m = DATE_TIME.exec(s);
  if (!m) return null;
  const day = realDate(m[1]!);
  const [hh, mm, ss] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (!day || hh > 23 || mm > 59 || ss > 59) return null;
  let zone = m[6] ?? 'Z';
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = m[5] ? `.${m[5].slice(0, 3).padEnd(3, '0')}` : '';
  const d = new Date(`${m[1]}T${m[2]}:${m[3]}:${String(ss).padStart(2, '0')}${ms}${zone.toUpperCase()}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The date at midnight UTC, or null when it does not exist (2026-02-30). */
function realDate(iso: string): Date | null {
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) return null;
  const year = d.getUTCFullYear();
  return year >= 1900 && year <= 2999 ? d : null;
}

/** The column and message of a schema problem with one row. */
export function rowIssue(issue: z.core.$ZodIssue): { column: string; message: string } {
  const column = issue.path.length > 0 ? String(issue.path[0]) : '';
  switch (issue.code) {
    case 'invalid_type':
      // Cells arrive as text or not at all, so a type problem means a blank required cell.
      return { column, message: 'is required' };
    case 'invalid_value':
      return { column, message: `must be one of ${issue.values.map((v) => String(v)).join(', ')}` };
    default:
      return { column, message: issue.message };
  }
}
