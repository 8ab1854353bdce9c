/**
 * Reading contacts to score, a page at a time: the contacts and their order summaries come from
 * two queries over the same ids (sql/score-page.ts says why) and are merged here; a rescoring
 * also reads what is stored for them (sql/stored-scores.ts).
 *
 * A rescoring need not aggregate everybody's orders again (which, on a million customers, cost
 * the server more than the fit): the stored scores keep the order summary they were computed
 * from, with the contact's order version at the time (migrations/0024). A stored summary still
 * holds when the contact's order version is the one it was read at (no order of theirs was
 * written since) and the contact has no order on a day the summary's as-of day left out (the
 * plan's `orderedSince`, see scorer.ts). Everybody else, and contacts whose row predates 0024, is
 * aggregated as before, in one query per page.
 */
import type { Queryable } from '../../db/index.ts';
import type { CustomerInput } from './score.ts';
import {
  customersByIdSql, customersPageSql, parseCustomersPage, readOrderVersions, type CustomersPage, type CustomersPageRow, type OrderVersions,
} from './sql/customer-days.ts';
import { contactsByIdSql, contactsPageSql, contactsPageWithUserIdsSql, copyContactsPage, parseContactsPage, type ContactsPage, type ContactsPageRow, type ScorePage } from './sql/score-page.ts';
import { noneStored, readStoredById, readStoredRange, type StoredScores } from './sql/stored-scores.ts';

// Columns of `n` elements, to be filled by index and cut to length: a page's arrays grown by
// pushes left their smaller copies to the garbage collector, a quarter of a rescoring's garbage.
const columns = <K extends string>(keys: readonly K[], n: number) => Object.fromEntries(keys.map((k) => [k, new Array(n)])) as Record<K, (number | null)[]>;
const cut = (arrays: Record<string, unknown[]>, n: number) => {
  for (const a of Object.values(arrays)) a.length = n;
};

const PAGE_COLUMNS = ['id', 'x', 'first_day', 'last_day', 'last_gap', 'repeat_spend', 'spend', 'orders_version'] as const;
const CUSTOMER_COLUMNS = ['id', 'x', 'first_day', 'last_day', 'last_gap', 'repeat_spend', 'spend'] as const;

// Walks the contacts (sorted by id) and the customers among them (sorted by id) together.
function merge(contacts: ContactsPage, customers: CustomersPage, versions: OrderVersions = noVersions): ScorePage {
  const c = columns(PAGE_COLUMNS, contacts.n);
  const userIds = new Array<string | null>(contacts.n);
  let n = 0;
  let k = 0;
  let v = 0;
  for (let i = 0; i < contacts.n; i++) {
    const id = contacts.id[i]!;
    while (k < customers.n && customers.id[k]! < id) k++;
    while (v < versions.id.length && versions.id[v]! < id) v++;
    const ordered = k < customers.n && customers.id[k] === id;
    if (!contacts.live[i] || !(contacts.known[i] || ordered)) continue;
    c.id[n] = id;
    userIds[n] = contacts.user_id[i] ?? null;
    c.x[n] = ordered ? customers.x[k]! : null;
    c.first_day[n] = ordered ? customers.first_day[k]! : null;
    c.last_day[n] = ordered ? customers.last_day[k]! : null;
    c.last_gap[n] = ordered ? customers.last_gap[k]! : null;
    c.repeat_spend[n] = ordered ? customers.repeat_spend[k]! : null;
    c.spend[n] = ordered ? customers.spend[k]! : null;
    c.orders_version[n] = v < versions.id.length && versions.id[v] === id ? versions.version[v]! : null;
    n++;
  }
  cut(c, n);
  userIds.length = n;
  return { ...c, id: c.id as number[], user_id: userIds, page_size: contacts.n, last_id: contacts.last_id };
}

const noCustomers: CustomersPage = { id: [], x: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [], n: 0, last_id: null };
const noVersions: OrderVersions = { id: [], version: [] };

/**
 * How a rescoring gets the order summaries: `aggregate` every contact's orders, or reuse the
 * `stored` summaries where they hold, aggregating only the contacts whose orders changed and
 * those in `orderedSince` (contacts with an order on a day after the stored summaries' as-of day).
 * Whose orders changed, the order versions say: those bumped since the last full run (`changed`,
 * sorted by contact id) with everybody else's version the stored one (scorer.ts, inputsPlan says
 * why that holds), or, when `changed` is null, every contact's version as read page by page.
 */
export type InputsPlan = { kind: 'aggregate' } | { kind: 'stored'; orderedSince: ReadonlySet<number>; changed: OrderVersions | null };

/**
 * The customers among `contacts` whose orders must be aggregated, and the others' stored order
 * summaries (a page of customers, sorted by id, as the aggregation returns them).
 */
