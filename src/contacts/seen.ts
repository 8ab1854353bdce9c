/**
 * When a contact was first and last seen: the earliest and latest of their own events (what they
 * did, tracked or imported), or the times their profile was created or imported with
 * (contacts.first_seen_at and last_seen_at), whichever is further out. Read when asked for, from
 * the (workspace, contact, time) index of events, rather than written on every event: moving
 * last_seen_at on ingestion rewrote a contact row for nearly every event of a returning visitor
 * (migrations/0025_seen_from_events.sql).
 *
 * The events Tend records about a contact itself (messages sent, opened and clicked, journey
 * steps, segment entries, score changes) are not the contact being seen: they are told apart by
 * their message ids, which Tend gives these prefixes. The tracking API refuses messageIds with
 * them (events/validate.ts); an import of exported events keeps them, as Tend's own.
 */
export const ownEventPrefixes = ['tend:', 'segment:', 'models:'] as const;

const own = ownEventPrefixes.map((p) => `e.message_id not like '${p}%'`).join(' and ');
const probe = (alias: string, direction: 'asc' | 'desc') =>
  `(select e.occurred_at from events e where e.workspace_id = ${alias}.workspace_id and e.contact_id = ${alias}.id and ${own} order by e.occurred_at ${direction} limit 1)`;

/** SQL for a contact's first seen time, for the contacts row aliased `alias`. */
export const firstSeenSql = (alias = 'c') => `least(${alias}.first_seen_at, ${probe(alias, 'asc')})`;
/** SQL for a contact's last seen time, for the contacts row aliased `alias`. */
export const lastSeenSql = (alias = 'c') => `greatest(${alias}.last_seen_at, ${probe(alias, 'desc')})`;

/**
 * A comparison of first or last seen with a time, as SQL that a planner can serve from the events
 * index (an existence probe) instead of computing the earliest or latest event of every contact:
 * "first seen ≥ X" is "created or imported at X or later, and no own event before X", and so on.
 * Equal to comparing {@link firstSeenSql} / {@link lastSeenSql} with X, and several times cheaper
 * over a million contacts.
 */
export function seenComparison(which: 'first' | 'last', op: '<' | '>' | '>=', bound: string, alias = 'c'): string {
  const column = `${alias}.${which}_seen_at`;
  const any = (cmp: string) =>
    `exists (select 1 from events e where e.workspace_id = ${alias}.workspace_id and e.contact_id = ${alias}.id and e.occurred_at ${cmp} ${bound} and ${own})`;
  if (which === 'first') {
    if (op === '<') return `(${column} < ${bound} or ${any('<')})`;
    return `(${column} ${op} ${bound} and not ${any(op === '>' ? '<=' : '<')})`;
  }
  if (op === '<') return `(${column} < ${bound} and not ${any('>=')})`;
  return `(${column} ${op} ${bound} or ${any(op)})`;
}
