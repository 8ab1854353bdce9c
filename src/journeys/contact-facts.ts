import type { Queryable } from '../db/index.ts';
import type { MessageChannel } from './schema.ts';

/** What the engine knows about a contact while running its step: one read per run. */
export type ContactFacts = {
  id: number;
  userId: string | null;
  email: string | null;
  emailValid: boolean;
  phone: string | null;
  timezone: string | null;
  locale: string | null;
  traits: Record<string, unknown>;
  scores: Record<string, unknown> | null;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
  consents: { channel: string; topic: string; granted: boolean }[];
  pushEndpoint: string | null;
  pushKeys: { p256dh: string; auth: string } | null;
};

type Row = {
  id: number; user_id: string | null; email: string | null; email_check: { valid?: boolean } | null; phone: string | null; timezone: string | null;
  locale: string | null; traits: Record<string, unknown>; merged_into: number | null; scores: Record<string, unknown> | null;
  first_order_at: Date | null; last_order_at: Date | null; consents: { channel: string; topic: string; granted: boolean }[] | null;
  push: { endpoint: string; keys: { p256dh: string; auth: string } } | null;
};

/**
 * Reads a contact with its scores, consent and push subscription. A contact merged into another
 * (an anonymous visitor who identified) is followed to the surviving profile; null when erased.
 */
export async function loadContactFacts(tx: Queryable, workspaceId: string, contactId: number): Promise<ContactFacts | null> {
  let id = contactId;
  for (let hop = 0; hop < 5; hop++) {
    const { rows } = await tx.query<Row>(
      `select c.id, c.user_id, c.email, c.email_check, c.phone, c.timezone, c.locale, c.traits, c.merged_into,
              (select to_jsonb(s) - 'workspace_id' - 'contact_id' from contact_scores s where s.workspace_id = c.workspace_id and s.contact_id = c.id) as scores,
              (select min(o.ordered_at) from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id) as first_order_at,
              (select max(o.ordered_at) from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id) as last_order_at,
              (select json_agg(json_build_object('channel', k.channel, 'topic', k.topic, 'granted', k.granted))
                 from contact_consents k where k.workspace_id = c.workspace_id and k.contact_id = c.id) as consents,
              (select json_build_object('endpoint', p.endpoint, 'keys', p.keys) from push_subscriptions p
                where p.workspace_id = c.workspace_id and p.contact_id = c.id order by p.created_at desc limit 1) as push
         from contacts c where c.workspace_id = $1 and c.id = $2`,
      [workspaceId, id],
    );
    const r = rows[0];
    if (!r) return null;
    if (r.merged_into !== null) {
      id = r.merged_into;
      continue;
    }
    return {
      id: r.id, userId: r.user_id, email: r.email, emailValid: r.email_check?.valid !== false, phone: r.phone, timezone: r.timezone, locale: r.locale,
      traits: r.traits ?? {}, scores: r.scores, firstOrderAt: r.first_order_at ? new Date(r.first_order_at) : null,
      lastOrderAt: r.last_order_at ? new Date(r.last_order_at) : null, consents: r.consents ?? [],
      pushEndpoint: r.push?.endpoint ?? null, pushKeys: r.push?.keys ?? null,
    };
  }
  return null;
}

/** Traits plus the built-in dates, for date waits ("$first_order_at + 3mo"). */
export function datedTraits(c: ContactFacts): Record<string, unknown> {
  return { ...c.traits, $first_order_at: c.firstOrderAt?.toISOString(), $last_order_at: c.lastOrderAt?.toISOString() };
}

/** The address a channel would use, or null when the contact has none for it. */
export function addressFor(c: ContactFacts, channel: MessageChannel): string | null {
  switch (channel) {
    case 'email': return c.email && c.emailValid ? c.email : null;
    case 'sms': return c.phone;
    case 'push': return c.pushEndpoint;
    case 'print': {
      const a = c.traits.address as Record<string, unknown> | undefined;
      return a && typeof a === 'object' && a.line1 && a.city && (a.postal_code ?? a.postalCode) && a.country ? `postal:${c.id}` : null;
    }
  }
}

/** Explicit opt-in to the channel and no opt-out from the topic (transactional messages need neither). */
export function consented(c: ContactFacts, channel: MessageChannel, topic: string, transactional: boolean): boolean {
  if (transactional) return true;
  const channelWide = c.consents.find((k) => k.channel === channel && k.topic === '*');
  const forTopic = c.consents.find((k) => k.channel === channel && k.topic === topic);
  return channelWide?.granted === true && forTopic?.granted !== false;
}
