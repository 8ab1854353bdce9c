import type { Queryable } from '../db/index.ts';
import { isTimeZone, localMinutes, nextLocalTime, durationMs, parseTimeOfDay } from '../core/zoned-time.ts';
import type { GateDecision, GateInput, MessagingPolicy } from './schema.ts';

/**
 * The policy gate: the last word before a message is recorded for sending. Checks, in this order,
 * and the first that says no decides:
 *   1. suppression of the address (hard bounce, complaint, unsubscribe, manual) — even for
 *      transactional messages, because they could not be delivered or were refused;
 *   2. consent: explicit opt-in to the channel and no opt-out from the topic (marketing only);
 *   3. lifecycle stages the workspace does not market to (marketing only);
 *   4. quiet hours in the contact's zone: deferred to their end (marketing only);
 *   5. frequency caps per channel and window: deferred until the window allows, or dropped,
 *      as the journey says (marketing only);
 *   6. the journey's own send rate: deferred to the next free minute.
 * The caller holds a per-contact lock in the same transaction, so two workers cannot both see
 * room under a cap and both send. Priority between journeys comes from the order in which due
 * work is claimed (higher priority first at the same due time): the first to pass takes the room.
 */
export async function decide(tx: Queryable, policy: MessagingPolicy, input: GateInput, now: Date): Promise<GateDecision> {
  const caps = input.transactional ? [] : policy.caps.filter((c) => c.channel === input.channel);
  const { rows } = await tx.query<{ suppressed: string | null; channel_consent: boolean | null; topic_consent: boolean | null; cap_times: string[][] | null; rate_times: Date[] | null }>(
    `select
       (select reason from suppressions where workspace_id = $1 and channel = $3 and address = $4) as suppressed,
       (select granted from contact_consents where workspace_id = $1 and contact_id = $2 and channel = $3 and topic = '*') as channel_consent,
       (select granted from contact_consents where workspace_id = $1 and contact_id = $2 and channel = $3 and topic = $5) as topic_consent,
       (select json_agg(coalesce((select json_agg(m.created_at order by m.created_at)
                                     from messages m
                                    where m.workspace_id = $1 and m.contact_id = $2 and m.channel = $3 and not m.transactional
                                      and m.status <> 'cancelled' and m.status <> 'failed' and m.created_at > $6::timestamptz - w * interval '1 millisecond'),
                                  '[]'::json) order by ord)
          from unnest($7::bigint[]) with ordinality as x(w, ord)) as cap_times,
       (select array_agg(m.created_at order by m.created_at) from messages m
         where $8::bigint is not null and m.workspace_id = $1 and m.journey_id = $8 and m.created_at > $6::timestamptz - interval '1 minute') as rate_times`,
    [input.workspaceId, input.contactId, input.channel, input.address, input.topic, now, caps.map((c) => durationMs(c.window)), input.sendRatePerMinute ? input.journeyId : null],
  );
  const row = rows[0]!;
  if (row.suppressed) return { decision: 'suppressed', reason: `suppressed: ${input.address} (${row.suppressed})` };
  if (input.transactional) return { decision: 'send' };

  if (row.channel_consent !== true) return { decision: 'suppressed', reason: `no consent: ${input.channel} ${row.channel_consent === false ? 'opted out' : 'not opted in'}` };
  if (row.topic_consent === false) return { decision: 'suppressed', reason: `no consent: opted out of ${input.channel} topic ${input.topic}` };
  if (input.lifecycleStage && policy.suppressStages.includes(input.lifecycleStage)) {
    return { decision: 'suppressed', reason: `suppressed: lifecycle stage ${input.lifecycleStage} gets no marketing` };
  }

  const tz = isTimeZone(input.timezone) ? input.timezone : policy.defaultTimezone;
  const quiet = policy.quietHours;
  if (quiet && quiet.channels.includes(input.channel) && inQuietHours(now, tz, quiet.start, quiet.end)) {
    return { decision: 'deferred', until: nextLocalTime(now, quiet.end, tz), reason: `deferred: quiet hours until ${quiet.end} ${tz}` };
  }

  let capUntil: Date | null = null;
  let capReason = '';
  caps.forEach((cap, i) => {
    const times = (row.cap_times?.[i] ?? []).map((t) => new Date(t));
    if (times.length < cap.max) return;
    // Room comes back when enough of the messages in the window have aged out of it.
    const freedAt = cap.max === 0 ? null : new Date(times[times.length - cap.max]!.getTime() + durationMs(cap.window));
    if (freedAt === null || capUntil === null || freedAt > capUntil) {
      capUntil = freedAt ?? new Date(8.64e15);
      capReason = `frequency cap: ${cap.max} ${input.channel} per ${cap.window}`;
    }
  });
  if (capUntil !== null) {
    const until = capUntil as Date;
    if (input.onCapped === 'drop' || until.getTime() >= 8.64e15) return { decision: 'dropped', reason: `dropped: ${capReason}` };
    return { decision: 'deferred', until, reason: `deferred: ${capReason} until ${until.toISOString()}` };
  }

  const rate = input.sendRatePerMinute;
  const recent = (row.rate_times ?? []).map((t) => new Date(t));
  if (rate && recent.length >= rate) {
    const until = new Date(recent[recent.length - rate]!.getTime() + 60_000);
    return { decision: 'deferred', until, reason: `deferred: journey send rate ${rate} per minute` };
  }
  return { decision: 'send' };
}

/** Quiet hours may wrap midnight (21:00–08:00). */
export function inQuietHours(now: Date, tz: string, start: string, end: string): boolean {
  const [sh, sm] = parseTimeOfDay(start);
  const [eh, em] = parseTimeOfDay(end);
  const s = sh * 60 + sm;
  const e = eh * 60 + em;
  const t = localMinutes(now, tz);
  return s <= e ? t >= s && t < e : t >= s || t < e;
}

/** Records a decision that was not "send now" so the contact's log says why. */
export async function recordDecision(
  tx: Queryable,
  at: Date,
  who: { workspaceId: string; contactId: number; journeyId?: number | null; runId?: number | null; broadcastId?: number | null; stepId?: string | null; channel?: string | null },
  decision: Exclude<GateDecision, { decision: 'send' }>,
): Promise<void> {
  await tx.query(
    `insert into policy_decisions (workspace_id, contact_id, journey_id, run_id, broadcast_id, step_id, channel, decision, reason, until, decided_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [who.workspaceId, who.contactId, who.journeyId ?? null, who.runId ?? null, who.broadcastId ?? null, who.stepId ?? null, who.channel ?? null,
      decision.decision, decision.reason, decision.decision === 'deferred' ? decision.until : null, at],
  );
}
