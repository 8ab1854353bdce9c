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
  const [facts] = await loadGateFacts(tx, policy, [input], now);
  return decideWith(policy, input, facts!, now);
}

/** What the gate reads about one prospective message. */
export type GateFacts = {
  suppressed: string | null;
  channelConsent: boolean | null;
  topicConsent: boolean | null;
  /** Times of the contact's marketing messages on the channel within the longest cap window, oldest first. */
  recent: Date[];
  /** Times of the journey's messages in the last minute (only when it has a send rate). */
  journeyRecent: Date[];
};

/**
 * Reads the gate's facts for many prospective messages in one statement (a batch of journey
 * steps costs one round trip, not one per contact).
 */
export async function loadGateFacts(tx: Queryable, policy: MessagingPolicy, inputs: readonly GateInput[], now: Date): Promise<GateFacts[]> {
  if (inputs.length === 0) return [];
  const longest = (input: GateInput) =>
    input.transactional ? 0 : Math.max(0, ...policy.caps.filter((c) => c.channel === input.channel).map((c) => durationMs(c.window)));
  const { rows } = await tx.query<{ suppressed: string | null; channel_consent: boolean | null; topic_consent: boolean | null; recent: string[] | null }>(
    `select
       (select reason from suppressions s where s.workspace_id = i.w and s.channel = i.ch and s.address = i.a) as suppressed,
       (select granted from contact_consents k where k.workspace_id = i.w and k.contact_id = i.c and k.channel = i.ch and k.topic = '*') as channel_consent,
       (select granted from contact_consents k where k.workspace_id = i.w and k.contact_id = i.c and k.channel = i.ch and k.topic = i.t) as topic_consent,
       case when i.span > 0 then
         (select json_agg(m.created_at order by m.created_at) from messages m
           where m.workspace_id = i.w and m.contact_id = i.c and m.channel = i.ch and not m.transactional
             and m.status <> 'cancelled' and m.status <> 'failed' and m.created_at > $1::timestamptz - i.span * interval '1 millisecond')
       end as recent
     from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[]) with ordinality as i(w, c, ch, a, t, span, ord)
     order by i.ord`,
    [now, inputs.map((i) => i.workspaceId), inputs.map((i) => i.contactId), inputs.map((i) => i.channel), inputs.map((i) => i.address), inputs.map((i) => i.topic), inputs.map(longest)],
  );
  const rated = [...new Set(inputs.filter((i) => i.sendRatePerMinute && i.journeyId !== null).map((i) => `${i.workspaceId}\u0000${i.journeyId}`))];
  const journeyTimes = new Map<string, Date[]>();
  for (const key of rated) {
    const [ws, journeyId] = key.split('\u0000');
    const r = await tx.query<{ created_at: Date }>(
      `select created_at from messages where workspace_id = $1 and journey_id = $2 and created_at > $3::timestamptz - interval '1 minute' order by created_at`,
      [ws, Number(journeyId), now],
    );
    journeyTimes.set(key, r.rows.map((x) => new Date(x.created_at)));
  }
  return rows.map((r, i) => ({
    suppressed: r.suppressed, channelConsent: r.channel_consent, topicConsent: r.topic_consent,
    recent: (r.recent ?? []).map((t) => new Date(t)),
    journeyRecent: journeyTimes.get(`${inputs[i]!.workspaceId}\u0000${inputs[i]!.journeyId}`) ?? [],
  }));
}

/** The gate's decision from its facts: pure, so a batch, a dry run and a test all decide alike. */
export function decideWith(policy: MessagingPolicy, input: GateInput, facts: GateFacts, now: Date): GateDecision {
  if (facts.suppressed) return { decision: 'suppressed', reason: `suppressed: ${input.address} (${facts.suppressed})` };
  if (input.transactional) return { decision: 'send' };

  if (facts.channelConsent !== true) return { decision: 'suppressed', reason: `no consent: ${input.channel} ${facts.channelConsent === false ? 'opted out' : 'not opted in'}` };
  if (facts.topicConsent === false) return { decision: 'suppressed', reason: `no consent: opted out of ${input.channel} topic ${input.topic}` };
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
  for (const cap of policy.caps.filter((c) => c.channel === input.channel)) {
    const windowMs = durationMs(cap.window);
    const times = facts.recent.filter((t) => t.getTime() > now.getTime() - windowMs);
    if (times.length < cap.max) continue;
    // Room comes back when enough of the messages in the window have aged out of it.
    const freedAt = cap.max === 0 ? null : new Date(times[times.length - cap.max]!.getTime() + windowMs);
    if (freedAt === null || capUntil === null || freedAt > capUntil) {
      capUntil = freedAt ?? new Date(8.64e15);
      capReason = `frequency cap: ${cap.max} ${input.channel} per ${cap.window}`;
    }
  }
  if (capUntil !== null) {
    const until = capUntil as Date;
    if (input.onCapped === 'drop' || until.getTime() >= 8.64e15) return { decision: 'dropped', reason: `dropped: ${capReason}` };
    return { decision: 'deferred', until, reason: `deferred: ${capReason} until ${until.toISOString()}` };
  }

  const rate = input.sendRatePerMinute;
  const recent = facts.journeyRecent.filter((t) => t.getTime() > now.getTime() - 60_000);
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
