import type { Queryable } from '../db/index.ts';
import type { GateInput, MessagingSettings } from '../policy/index.ts';
import { messageKey } from '../channels/messages.ts';
import { isTimeZone, localParts, nextLocalTime } from '../core/zoned-time.ts';
import { addressFor, consented, type ContactFacts } from './contact-facts.ts';
import { pickWeighted } from './decide.ts';
import { messageChannels, type Content, type MessageChannel, type StepOf } from './schema.ts';
import type { Effects, RunRow, StepResult, Wait } from './run-types.ts';

type SendEnv = {
  tx: Queryable;
  now: Date;
  run: RunRow;
  contact: ContactFacts;
  settings: MessagingSettings;
  sendRatePerMinute?: number;
  wait: Wait | null;
  effects: Effects;
};

/**
 * The send step: pick the variant (A/B) and the channel, ask the policy gate, and record the
 * message for the delivery worker, all in the step's transaction. The gate's "not now" parks the
 * run on this step until the time it names; "no" records why and moves on.
 */
export async function runSendStep(env: SendEnv, step: StepOf<'send'>, next: string | null): Promise<StepResult> {
  const { tx, now, run, contact, settings, effects } = env;
  const variant = step.variants ? pickWeighted(step.variants, variantKey(run, step)) : null;
  const content = variant?.content ?? step.content;
  const who = { workspaceId: run.workspace_id, contactId: contact.id, journeyId: run.journey_id, runId: run.id, stepId: step.id };

  const order = await channelOrder(tx, run.workspace_id, step, content, contact.id, now);
  const channel = order.find((ch) => addressFor(contact, ch) !== null && consented(contact, ch, step.topic, step.transactional));
  if (!channel) {
    const tried = order.length > 0 ? order.join(', ') : 'no channel with content';
    effects.decision({ who: { ...who, channel: order[0] ?? null }, decision: { decision: 'suppressed', reason: `unreachable: no address with consent on ${tried}` } });
    return { kind: 'next', next };
  }
  const tz = isTimeZone(contact.timezone) ? contact.timezone : settings.policy.defaultTimezone;

  if (step.bestHour && !env.wait?.bestHourDone) {
    const hour = await usualHour(tx, run.workspace_id, contact.id, tz, now);
    if (hour !== null && localParts(now, tz).hour !== hour) {
      const at = nextLocalTime(now, `${String(hour).padStart(2, '0')}:00`, tz);
      return { kind: 'park', state: 'active', dueAt: at, wait: { step: step.id, kind: 'retry', bestHourDone: true } };
    }
  }

  const input = gateInput(run, contact, step, channel, tz, env.sendRatePerMinute);
  const address = input.address;
  const decision = await effects.gate(input);
  if (decision.decision === 'deferred') {
    effects.decision({ who: { ...who, channel }, decision });
    return { kind: 'park', state: 'active', dueAt: decision.until, wait: { step: step.id, kind: 'retry', bestHourDone: env.wait?.bestHourDone } };
  }
  if (decision.decision !== 'send') {
    effects.decision({ who: { ...who, channel }, decision });
    return { kind: 'next', next };
  }
  effects.message({
    workspaceId: run.workspace_id, contactId: contact.id, idempotencyKey: messageKey([run.workspace_id, 'run', run.id, step.id]),
    journeyId: run.journey_id, runId: run.id, stepId: step.id, variant: variant?.name ?? null, channel, topic: step.topic,
    transactional: step.transactional, address,
    source: { kind: 'journey', journeyId: run.journey_id, version: run.version, stepId: step.id, variant: variant?.name ?? null },
    context: { trigger: run.context.trigger ?? null, coupon: run.context.coupon ?? null }, at: now,
  });
  return { kind: 'next', next, note: variant ? { variants: { [step.id]: variant.name } } : undefined };
}

