import { z } from 'zod';
import { Duration, PropertyFilter, SegmentRule } from '../segments/index.ts';

/**
 * The journey language: one schema for the admin API, the CLI, the web app, journey files kept in
 * git, and the versions stored in the database. A journey is a trigger, settings, and a list of
 * steps; each step names the step that follows it (`next`), and when it does not, the step after
 * it in the list follows. The first step in the list is where contacts start.
 */

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a step id: lower-case letters, digits, _ and -, at most 64');
const Next = Id.optional();
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 09:00');
const Offset = z.string().regex(/^[+-]?\d{1,5}(d|w|mo|y)$/, 'an offset such as +3mo, -30d or +1y');
export const messageChannels = ['email', 'sms', 'push', 'print'] as const;
export type MessageChannel = (typeof messageChannels)[number];
const Template = z.string().max(200_000);

// ---- Triggers ------------------------------------------------------------------------------

export const EventTrigger = z.strictObject({
  type: z.literal('event'),
  event: z.string().min(1).max(200),
  where: z.array(PropertyFilter).max(20).optional(),
});
export const SegmentTrigger = z.strictObject({
  type: z.literal('segment'),
  segmentId: z.number().int().positive(),
  on: z.enum(['enter', 'exit']).default('enter'),
});
/** A model output moved: lifecycle stage, RFM cell or churn band (optionally only into `to`). */
export const ChangeTrigger = z.strictObject({
  type: z.literal('change'),
  field: z.enum(['lifecycle_stage', 'rfm_cell', 'churn_band']),
  to: z.array(z.string().min(1).max(100)).max(50).optional(),
  from: z.array(z.string().min(1).max(100)).max(50).optional(),
});
/**
 * A date of the contact's: a date trait ("birthday", "warranty_end") or $first_order_at, checked
 * every day in the contact's time zone. `anniversary` matches day and month every year; `on`
 * matches the date itself (plus the offset) once.
 */
export const DateTrigger = z.strictObject({
  type: z.literal('date'),
  field: z.string().min(1).max(200),
  match: z.enum(['anniversary', 'on']),
  offset: Offset.optional(),
  at: TimeOfDay.default('09:00'),
});
/** Every day or week at a time, everyone in a segment at that moment enters. */
export const ScheduleTrigger = z.strictObject({
  type: z.literal('schedule'),
  every: z.enum(['day', 'week']),
  /** 1 = Monday … 7 = Sunday, for weekly schedules. */
  weekday: z.number().int().min(1).max(7).optional(),
  at: TimeOfDay,
  timezone: z.string().min(1).max(64).default('UTC'),
  segmentId: z.number().int().positive(),
});
/** Contacts enter only through `POST /api/journeys/{id}/enrol`. */
export const ApiTrigger = z.strictObject({ type: z.literal('api') });

export const Trigger = z.discriminatedUnion('type', [EventTrigger, SegmentTrigger, ChangeTrigger, DateTrigger, ScheduleTrigger, ApiTrigger]);
export type Trigger = z.infer<typeof Trigger>;

// ---- Message content -------------------------------------------------------------------------

export const EmailContent = z
  .strictObject({
    subject: z.string().min(1).max(2000),
    preheader: z.string().max(2000).optional(),
    /** MJML (compiled once per version) or plain HTML; Liquid in either. */
    mjml: Template.optional(),
    html: Template.optional(),
    /** A plain-text template; generated from the HTML when absent. */
    text: Template.optional(),
    fromName: z.string().max(200).optional(),
  })
  .refine((c) => (c.mjml === undefined) !== (c.html === undefined), { message: 'give either mjml or html', path: ['mjml'] });
export const SmsContent = z.strictObject({ body: z.string().min(1).max(5000) });
export const PushContent = z.strictObject({
  title: z.string().min(1).max(500),
  body: z.string().min(1).max(2000),
  url: z.string().max(2000).optional(),
  image: z.string().max(2000).optional(),
  actions: z.array(z.strictObject({ title: z.string().min(1).max(100), url: z.string().min(1).max(2000) })).max(2).optional(),
});
export const PrintContent = z.strictObject({
  format: z.enum(['letter', 'postcard']),
  headline: z.string().max(500).optional(),
  body: z.string().min(1).max(50_000),
});
export const Content = z.strictObject({
  email: EmailContent.optional(),
  sms: SmsContent.optional(),
  push: PushContent.optional(),
  print: PrintContent.optional(),
});
export type Content = z.infer<typeof Content>;

// ---- Steps -------------------------------------------------------------------------------------