function reusable(contacts: ContactsPage, stored: StoredScores, versions: OrderVersions, orderedSince: ReadonlySet<number>): { aggregate: number[]; kept: CustomersPage } {
  const aggregate: number[] = [];
  const c = columns(CUSTOMER_COLUMNS, contacts.n);
  let n = 0;
  let k = 0;
  let v = 0;
  for (let i = 0; i < contacts.n; i++) {
    const id = contacts.id[i]!;
    if (!contacts.live[i]) continue;
    while (k < stored.id.length && stored.id[k]! < id) k++;
    while (v < versions.id.length && versions.id[v]! < id) v++;
    const version = v < versions.id.length && versions.id[v] === id ? versions.version[v]! : null;
    const s = k < stored.id.length && stored.id[k] === id ? k : -1;
    if (version === null) {
      // No order written since versions were kept: a prospect, unless the stored row says otherwise.
      if (s >= 0 && (stored.purchase_days[s] ?? 0) > 0) aggregate.push(id);
      continue;
    }
    const days = s < 0 ? null : stored.purchase_days[s] ?? null;
    const holds = s >= 0 && stored.orders_version[s] === version && !orderedSince.has(id) && days !== null &&
      (days === 0 || (stored.spend[s] != null && stored.first_day[s] != null && stored.last_day[s] != null && stored.last_gap[s] != null && stored.repeat_spend[s] != null));
    if (!holds) aggregate.push(id);
    else if (days! > 0) {
      c.id[n] = id;
      c.x[n] = days! - 1;
      c.first_day[n] = stored.first_day[s]!;
      c.last_day[n] = stored.last_day[s]!;
      c.last_gap[n] = stored.last_gap[s]!;
      c.repeat_spend[n] = stored.repeat_spend[s]!;
      c.spend[n] = stored.spend[s]!;
      n++;
    }
  }
  cut(c, n);
  return { aggregate, kept: { ...(c as Record<(typeof CUSTOMER_COLUMNS)[number], number[]>), n, last_id: null } };
}

/**
 * The order versions of the contacts with ids in (after, upTo], without reading them all: the
 * `changed` ones (sorted by id), the version stored with everybody else's scores, and for stored
 * rows that keep no version (no packed state) the ones `read` for them.
 */
function versionsSince(stored: StoredScores, changed: OrderVersions, read: OrderVersions, after: number, upTo: number): OrderVersions {
  let j = firstAbove(changed.id, after);
  const end = firstAbove(changed.id, upTo);
  const out = columns(['id', 'version'] as const, stored.id.length + end - j) as OrderVersions;
  let n = 0;
  let k = 0;
  let r = 0;
  const put = (id: number, version: number | null) => {
    if (version === null) return;
    out.id[n] = id;
    out.version[n++] = version;
  };
  while (k < stored.id.length || j < end) {
    const next = j < end ? changed.id[j]! : Infinity;
    const id = k < stored.id.length ? stored.id[k]! : Infinity;
    if (next < id) put(next, changed.version[j++]!);
    else {
      if (next === id) j++;
      if (stored.purchase_days[k] != null) put(id, next === id ? changed.version[j - 1]! : stored.orders_version[k] ?? null);
      else {
        while (r < read.id.length && read.id[r]! < id) r++;
        put(id, r < read.id.length && read.id[r] === id ? read.version[r]! : null);
      }
      k++;
    }
  }
  cut(out, n);
  return out;
}

