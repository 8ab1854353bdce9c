import type { Db, Queryable } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { consentRows, saveConsents, type ConsentInput } from './consent.ts';
import { firstSeenSql, lastSeenSql } from './seen.ts';

export { resolveIdentities, mergeContact, type IdentityRef } from './identity.ts';
export { applyProfilePatches, isTimeZone, type ProfilePatch } from './profile.ts';
export { ConsentInput, consentRows, saveConsents, channels, type Channel, type ConsentRow } from './consent.ts';
export { checkEmail, type EmailCheck } from './email-check.ts';
export { firstSeenSql, lastSeenSql, ownEventPrefixes } from './seen.ts';

export type Contact = {
  id: number;
  userId: string | null;
  email: string | null;
  emailCheck: unknown;
  phone: string | null;
  traits: Record<string, unknown>;
  timezone: string | null;
  locale: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  createdAt: Date;
  updatedAt: Date;
};

export type ContactDetail = Contact & {
  anonymousIds: string[];
  consent: { channel: string; topic: string; granted: boolean; source: string; updatedAt: Date }[];
  orderCount: number;
  totalSpent: number;
};

type Row = {
  id: number; user_id: string | null; email: string | null; email_check: unknown; phone: string | null; traits: Record<string, unknown>;
  timezone: string | null; locale: string | null; first_seen_at: Date; last_seen_at: Date; created_at: Date; updated_at: Date;
};
// First and last seen are read from the contact's events (seen.ts).
const COLUMNS = `c.id, c.user_id, c.email, c.email_check, c.phone, c.traits, c.timezone, c.locale, ${firstSeenSql('c')} as first_seen_at, ${lastSeenSql('c')} as last_seen_at, c.created_at, c.updated_at`;
const toContact = (r: Row): Contact => ({
  id: r.id, userId: r.user_id, email: r.email, emailCheck: r.email_check, phone: r.phone, traits: r.traits, timezone: r.timezone,
  locale: r.locale, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Reading, searching, exporting and erasing contacts (the admin API and the web app use these). */
export function createContactService({ db, clock }: { db: Db; clock: Clock }) {
  async function get(workspaceId: string, id: number): Promise<ContactDetail | null> {
    const { rows } = await db.query<Row>(`select ${COLUMNS} from contacts c where c.workspace_id = $1 and c.id = $2 and c.merged_into is null`, [workspaceId, id]);
    if (!rows[0]) return null;
    const [aliases, consent, orders] = await Promise.all([
      db.query<{ alias_id: string }>(`select alias_id from contact_aliases where workspace_id = $1 and contact_id = $2 order by alias_id`, [workspaceId, id]),
      db.query<{ channel: string; topic: string; granted: boolean; source: string; updated_at: Date }>(
        `select channel, topic, granted, source, updated_at from contact_consents where workspace_id = $1 and contact_id = $2 order by channel, topic`,
        [workspaceId, id],
      ),
      db.query<{ n: number; spent: number }>(
        `select count(*)::int as n, coalesce(sum(total), 0)::numeric as spent from orders where workspace_id = $1 and contact_id = $2 and status = 'completed'`,
        [workspaceId, id],
      ),
    ]);
    return {
      ...toContact(rows[0]),
      anonymousIds: aliases.rows.map((r) => r.alias_id),
      consent: consent.rows.map((r) => ({ channel: r.channel, topic: r.topic, granted: r.granted, source: r.source, updatedAt: r.updated_at })),
      orderCount: orders.rows[0]?.n ?? 0,
      totalSpent: orders.rows[0]?.spent ?? 0,
    };
  }

  return {
    get,

    /**
     * Lists contacts newest first, paging by id (`before`), optionally matching a search text
     * against user id, email, phone and name traits.
     */
    async list(workspaceId: string, options: { q?: string; limit?: number; before?: number; known?: boolean } = {}): Promise<Contact[]> {
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
      const params: unknown[] = [workspaceId, limit];
      let where = `c.workspace_id = $1 and c.merged_into is null`;
      if (options.before) {
        params.push(options.before);
        where += ` and c.id < $${params.length}`;
      }
      if (options.known) where += ` and c.user_id is not null`;
      if (options.q) {
        params.push(`%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        const p = `$${params.length}`;
        where += ` and (c.user_id ilike ${p} or c.email ilike ${p} or c.phone ilike ${p} or c.traits->>'first_name' ilike ${p} or c.traits->>'last_name' ilike ${p} or c.traits->>'name' ilike ${p})`;
      }
      const { rows } = await db.query<Row>(`select ${COLUMNS} from contacts c where ${where} order by c.id desc limit $2`, params);
      return rows.map(toContact);
    },

    async findByUserId(workspaceId: string, userId: string): Promise<number | null> {
      const { rows } = await db.query<{ id: number }>(
        `select id from contacts where workspace_id = $1 and user_id = $2
         union all select contact_id from contact_aliases where workspace_id = $1 and alias_id = $2 limit 1`,
        [workspaceId, userId],
      );
      return rows[0]?.id ?? null;
    },

    /** A contact's events, newest first, paging by occurrence time. */
    async events(workspaceId: string, contactId: number, options: { limit?: number; before?: Date } = {}) {
      const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
      const { rows } = await db.query<{ id: number; message_id: string; type: string; name: string | null; properties: unknown; occurred_at: Date; received_at: Date }>(
        `select id, message_id, type, name, properties, occurred_at, received_at from events
          where workspace_id = $1 and contact_id = $2 and occurred_at < $3 order by occurred_at desc, id desc limit $4`,
        [workspaceId, contactId, options.before ?? new Date('9999-01-01'), limit],
      );
      return rows.map((r) => ({ id: r.id, messageId: r.message_id, type: r.type, name: r.name, properties: r.properties, occurredAt: r.occurred_at, receivedAt: r.received_at }));
    },

    /** Sets consent from the admin API; returns false when the contact does not exist. */
    async setConsent(workspaceId: string, contactId: number, input: ConsentInput): Promise<boolean> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(`select 1 from contacts where workspace_id = $1 and id = $2 and merged_into is null`, [workspaceId, contactId]);
        if (rows.length === 0) return false;
        await saveConsents(tx, workspaceId, [{ contactId, rows: consentRows(input) }], 'admin', clock.now());
        return true;
      });
    },

    /** Everything Tend holds about one contact (GDPR article 15 / 20). */
    async exportData(workspaceId: string, contactId: number) {
      const contact = await get(workspaceId, contactId);
      if (!contact) return null;
      const q = (sql: string) => db.query(sql, [workspaceId, contactId]).then((r) => r.rows);
      const [events, orders, items, carts] = await Promise.all([
        q(`select message_id, type, name, properties, context, occurred_at, received_at from events where workspace_id = $1 and contact_id = $2 order by occurred_at`),
        q(`select order_id, status, total, currency, coupon, discount, ordered_at from orders where workspace_id = $1 and contact_id = $2 order by ordered_at`),
        q(`select i.order_id, i.sku, i.quantity, i.unit_price from order_items i join orders o using (workspace_id, order_id) where o.workspace_id = $1 and o.contact_id = $2`),
        q(`select c.cart_id, c.status, c.updated_at, coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity)) filter (where i.sku is not null), '[]') as items
             from carts c left join cart_items i using (workspace_id, cart_id) where c.workspace_id = $1 and c.contact_id = $2 group by c.cart_id, c.status, c.updated_at`),
      ]);
      return { exportedAt: clock.now(), contact, events, orders, orderItems: items, carts };
    },

    /**
     * Erases a contact (GDPR article 17): the profile, its aliases, consent, events, carts and orders
     * are deleted in one transaction. Profiles merged into it earlier are deleted too.
     */
    async erase(workspaceId: string, contactId: number): Promise<boolean> {
      return db.transaction((tx) => eraseContactIn(tx, workspaceId, contactId));
    },
  };
}

export type ContactService = ReturnType<typeof createContactService>;

/**
 * Erases a contact inside the caller's transaction: the profile, its aliases, consent, events,
 * carts, orders, scores, memberships, journey runs, messages and list entries. Profiles merged into
 * it earlier go too. Suppressed addresses stay suppressed (keeping a bounced or complaining
 * address off the list is the point of the suppression). False when there is no such contact.
 */
export async function eraseContactIn(tx: Queryable, workspaceId: string, contactId: number): Promise<boolean> {
  const { rows } = await tx.query(`select 1 from contacts where workspace_id = $1 and id = $2 and merged_into is null for update`, [workspaceId, contactId]);
  if (rows.length === 0) return false;
  const p = [workspaceId, contactId];
  await tx.query(`delete from order_items i using orders o where o.workspace_id = $1 and o.contact_id = $2 and i.workspace_id = $1 and i.order_id = o.order_id`, p);
  await tx.query(`delete from cart_items i using carts c where c.workspace_id = $1 and c.contact_id = $2 and i.workspace_id = $1 and i.cart_id = c.cart_id`, p);
  for (const table of erasedTables) await tx.query(`delete from ${table} where workspace_id = $1 and contact_id = $2`, p);
  await tx.query(`delete from contacts where workspace_id = $1 and (id = $2 or merged_into = $2)`, p);
  return true;
}
const erasedTables = [
  'orders', 'carts', 'events', 'contact_aliases', 'contact_consents', 'contact_scores', 'segment_memberships', 'push_subscriptions',
  'journey_runs', 'messages', 'policy_decisions', 'contact_lists', 'coupons',
];

/**
 * Anonymises a contact: identity (user id, email, phone, aliases, traits), consent, push
 * subscriptions and events go; orders stay, without anyone they can be traced to, so revenue
 * figures and the models keep their history.
 */
export async function anonymiseContactIn(tx: Queryable, workspaceId: string, contactId: number, at: Date): Promise<void> {
  const p = [workspaceId, contactId];
  for (const table of ['contact_aliases', 'contact_consents', 'push_subscriptions', 'events', 'contact_lists']) {
    await tx.query(`delete from ${table} where workspace_id = $1 and contact_id = $2`, p);
  }
  await tx.query(
    `update contacts set user_id = null, email = null, email_check = null, phone = null, traits = '{"anonymised": true}', timezone = null, locale = null, updated_at = $3
      where workspace_id = $1 and id = $2`,
    [...p, at],
  );
}
