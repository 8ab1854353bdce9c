import type { Queryable } from '../../db/index.ts';
import { contactIdRangeSql, customersPageSql, parseCustomersPage, type CustomersPage, type CustomersPageRow } from './sql/customer-days.ts';

const DAY_MS = 86_400_000;

/** A calendar day (YYYY-MM-DD) as whole UTC days since 1970-01-01. */
export function dayOf(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(ms)) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return ms / DAY_MS;
}
/** The UTC calendar day of an instant, as YYYY-MM-DD. */
export const utcDate = (at: Date): string => at.toISOString().slice(0, 10);
/** A day number (whole UTC days since 1970-01-01) as YYYY-MM-DD. */
export const dayString = (day: number): string => utcDate(new Date(day * DAY_MS));

/** Contact-id ranges ((after, upTo]) that split a workspace's contacts into `parts` of equal id span. */
export async function contactRanges(db: Queryable, workspaceId: string, parts: number): Promise<{ after: number; upTo: number }[]> {
  const { rows } = await db.query<{ lo: number | null; hi: number | null }>(contactIdRangeSql, [workspaceId]);
  const lo = rows[0]?.lo;
  const hi = rows[0]?.hi;
  if (lo == null || hi == null) return [];
  const span = hi - lo + 1;
  const out: { after: number; upTo: number }[] = [];
  for (let i = 0; i < parts; i++) {
    const after = lo - 1 + Math.floor((span * i) / parts);
    const upTo = i === parts - 1 ? hi : lo - 1 + Math.floor((span * (i + 1)) / parts);
    if (upTo > after) out.push({ after, upTo });
  }
  return out;
}

/** Streams the customers of one id range in pages (see sql/customer-days.ts). */
export async function* fitPages(db: Queryable, workspaceId: string, asOf: string, range: { after: number; upTo: number }, pageSize: number): AsyncGenerator<CustomersPage> {
  let after = range.after;
  for (;;) {
    const { rows } = await db.query<CustomersPageRow>(customersPageSql, [workspaceId, asOf, after, range.upTo, pageSize]);
    const page = parseCustomersPage(rows[0]!);
    if (page.n === 0 || page.last_id === null) return;
    yield page;
    if (page.n < pageSize) return;
    after = page.last_id;
  }
}