/** The index of the first id above `id` in ascending `ids`. */
function firstAbove(ids: readonly number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two pages of customers, each sorted by id and with no id in both, as one. */
function union(a: CustomersPage, b: CustomersPage): CustomersPage {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const c = columns(CUSTOMER_COLUMNS, n) as Record<(typeof CUSTOMER_COLUMNS)[number], number[]>;
  let i = 0;
  let j = 0;
  for (let o = 0; o < n; o++) {
    const from = j >= b.n || (i < a.n && a.id[i]! < b.id[j]!) ? a : b;
    const at = from === a ? i++ : j++;
    c.id[o] = from.id[at]!;
    c.x[o] = from.x[at]!;
    c.first_day[o] = from.first_day[at]!;
    c.last_day[o] = from.last_day[at]!;
    c.last_gap[o] = from.last_gap[at]!;
    c.repeat_spend[o] = from.repeat_spend[at]!;
    c.spend[o] = from.spend[at]!;
  }
  return { ...c, n, last_id: null };
}

/**
 * Up to `limit` contacts with ids in (after, upTo], with their order summaries as of a day (and
 * their user ids with `userIds`).
 */
export async function readScorePage(
  db: Queryable,
  workspaceId: string,
  asOf: string,
  after: number,
  limit: number,
  options: { upTo?: number; userIds?: boolean } = {},
): Promise<ScorePage> {
  const sql = options.userIds ? contactsPageWithUserIdsSql : contactsPageSql;
  const contacts = parseContactsPage((await db.query<ContactsPageRow>(sql, [workspaceId, after, options.upTo ?? Number.MAX_SAFE_INTEGER, limit])).rows[0]!);
  if (contacts.n === 0) return merge(contacts, noCustomers);
  const customers = parseCustomersPage((await db.query<CustomersPageRow>(customersPageSql, [workspaceId, asOf, after, contacts.last_id, limit])).rows[0]!);
  return merge(contacts, customers);
}

/**
 * A page to rescore: as {@link readScorePage}, with the scores stored for the same id range and
 * the contacts' order versions (read before the order summaries are). With a `stored` plan, the
 * order summaries come from the stored scores where they hold, and only the other customers'
 * orders are aggregated.
 */
export async function readRescorePage(
  db: Queryable,
  workspaceId: string,
  asOf: string,
  after: number,
  limit: number,
  upTo: number,
  plan: InputsPlan = { kind: 'aggregate' },
): Promise<{ page: ScorePage; stored: StoredScores; aggregated: number }> {
  const contacts = await copyContactsPage(db, workspaceId, after, upTo, limit);
  if (contacts.n === 0) return { page: merge(contacts, noCustomers), stored: noneStored, aggregated: 0 };
  // The versions before the orders: a summary aggregated after reading a version holds every
  // order written before that version (the versions' trigger bumps them with the order). Those
  // of a plan's `changed` were read as the run began.
  const changed = plan.kind === 'stored' ? plan.changed : null;
  const [stored, read] = await Promise.all([
    readStoredRange(db, workspaceId, after, contacts.last_id!),
    changed ? null : readOrderVersions(db, workspaceId, { after, upTo: contacts.last_id! }),
  ]);
  // Rows without a packed state keep no version: theirs are read.
  const unknown = changed ? stored.id.filter((_, i) => stored.purchase_days[i] == null) : [];
  const versions = changed
    ? versionsSince(stored, changed, unknown.length > 0 ? await readOrderVersions(db, workspaceId, unknown) : noVersions, after, contacts.last_id!)
    : read!;
  if (plan.kind === 'aggregate') {
    const customers = parseCustomersPage((await db.query<CustomersPageRow>(customersPageSql, [workspaceId, asOf, after, contacts.last_id, limit])).rows[0]!);
    return { page: merge(contacts, customers, versions), stored, aggregated: customers.n };
  }
  const { aggregate, kept } = reusable(contacts, stored, versions, plan.orderedSince);
  const fresh = aggregate.length === 0 ? noCustomers : parseCustomersPage((await db.query<CustomersPageRow>(customersByIdSql, [workspaceId, asOf, aggregate])).rows[0]!);
  return { page: merge(contacts, union(kept, fresh), versions), stored, aggregated: aggregate.length };
}

/** The given contacts with their order summaries as of a day, their stored scores and order versions. */
export async function readRescoreContacts(db: Queryable, workspaceId: string, asOf: string, contactIds: readonly number[]): Promise<{ page: ScorePage; stored: StoredScores }> {
  // The versions first: a summary aggregated after reading a version holds every order written before it.
  const versions = await readOrderVersions(db, workspaceId, contactIds);
  const [contacts, customers, stored] = await Promise.all([
    db.query<ContactsPageRow>(contactsByIdSql, [workspaceId, contactIds]),
    db.query<CustomersPageRow>(customersByIdSql, [workspaceId, asOf, contactIds]),
    readStoredById(db, workspaceId, contactIds),
  ]);
  return { page: merge(parseContactsPage(contacts.rows[0]!), parseCustomersPage(customers.rows[0]!), versions), stored };
}

/** The page's `i`th contact as a scoring input, written into `out` (which a scoring loop reuses). */
export function inputAt(page: ScorePage, i: number, out: CustomerInput): CustomerInput {
  out.contactId = page.id[i]!;
  out.x = page.x[i] ?? null;
  out.firstDay = page.first_day[i] ?? null;
  out.lastDay = page.last_day[i] ?? null;
  out.lastGap = page.last_gap[i] ?? null;
  out.repeatSpend = page.repeat_spend[i] ?? null;
  out.spend = page.spend[i] ?? null;
  return out;
}

/** The page's contacts as scoring inputs. */
export function inputsOf(page: ScorePage): CustomerInput[] {
  return page.id.map((_, i) => inputAt(page, i, { contactId: 0, x: null, firstDay: null, lastDay: null, lastGap: null, repeatSpend: null, spend: null }));
}