const base = { id: Id, name: z.string().max(200).optional() };

export const WaitStep = z.strictObject({ ...base, type: z.literal('wait'), duration: Duration, next: Next });
/** Until the next time of day in the contact's zone, or until a date trait ± offset (at a time). */
export const WaitUntilStep = z
  .strictObject({
    ...base,
    type: z.literal('wait_until'),
    time: TimeOfDay.optional(),
    date: z.strictObject({ field: z.string().min(1).max(200), offset: Offset.optional() }).optional(),
    next: Next,
  })
  .refine((s) => s.time !== undefined || s.date !== undefined, { message: 'give a time, a date or both', path: ['time'] });
/**
 * Waits for an event; `matchTrigger` names properties that must equal the triggering event's
 * (the abandoned cart: "Order Completed" with this cart_id). `next` follows the event,
 * `timeoutNext` the timeout.
 */
export const WaitForEventStep = z.strictObject({
  ...base,
  type: z.literal('wait_for_event'),
  event: z.string().min(1).max(200),
  where: z.array(PropertyFilter).max(20).optional(),
  matchTrigger: z.array(z.string().min(1).max(200)).max(10).optional(),
  timeout: Duration,
  next: Next,
  timeoutNext: Next,
});
export const BranchStep = z.strictObject({
  ...base,
  type: z.literal('branch'),
  branches: z.array(z.strictObject({ name: z.string().min(1).max(100), rule: SegmentRule, next: Next })).min(1).max(20),
  otherwise: Next,
});
/** A random split; with a journey goal it is an A/B test of paths. */
export const SplitStep = z.strictObject({
  ...base,
  type: z.literal('split'),
  paths: z.array(z.strictObject({ name: z.string().min(1).max(100), weight: z.number().int().min(1).max(1000), next: Next })).min(2).max(10),
});
export const SendStep = z
  .strictObject({
    ...base,
    type: z.literal('send'),
    /** A fixed channel, or `best`: the reachable channel the contact engages with most. */
    channel: z.enum([...messageChannels, 'best']),
    /** When the chosen channel is not reachable, try these in order ("push, else email, else SMS"). */
    fallback: z.array(z.enum(messageChannels)).max(3).optional(),
    content: Content,
    /** A/B test of the message: each variant's content replaces `content` for its share. */
    variants: z.array(z.strictObject({ name: z.string().min(1).max(100), weight: z.number().int().min(1).max(1000), content: Content })).min(2).max(10).optional(),
    topic: z.string().min(1).max(100).default('marketing'),
    transactional: z.boolean().default(false),
    /** Send at the hour of day the contact usually engages (within the next 24 hours). */
    bestHour: z.boolean().default(false),
    /** When a frequency cap says no: wait until it allows (defer) or skip the message (drop). */
    onCapped: z.enum(['defer', 'drop']).default('defer'),
    next: Next,
  });
export const UpdateContactStep = z.strictObject({
  ...base,
  type: z.literal('update_contact'),
  traits: z.record(z.string().min(1).max(200), z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null()])).optional(),
  addTags: z.array(z.string().min(1).max(100)).max(50).optional(),
  removeTags: z.array(z.string().min(1).max(100)).max(50).optional(),
  consent: z.array(z.strictObject({ channel: z.enum(messageChannels), topic: z.string().min(1).max(100).optional(), granted: z.boolean() })).max(20).optional(),
  /** Sets the lifecycle stage (recorded as "Lifecycle Stage Changed"); the next scoring may move it again. */
  lifecycleStage: z.enum(['prospect', 'new_customer', 'active', 'loyal', 'at_risk', 'lapsed', 'won_back']).optional(),
  next: Next,
});
export const CouponStep = z
  .strictObject({
    ...base,
    type: z.literal('coupon'),
    prefix: z.string().regex(/^[A-Z0-9-]{0,20}$/, 'upper-case letters, digits and -').default(''),
    percentOff: z.number().min(0).max(100).optional(),
    amountOff: z.number().min(0).max(1_000_000).optional(),
    validFor: Duration,
    next: Next,
  })
  .refine((s) => (s.percentOff === undefined) !== (s.amountOff === undefined), { message: 'give either percentOff or amountOff', path: ['percentOff'] });
