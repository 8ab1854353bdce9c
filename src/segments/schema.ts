import { z } from 'zod';

/**
 * The segment rule language: a typed tree, one schema for the API, the CLI, the web app and the
 * stored JSON. Every leaf compiles to parameterised SQL (compile.ts); and / or / not combine them.
 */

/** A span of time: "90d", "3mo", "1h", "30min", "2w", "1y". */
export const Duration = z.string().regex(/^\d{1,5}(min|h|d|w|mo|y)$/, 'a duration such as 30min, 1h, 90d, 2w, 3mo or 1y');
export type Duration = z.infer<typeof Duration>;
/** A signed shift for date rules: "+3mo", "-30d", "0d". */
export const Offset = z.string().regex(/^[+-]?\d{1,5}(d|w|mo|y)$/, 'an offset such as +3mo, -30d or +1y');

export const Compare = z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']);
export type Compare = z.infer<typeof Compare>;
const TimeCompare = z.enum(['before', 'after', 'within_last', 'more_than_ago']);
/** `before` / `after` take an ISO date; `within_last` / `more_than_ago` a duration. */
const TimeValue = z.union([Duration, z.iso.date(), z.iso.datetime({ offset: true })]);

const Scalar = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);

export const PropertyFilter = z.strictObject({
  /** A dotted path into the event's properties, e.g. "sku" or "product.category". */
  path: z.string().min(1).max(200),
  op: z.enum(['eq', 'neq', 'contains', 'in', 'exists', 'gt', 'gte', 'lt', 'lte']),
  value: z.union([Scalar, z.array(Scalar).max(1000)]).optional(),
});
export type PropertyFilter = z.infer<typeof PropertyFilter>;

const EventMatch = {
  /** The event name (track) or page/screen name; omitted means any name. */
  event: z.string().min(1).max(200).optional(),
  eventType: z.enum(['track', 'page', 'screen', 'identify', 'group', 'alias']).optional(),
  where: z.array(PropertyFilter).max(20).optional(),
};

/** Profile fields kept in their own columns, addressed with a leading $. */
export const builtinFields = ['$user_id', '$email', '$phone', '$timezone', '$locale', '$first_seen_at', '$last_seen_at', '$created_at'] as const;

export const TraitRule = z.strictObject({
  type: z.literal('trait'),
  /** A trait key, or a built-in field such as $email or $first_seen_at. */
  trait: z.string().min(1).max(200),
  op: z.enum(['eq', 'neq', 'contains', 'starts_with', 'in', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'within_last', 'more_than_ago']),
  value: z.union([Scalar, z.array(Scalar).max(1000)]).optional(),
});

export const EventRule = z.strictObject({
  type: z.literal('event'),
  ...EventMatch,
  within: Duration.optional(),
  /** How many matching events; the default is "at least one". `{ op: 'eq', value: 0 }` is "never". */
  count: z.strictObject({ op: Compare, value: z.number().int().min(0).max(1_000_000) }).optional(),
});

export const EventTimeRule = z.strictObject({
  type: z.literal('event_time'),
  ...EventMatch,
  which: z.enum(['first', 'last']),
  op: TimeCompare,
  value: TimeValue,
});

export const OrdersRule = z.strictObject({
  type: z.literal('orders'),
  metric: z.enum(['count', 'total', 'average', 'first_order_at', 'last_order_at']),
  op: z.enum([...Compare.options, ...TimeCompare.options]),
  value: z.union([z.number().finite(), TimeValue]),
  /** Only orders in this recent window count (for count, total and average). */
  within: Duration.optional(),
});

export const BoughtRule = z
  .strictObject({ type: z.literal('bought'), sku: z.string().min(1).max(200).optional(), category: z.string().min(1).max(200).optional(), within: Duration.optional() })
  .refine((r) => r.sku !== undefined || r.category !== undefined, { message: 'sku or category is required', path: ['sku'] });

export const DateRule = z.strictObject({
  type: z.literal('date'),
  /** A date trait ("birthday", "warranty_end") or $first_order_at, $last_order_at, $created_at. */
  field: z.string().min(1).max(200),
  /** `anniversary`: the day and month of field + offset is today; `on`: field + offset is today. */
  match: z.enum(['anniversary', 'on']),
  offset: Offset.optional(),
});

export const engagementActions = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed'] as const;
export const EngagementRule = z.strictObject({
  type: z.literal('engagement'),
  action: z.enum(engagementActions),
  channel: z.enum(['email', 'sms', 'push', 'print', 'webhook']).optional(),
  within: Duration.optional(),
  count: z.strictObject({ op: Compare, value: z.number().int().min(0).max(1_000_000) }).optional(),
});

