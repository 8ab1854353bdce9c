import { boolArray, jsonbArray, textArray, timestamptzArray, type Queryable } from '../db/index.ts';
import type { AcceptedMessage } from './validate.ts';

/** Per message of the batch: its contact and its new event's id (null: the messageId was stored before). */
export type StoredBatch = { contactIds: number[]; eventIds: (number | null)[] };

/**
 * Writes a batch with one call of `tend_ingest_batch` (migrations/0015_ingest_batch_function.sql,
 * 0027): identities, events, profiles, consent, products, carts and orders in one statement, so
 * one round trip and no BEGIN/COMMIT. The messages go as parallel arrays, one per field, which a
 * Postgres server receives in binary (db/array-param.ts): only the JSON values in them are parsed
 * there. Returns 'merge_needed', having written nothing, when the batch would merge profiles (see
 * resolveIdentities, which does that). `knownSkus` are products known to be in the catalog
 * already, so their mentions are left out. `sharedLocks` says, per lock id, whether a shared lock
 * is enough (the id is known to resolve; see migration 0027); by default every lock is exclusive.
 */
export async function writeBatch(
  q: Queryable,
  workspaceId: string,
  messages: readonly AcceptedMessage[],
  lockIds: readonly string[],
  receivedAt: Date,
  knownSkus: ReadonlySet<string>,
  sharedLocks: readonly boolean[] = lockIds.map(() => false),
): Promise<StoredBatch | 'merge_needed'> {
  const n = messages.length;
  const userIds = new Array<string | undefined>(n);
  const anonymousIds = new Array<string | undefined>(n);
  const messageIds = new Array<string>(n);
  const types = new Array<string>(n);
  const names = new Array<string | null>(n);
  const properties = new Array<string>(n);
  const contexts = new Array<string | null>(n);
  const occurredAt = new Array<Date>(n);
  const profiles = new Array<string | null>(n);
  const commerce = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    userIds[i] = m.userId;
    anonymousIds[i] = m.anonymousId;
    messageIds[i] = m.messageId;
    types[i] = m.type;
    names[i] = m.name;
    properties[i] = JSON.stringify(m.properties);
    contexts[i] = m.context === null ? null : JSON.stringify(m.context);
    occurredAt[i] = m.occurredAt;
    profiles[i] = m.profile
      ? JSON.stringify({
          traits: m.profile.traits,
          email: m.profile.email?.address,
          email_check: m.profile.email?.check,
          phone: m.profile.phone,
          timezone: m.profile.timezone,
          locale: m.profile.locale,
          consent: m.profile.consent.length > 0 ? m.profile.consent : undefined,
        })
      : null;
    commerce[i] = m.commerce ? commerceJson(m.name, m.commerce, knownSkus) : null;
  }
  const { rows: [r] } = await q.query<{ merge_needed: boolean; contact_ids: number[] | null; event_ids: (number | null)[] | null }>(
    `select merge_needed, contact_ids, event_ids from tend_ingest_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      workspaceId, receivedAt, textArray(lockIds), boolArray(sharedLocks),
      textArray(userIds), textArray(anonymousIds), textArray(messageIds), textArray(types), textArray(names),
      jsonbArray(properties), jsonbArray(contexts), timestamptzArray(occurredAt), jsonbArray(profiles), jsonbArray(commerce),
    ],
  );
  if (r!.merge_needed) return 'merge_needed';
  return { contactIds: r!.contact_ids!, eventIds: r!.event_ids! };
}

/**
 * The e-commerce fields as the ingest function takes them, without the products the catalog
 * already has. A product view only ever adds to the catalog: with nothing new to add it goes
 * without them (null), which spares the database parsing them for most events of a shop.
 */
function commerceJson(name: string | null, commerce: NonNullable<AcceptedMessage['commerce']>, knownSkus: ReadonlySet<string>): string | null {
  const products = commerce.products;
  if (!products?.some((p) => knownSkus.has(p.sku))) return JSON.stringify(commerce);
  const unknown = products.filter((p) => !knownSkus.has(p.sku));
  if (unknown.length === 0 && name === 'Product Viewed') return null;
  return JSON.stringify({ ...commerce, products: unknown });
}