export const WebhookStep = z.strictObject({
  ...base,
  type: z.literal('webhook'),
  url: z.string().url().max(2000),
  method: z.enum(['POST', 'PUT']).default('POST'),
  /** A Liquid template of the JSON body; the default sends the contact and the trigger event. */
  body: Template.optional(),
  next: Next,
});
export const ListStep = z.strictObject({
  ...base,
  type: z.literal('list'),
  list: z.string().min(1).max(200),
  action: z.enum(['add', 'remove']),
  next: Next,
});
/** The clean-up scenario's last step: erase removes the contact and its data; anonymise keeps orders without identity. */
export const DeleteContactStep = z.strictObject({ ...base, type: z.literal('delete_contact'), mode: z.enum(['erase', 'anonymise']) });
export const ExitStep = z.strictObject({ ...base, type: z.literal('exit') });

export const Step = z.discriminatedUnion('type', [
  WaitStep, WaitUntilStep, WaitForEventStep, BranchStep, SplitStep, SendStep, UpdateContactStep, CouponStep, WebhookStep, ListStep, DeleteContactStep, ExitStep,
]);
export type Step = z.infer<typeof Step>;
export type StepOf<T extends Step['type']> = Extract<Step, { type: T }>;

// ---- Settings and the journey ----------------------------------------------------------------

export const Goal = z.strictObject({
  event: z.string().min(1).max(200),
  where: z.array(PropertyFilter).max(20).optional(),
  /** A conversion counts when the goal event comes within this time of entering (A/B and holdout statistics). */
  within: Duration.default('7d'),
  /** Reaching the goal ends the journey for the contact (they bought: stop reminding them). */
  exit: z.boolean().default(true),
});
export type Goal = z.infer<typeof Goal>;

export const Settings = z.strictObject({
  reentry: z.enum(['never', 'always', 'once_per_period']).default('never'),
  reentryPeriod: Duration.optional(),
  goal: Goal.optional(),
  /** At most this many messages per minute from this journey; the rest wait their turn. */
  sendRatePerMinute: z.number().int().min(1).max(1_000_000).optional(),
  /** Higher wins when frequency caps allow only one journey's message. */
  priority: z.number().int().min(0).max(100).default(50),
  /** Percent of entering contacts kept out (they enter, are recorded, and get nothing) to measure lift. */
  holdoutPercent: z.number().min(0).max(50).default(0),
});
export type Settings = z.infer<typeof Settings>;

export const JourneyDefinition = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).default(''),
    trigger: Trigger,
    settings: Settings.default(Settings.parse({})),
    steps: z.array(Step).min(1).max(500),
  })
  .superRefine((j, ctx) => {
    if (j.settings.reentry === 'once_per_period' && !j.settings.reentryPeriod) {
      ctx.addIssue({ code: 'custom', path: ['settings', 'reentryPeriod'], message: 'once_per_period needs a reentryPeriod such as 30d' });
    }
    const ids = new Map<string, number>();
    j.steps.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `step id "${s.id}" is used twice` });
      ids.set(s.id, i);
    });
    j.steps.forEach((s, i) => {
      for (const [path, target] of successorRefs(s)) {
        if (target !== undefined && !ids.has(target)) ctx.addIssue({ code: 'custom', path: ['steps', i, ...path], message: `no step has the id "${target}"` });
      }
    });
    const cycle = findCycle(j.steps);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['steps'], message: `the steps form a loop: ${cycle.join(' → ')}` });
  });
export type JourneyDefinition = z.infer<typeof JourneyDefinition>;

/** Every place a step names a successor, with its path inside the step (for error messages). */
export function successorRefs(step: Step): [(string | number)[], string | undefined][] {
  switch (step.type) {
    case 'branch': return [...step.branches.map((b, i): [(string | number)[], string | undefined] => [['branches', i, 'next'], b.next]), [['otherwise'], step.otherwise]];
    case 'split': return step.paths.map((p, i) => [['paths', i, 'next'], p.next]);
    case 'wait_for_event': return [[['next'], step.next], [['timeoutNext'], step.timeoutNext]];
    case 'delete_contact':
    case 'exit': return [];
    default: return [[['next'], step.next]];
  }
}

/** The steps that may follow `index`, resolving an absent `next` to the following step. */
export function successors(steps: readonly Step[], index: number): string[] {
  const following = steps[index + 1]?.id;
  const out = new Set<string>();
  for (const [, target] of successorRefs(steps[index]!)) {
    const t = target ?? following;
    if (t !== undefined) out.add(t);
  }
  return [...out];
}

function findCycle(steps: readonly Step[]): string[] | null {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    const i = index.get(id);
    if (i === undefined) return null;
    state.set(id, 'open');
    path.push(id);
    for (const next of successors(steps, i)) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const s of steps) {
    const found = visit(s.id);
    if (found) return found;
  }
  return null;
}
