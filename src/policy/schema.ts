import { z } from 'zod';
import { Duration } from '../segments/index.ts';

const Channel = z.enum(['email', 'sms', 'push', 'print']);
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 21:00');

/**
 * The rules every marketing message passes before it goes (transactional messages skip the caps
 * and quiet hours, never the suppressions). Stored per workspace; the defaults are what a careful
 * shop would start from.
 */
export const MessagingPolicy = z.strictObject({
  /** At most `max` marketing messages on `channel` per `window` ("one email per 16 hours, three per week"). */
  caps: z
    .array(z.strictObject({ channel: Channel, max: z.number().int().min(0).max(1000), window: Duration }))
    .max(20)
    .default([
      { channel: 'email', max: 1, window: '16h' },
      { channel: 'email', max: 3, window: '1w' },
      { channel: 'sms', max: 2, window: '1w' },
      { channel: 'push', max: 1, window: '1d' },
    ]),
  /** No marketing messages between start and end in the contact's time zone; they wait until end. */
  quietHours: z
    .strictObject({ start: TimeOfDay, end: TimeOfDay, channels: z.array(Channel).max(4) })
    .nullable()
    .default({ start: '21:00', end: '08:00', channels: ['sms', 'push'] }),
  /** For contacts whose time zone is unknown. */
  defaultTimezone: z.string().min(1).max(64).default('UTC'),
  /** Lifecycle stages that get no marketing at all (e.g. lapsed: stop pestering lost customers). */
  suppressStages: z.array(z.string().min(1).max(50)).max(10).default([]),
});
export type MessagingPolicy = z.infer<typeof MessagingPolicy>;

export type GateInput = {
  workspaceId: string;
  contactId: number;
  channel: z.infer<typeof Channel>;
  /** The address the message would go to (email, phone, push endpoint, postal id). */
  address: string;
  topic: string;
  transactional: boolean;
  timezone: string | null;
  lifecycleStage: string | null;
  journeyId: number | null;
  sendRatePerMinute?: number;
  onCapped: 'defer' | 'drop';
};

/** What the gate decided, with the reason a marketer reads in the contact's log. */
export type GateDecision =
  | { decision: 'send' }
  | { decision: 'deferred'; until: Date; reason: string }
  | { decision: 'dropped'; reason: string }
  | { decision: 'suppressed'; reason: string };