export const ReachableRule = z.strictObject({
  type: z.literal('reachable'),
  channel: z.enum(['email', 'sms', 'push', 'print']),
  topic: z.string().min(1).max(100).optional(),
});

export const scoreFields = {
  text: ['rfm_cell', 'churn_band', 'lifecycle_stage'] as const,
  number: ['p_alive', 'churn_risk', 'predicted_clv', 'expected_purchases_30d', 'expected_purchases_90d', 'expected_purchases_365d', 'recency_score', 'frequency_score', 'monetary_score'] as const,
};
/** Text scores take eq / neq / in with text; number scores take comparisons with a number. */
export const ScoreRule = z
  .strictObject({
    type: z.literal('score'),
    field: z.enum([...scoreFields.text, ...scoreFields.number]),
    op: z.enum(['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte']),
    value: z.union([z.string().max(100), z.array(z.string().max(100)).max(100), z.number().finite()]),
  })
  .superRefine((r, ctx) => {
    const text = (scoreFields.text as readonly string[]).includes(r.field);
    if (text && !['eq', 'neq', 'in'].includes(r.op)) ctx.addIssue({ code: 'custom', path: ['op'], message: `${r.field} takes eq, neq or in` });
    if (text && typeof r.value === 'number') ctx.addIssue({ code: 'custom', path: ['value'], message: `${r.field} takes a text or a list of texts` });
    if (!text && r.op === 'in') ctx.addIssue({ code: 'custom', path: ['op'], message: `${r.field} takes eq, neq, gt, gte, lt or lte` });
    if (!text && typeof r.value !== 'number') ctx.addIssue({ code: 'custom', path: ['value'], message: `${r.field} takes a number` });
  });

type ScoreRuleType =
  | { type: 'score'; field: (typeof scoreFields.text)[number]; op: 'eq' | 'neq' | 'in'; value: string | string[] }
  | { type: 'score'; field: (typeof scoreFields.number)[number]; op: Compare; value: number };

export const SegmentMemberRule = z.strictObject({ type: z.literal('segment'), segmentId: z.number().int().positive() });

export const RandomRule = z.strictObject({
  type: z.literal('random'),
  /** Contacts are spread over 100 buckets by a hash of their id and this seed; [from, to) are kept. */
  seed: z.string().max(100).default(''),
  from: z.number().int().min(0).max(100),
  to: z.number().int().min(0).max(100),
});

export type SegmentRule =
  | { type: 'and'; rules: SegmentRule[] }
  | { type: 'or'; rules: SegmentRule[] }
  | { type: 'not'; rule: SegmentRule }
  | z.infer<typeof TraitRule>
  | z.infer<typeof EventRule>
  | z.infer<typeof EventTimeRule>
  | z.infer<typeof OrdersRule>
  | z.infer<typeof BoughtRule>
  | z.infer<typeof DateRule>
  | z.infer<typeof EngagementRule>
  | z.infer<typeof ReachableRule>
  | ScoreRuleType
  | z.infer<typeof SegmentMemberRule>
  | z.infer<typeof RandomRule>;

// Discriminated by `type`, so an error names the field inside the rule that is wrong
// (rule.rules.1.within) rather than "none of the rule types matched".
export const SegmentRule: z.ZodType<SegmentRule> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('and'), rules: z.array(SegmentRule).min(1).max(50) }),
    z.strictObject({ type: z.literal('or'), rules: z.array(SegmentRule).min(1).max(50) }),
    z.strictObject({ type: z.literal('not'), rule: SegmentRule }),
    TraitRule, EventRule, EventTimeRule, OrdersRule, BoughtRule, DateRule, EngagementRule, ReachableRule, ScoreRule, SegmentMemberRule, RandomRule,
  ]),
) as z.ZodType<SegmentRule>;

export const SegmentInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  rule: SegmentRule,
});
export type SegmentInput = z.infer<typeof SegmentInput>;

/** Names of the events that tracking records for message engagement (see the channels). */
export const engagementEventName: Record<(typeof engagementActions)[number], string> = {
  sent: 'Message Sent',
  delivered: 'Message Delivered',
  opened: 'Message Opened',
  clicked: 'Message Clicked',
  bounced: 'Message Bounced',
  complained: 'Message Complained',
  unsubscribed: 'Unsubscribed',
};
