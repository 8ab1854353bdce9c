import type { PropertyFilter } from '../segments/index.ts';
import type { NewMessage } from '../channels/messages.ts';
import type { GateDecision, GateInput } from '../policy/index.ts';

/** Notified when journey work is added, so idle runners wake at once. */
export const JOURNEYS_CHANNEL = 'tend_journeys';

/**
 * Why a run is parked on a step. `timer`: a wait; when it is due, the step is done. `retry`: the
 * step itself runs again when due (a message deferred by quiet hours or a cap). `event`: waiting
 * for an event; `outcome` is set when the event came, and a due run without it timed out.
 */
export type Wait = {
  step: string;
  kind: 'timer' | 'retry' | 'event';
  event?: string;
  where?: PropertyFilter[];
  match?: Record<string, unknown>;
  outcome?: 'event';
  bestHourDone?: boolean;
};

/** What the run carries from step to step (stored as JSON on the run). */
export type RunContext = {
  trigger?: { name: string | null; properties: Record<string, unknown>; occurredAt?: string; source: string } | null;
  coupon?: { code: string; percentOff: number | null; amountOff: number | null; expiresAt: string } | null;
  /** The path taken at each split and the variant sent at each A/B send step. */
  paths?: Record<string, string>;
  variants?: Record<string, string>;
  /** Steps reached, in order (for the journey's step counts). */
  visited?: string[];
};

export type RunRow = {
  workspace_id: string;
  id: number;
  journey_id: number;
  version: number;
  contact_id: number;
  state: string;
  step_id: string | null;
  due_at: Date | null;
  wait: Wait | null;
  context: RunContext;
  attempts: number;
  entered_at: Date;
};

/** What running one step decided. */
export type StepResult =
  | { kind: 'next'; next: string | null; note?: Pick<RunContext, 'paths' | 'variants' | 'coupon'> }
  | { kind: 'park'; state: 'active' | 'waiting'; dueAt: Date; wait: Wait }
  | { kind: 'finish'; state: 'completed' | 'exited' }
  | { kind: 'gone' };

export type DecisionRecord = {
  who: { workspaceId: string; contactId: number; journeyId: number; runId: number; stepId: string; channel: string | null };
  decision: Exclude<GateDecision, { decision: 'send' }>;
};

/**
 * Effects that a batch of runs writes together when the batch commits: messages, the gate's
 * decisions, and the gate itself (its facts read for the whole batch at once, and messages
 * already decided in this batch counted against the caps).
 */
export type Effects = {
  message(m: NewMessage): void;
  decision(d: DecisionRecord): void;
  gate(input: GateInput): Promise<GateDecision>;
};
