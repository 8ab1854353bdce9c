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

/** Reads one contact: see loadContactFactsMany. */
export async function loadContactFacts(tx: Queryable, workspaceId: string, contactId: number): Promise<ContactFacts | null> {
  return (await loadContactFactsMany(tx, [{ workspaceId, contactId }])).get(`${workspaceId}:${contactId}`) ?? null;
}

/**
 * Reads contacts with their scores, consent and push subscription in one statement, keyed
 * "workspace:id" by the ids asked for. A contact merged into another (an anonymous visitor who
 * identified) is followed to the surviving profile; an erased one is absent.
 */
export async function loadContactFactsMany(tx: Queryable, wanted: readonly { workspaceId: string; contactId: number }[]): Promise<Map<string, ContactFacts>> {
  const out = new Map<string, ContactFacts>();
  let pending = new Map<string, string[]>(wanted.map((w) => [`${w.workspaceId}:${w.contactId}`, [`${w.workspaceId}:${w.contactId}`]]));
  for (let hop = 0; hop < 5 && pending.size > 0; hop++) {
    const keys = [...pending.keys()];
    const { rows } = await tx.query<Row & { workspace_id: string }>(
      `select c.workspace_id, c.id, c.user_id, c.email, c.email_check, c.phone, c.timezone, c.locale, c.traits, c.merged_into,
              (select to_jsonb(s) - 'workspace_id' - 'contact_id' from contact_scores s where s.workspace_id = c.workspace_id and s.contact_id = c.id) as scores,
              (select min(o.ordered_at) from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id) as first_order_at,
              (select max(o.ordered_at) from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id) as last_order_at,
              (select json_agg(json_build_object('channel', k.channel, 'topic', k.topic, 'granted', k.granted))
                 from contact_consents k where k.workspace_id = c.workspace_id and k.contact_id = c.id) as consents,
              (select json_build_object('endpoint', p.endpoint, 'keys', p.keys) from push_subscriptions p
                where p.workspace_id = c.workspace_id and p.contact_id = c.id order by p.created_at desc limit 1) as push
         from unnest($1::text[], $2::bigint[]) as w(ws, id)
         -- One index probe per contact, whatever the statistics say: "limit 1" keeps the planner
         -- from turning this into a join that scans every contact (it did, at a million contacts
         -- before the table was analysed).
         cross join lateral (select * from contacts c where c.workspace_id = w.ws and c.id = w.id limit 1) c`,
      [keys.map((k) => k.slice(0, k.lastIndexOf(':'))), keys.map((k) => Number(k.slice(k.lastIndexOf(':') + 1)))],
    );
    const next = new Map<string, string[]>();
    for (const r of rows) {
      const key = `${r.workspace_id}:${r.id}`;
      const askers = pending.get(key) ?? [];
      if (r.merged_into !== null) {
        const target = `${r.workspace_id}:${r.merged_into}`;
        next.set(target, [...(next.get(target) ?? []), ...askers]);
        continue;
      }
      const facts: ContactFacts = {
        id: r.id, userId: r.user_id, email: r.email, emailValid: r.email_check?.valid !== false, phone: r.phone, timezone: r.timezone, locale: r.locale,
        traits: r.traits ?? {}, scores: r.scores, firstOrderAt: r.first_order_at ? new Date(r.first_order_at) : null,
        lastOrderAt: r.last_order_at ? new Date(r.last_order_at) : null, consents: r.consents ?? [],
        pushEndpoint: r.push?.endpoint ?? null, pushKeys: r.push?.keys ?? null,
      };
      for (const a of askers) out.set(a, facts);
    }
    pending = next;
  }
  return out;
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
