/**
 * Reading contacts to score, a page at a time: the contacts and their order summaries come from
 * two queries over the same ids (sql/score-page.ts says why) and are merged here; a rescoring
 * also reads what is stored for them (sql/stored-scores.ts).
 */
import type { Queryable } from '../../db/index.ts';
import type { CustomerInput } from './score.ts';
import { churnBands, lifecycleStages, rfmCells } from './schema.ts';
import { customersByIdSql, customersPageSql, parseCustomersPage, type CustomersPage, type CustomersPageRow } from './sql/customer-days.ts';
import { contactsByIdSql, contactsPageSql, contactsPageWithUserIdsSql, parseContactsPage, type ContactsPage, type ContactsPageRow, type ScorePage } from './sql/score-page.ts';
import { parseStoredScores, storedByIdSql, storedPageSql, type StoredScores, type StoredScoresRow } from './sql/stored-scores.ts';

// Walks the contacts (sorted by id) and the customers among them (sorted by id) together.
function merge(contacts: ContactsPage, customers: CustomersPage): ScorePage {
  const page: ScorePage = {
    id: [], user_id: [], x: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [],
    page_size: contacts.n, last_id: contacts.last_id,
  };
  let k = 0;
  for (let i = 0; i < contacts.n; i++) {
    const id = contacts.id[i]!;
    while (k < customers.n && customers.id[k]! < id) k++;
    const ordered = k < customers.n && customers.id[k] === id;
    if (!contacts.live[i] || !(contacts.known[i] || ordered)) continue;
    page.id.push(id);
    page.user_id.push(contacts.user_id[i] ?? null);
    page.x.push(ordered ? customers.x[k]! : null);
    page.first_day.push(ordered ? customers.first_day[k]! : null);
    page.last_day.push(ordered ? customers.last_day[k]! : null);
    page.last_gap.push(ordered ? customers.last_gap[k]! : null);
    page.repeat_spend.push(ordered ? customers.repeat_spend[k]! : null);
    page.spend.push(ordered ? customers.spend[k]! : null);
  }
  return page;
}

const noCustomers: CustomersPage = { id: [], x: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [], n: 0, last_id: null };
const noneStored: StoredScores = { id: [], fingerprint: [], next_day: [], stored_code: [] };

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
 * A page to rescore: as {@link readScorePage}, with the scores stored for the same id range
 * (read while the order summaries are).
 */
export async function readRescorePage(db: Queryable, workspaceId: string, asOf: string, after: number, limit: number, upTo: number): Promise<{ page: ScorePage; stored: StoredScores }> {
  const contacts = parseContactsPage((await db.query<ContactsPageRow>(contactsPageSql, [workspaceId, after, upTo, limit])).rows[0]!);
  if (contacts.n === 0) return { page: merge(contacts, noCustomers), stored: noneStored };
  const [customers, stored] = await Promise.all([
    db.query<CustomersPageRow>(customersPageSql, [workspaceId, asOf, after, contacts.last_id, limit]),
    db.query<StoredScoresRow>(storedPageSql, [workspaceId, after, contacts.last_id, rfmCells, churnBands, lifecycleStages]),
  ]);
  return { page: merge(contacts, parseCustomersPage(customers.rows[0]!)), stored: parseStoredScores(stored.rows[0]!) };
}

/** The given contacts with their order summaries as of a day, and their stored scores. */
export async function readRescoreContacts(db: Queryable, workspaceId: string, asOf: string, contactIds: readonly number[]): Promise<{ page: ScorePage; stored: StoredScores }> {
  const [contacts, customers, stored] = await Promise.all([
    db.query<ContactsPageRow>(contactsByIdSql, [workspaceId, contactIds]),
    db.query<CustomersPageRow>(customersByIdSql, [workspaceId, asOf, contactIds]),
    db.query<StoredScoresRow>(storedByIdSql, [workspaceId, contactIds, rfmCells, churnBands, lifecycleStages]),
  ]);
  return { page: merge(parseContactsPage(contacts.rows[0]!), parseCustomersPage(customers.rows[0]!)), stored: parseStoredScores(stored.rows[0]!) };
}

/** The page's contacts as scoring inputs. */
export function inputsOf(page: ScorePage): CustomerInput[] {
  return page.id.map((contactId, i) => ({
    contactId,
    x: page.x[i] ?? null,
    firstDay: page.first_day[i] ?? null,
    lastDay: page.last_day[i] ?? null,
    lastGap: page.last_gap[i] ?? null,
    repeatSpend: page.repeat_spend[i] ?? null,
    spend: page.spend[i] ?? null,
  }));
}
