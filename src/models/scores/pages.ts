/**
 * Reading contacts to score, a page at a time: the contacts and their order summaries come from
 * two queries over the same ids (sql/score-page.ts says why) and are merged here.
 */
import type { Queryable } from '../../db/index.ts';
import type { CustomerInput } from './score.ts';
import { customersByIdSql, customersPageSql, parseCustomersPage, type CustomersPage, type CustomersPageRow } from './sql/customer-days.ts';
import { contactsByIdSql, contactsPageSql, parseContactsPage, type ContactsPage, type ContactsPageRow, type ScorePage } from './sql/score-page.ts';

// Walks the contacts (sorted by id) and the customers among them (sorted by id) together.
function merge(contacts: ContactsPage, customers: CustomersPage): ScorePage {
  const page: ScorePage = {
    id: [], user_id: [], x: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [], unscored: [],
    page_size: contacts.n, last_id: contacts.last_id,
  };
  let k = 0;
  for (let i = 0; i < contacts.n; i++) {
    const id = contacts.id[i]!;
    while (k < customers.n && customers.id[k]! < id) k++;
    const ordered = k < customers.n && customers.id[k] === id;
    if (!contacts.live[i] || !(contacts.known[i] || ordered)) {
      page.unscored.push(id);
      continue;
    }
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

/** Up to `limit` contacts with ids in (after, upTo], with their order summaries as of a day. */
export async function readScorePage(db: Queryable, workspaceId: string, asOf: string, after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER): Promise<ScorePage> {
  const contacts = parseContactsPage((await db.query<ContactsPageRow>(contactsPageSql, [workspaceId, after, upTo, limit])).rows[0]!);
  if (contacts.n === 0) return merge(contacts, { id: [], x: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [], n: 0, last_id: null });
  const customers = parseCustomersPage((await db.query<CustomersPageRow>(customersPageSql, [workspaceId, asOf, after, contacts.last_id, limit])).rows[0]!);
  return merge(contacts, customers);
}

/** The given contacts with their order summaries as of a day. */
export async function readContactsScorePage(db: Queryable, workspaceId: string, asOf: string, contactIds: readonly number[]): Promise<ScorePage> {
  const [contacts, customers] = await Promise.all([
    db.query<ContactsPageRow>(contactsByIdSql, [workspaceId, contactIds]),
    db.query<CustomersPageRow>(customersByIdSql, [workspaceId, asOf, contactIds]),
  ]);
  return merge(parseContactsPage(contacts.rows[0]!), parseCustomersPage(customers.rows[0]!));
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
