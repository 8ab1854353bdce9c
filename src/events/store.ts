import type { Queryable } from '../db/index.ts';
import type { AcceptedMessage } from './validate.ts';

/** Per message of the batch: its contact and its new event's id (null: the messageId was stored before). */
export type StoredBatch = { contactIds: number[]; eventIds: (number | null)[] };

/**
 * Writes a batch with one call of `tend_ingest_batch` (migrations/0015_ingest_batch_function.sql):
 * identities, events, profiles, consent, products, carts and orders in one statement, so one round
 * trip and no BEGIN/COMMIT. The messages go as one JSON parameter: one native JSON.stringify is
 * far cheaper than node-postgres escaping a dozen parallel arrays, and the statement text and
 * parameter count stay the same whatever the batch size. Returns 'merge_needed', having written
 * nothing, when the batch would merge profiles (see resolveIdentities, which does that).
 * `knownSkus` are products known to be in the catalog already, so their mentions are left out.
 */
export async function writeBatch(
  q: Queryable,
  workspaceId: string,
  messages: readonly AcceptedMessage[],
  lockIds: readonly string[],
  receivedAt: Date,
  knownSkus: ReadonlySet<string>,
): Promise<StoredBatch | 'merge_needed'> {
  const rows = messages.map((m) => ({
    user_id: m.userId,
    anonymous_id: m.anonymousId,
    message_id: m.messageId,
    type: m.type,
    name: m.name,
    properties: m.properties,
    context: m.context,
    occurred_at: m.occurredAt,
    profile: m.profile && {
      traits: m.profile.traits,
      email: m.profile.email?.address,
      email_check: m.profile.email?.check,
      phone: m.profile.phone,
      timezone: m.profile.timezone,
      locale: m.profile.locale,
      consent: m.profile.consent.length > 0 ? m.profile.consent : undefined,
    },
    commerce: m.commerce && (m.commerce.products?.some((p) => knownSkus.has(p.sku)) ? { ...m.commerce, products: m.commerce.products.filter((p) => !knownSkus.has(p.sku)) } : m.commerce),
  }));
  const { rows: [r] } = await q.query<{ merge_needed: boolean; contact_ids: number[] | null; event_ids: (number | null)[] | null }>(
    `select merge_needed, contact_ids, event_ids from tend_ingest_batch($1, $2, $3, $4)`,
    [workspaceId, receivedAt, lockIds, JSON.stringify(rows)],
  );
  if (r!.merge_needed) return 'merge_needed';
  return { contactIds: r!.contact_ids!, eventIds: r!.event_ids! };
}