function gateInput(run: RunRow, contact: ContactFacts, step: StepOf<'send'>, channel: MessageChannel, tz: string, sendRatePerMinute: number | undefined): GateInput {
  return {
    workspaceId: run.workspace_id, contactId: contact.id, channel, address: addressFor(contact, channel)!, topic: step.topic, transactional: step.transactional,
    timezone: tz, lifecycleStage: (contact.scores?.lifecycle_stage as string | undefined) ?? null, journeyId: run.journey_id,
    sendRatePerMinute, onCapped: step.onCapped,
  };
}

/**
 * The gate input a send step on a fixed channel (with its fallbacks) will ask about, without any
 * database read, so the runner can fetch the facts for a whole batch at once. Null when the step
 * will not reach the gate (no reachable channel) or needs a read to choose (`best`).
 */
export function sendGateInput(run: RunRow, contact: ContactFacts, step: StepOf<'send'>, settings: MessagingSettings, sendRatePerMinute: number | undefined): GateInput | null {
  if (step.channel === 'best') return null;
  const variant = step.variants ? pickWeighted(step.variants, variantKey(run, step)) : null;
  const content = variant?.content ?? step.content;
  const order = [...new Set([step.channel, ...(step.fallback ?? [])])].filter((ch) => content[ch] !== undefined);
  const channel = order.find((ch) => addressFor(contact, ch) !== null && consented(contact, ch, step.topic, step.transactional));
  if (!channel) return null;
  const tz = isTimeZone(contact.timezone) ? contact.timezone : settings.policy.defaultTimezone;
  return gateInput(run, contact, step, channel, tz, sendRatePerMinute);
}

const variantKey = (run: RunRow, step: StepOf<'send'>) => `variant:${run.journey_id}:${run.id}:${step.id}`;

/**
 * The channels to try, in order. `best` ranks the channels with content by how often the contact
 * opened or clicked on each in the last 180 days (ties keep email, push, sms, print order);
 * `fallback` lists the next ones to try when the first cannot reach the contact.
 */
async function channelOrder(tx: Queryable, workspaceId: string, step: StepOf<'send'>, content: Content, contactId: number, now: Date): Promise<MessageChannel[]> {
  const withContent = messageChannels.filter((ch) => content[ch] !== undefined);
  let first: MessageChannel[];
  if (step.channel === 'best') {
    const { rows } = await tx.query<{ channel: string; n: number }>(
      `select properties->>'channel' as channel, count(*)::int as n from events
        where workspace_id = $1 and contact_id = $2 and name in ('Message Opened', 'Message Clicked') and occurred_at > $3::timestamptz - interval '180 days'
        group by 1`,
      [workspaceId, contactId, now],
    );
    const engaged = new Map(rows.map((r) => [r.channel, r.n]));
    first = [...withContent].sort((a, b) => (engaged.get(b) ?? 0) - (engaged.get(a) ?? 0));
  } else first = [step.channel];
  return [...new Set([...first, ...(step.fallback ?? [])])].filter((ch) => withContent.includes(ch));
}

/** The hour of day (in the contact's zone) at which the contact most often opens, clicks or visits. */
async function usualHour(tx: Queryable, workspaceId: string, contactId: number, tz: string, now: Date): Promise<number | null> {
  const { rows } = await tx.query<{ at: Date }>(
    `select occurred_at as at from events
      where workspace_id = $1 and contact_id = $2 and (name in ('Message Opened', 'Message Clicked') or type = 'page')
        and occurred_at > $3::timestamptz - interval '90 days'
      order by occurred_at desc limit 200`,
    [workspaceId, contactId, now],
  );
  if (rows.length < 3) return null;
  const counts = new Array<number>(24).fill(0);
  for (const r of rows) counts[localParts(new Date(r.at), tz).hour]!++;
  let best = 0;
  for (let h = 1; h < 24; h++) if (counts[h]! > counts[best]!) best = h;
  return best;
}
