import { assertNever } from '../core/result.ts';
import { addDuration, durationMs, isTimeZone, localParts, nextLocalTime } from '../core/zoned-time.ts';
import { decideWith, type GateDecision, type MessagingPolicy } from '../policy/index.ts';
import { addressFor, consented, datedTraits, type ContactFacts } from './contact-facts.ts';
import { compileDefinition, inHoldout, matchesWhere, pickWeighted, resolveNext, satisfiesWait, stepById, triggerMatch, waitEnds } from './decide.ts';
import { messageChannels, type Content, type JourneyDefinition, type MessageChannel, type Step, type StepOf } from './schema.ts';

/**
 * The pure half of the dry run: given the entries a trigger would have made, the entrants'
 * profiles and stored events, and the outcome of each branch rule, walk every entrant through the
 * journey on a virtual clock exactly as the runner would, and count. No database and no clock of
 * its own, so a test can hand it a few contacts and a few events.
 *
 * It is a discrete-event simulation: one queue of due work ordered by time (runs due to continue
 * before entries at the same instant, because ingestion resumes waits and converts goals before it
 * enrols), so that the rules that couple runs hold as they do live: one live run per contact and
 * the re-entry rule, frequency caps over the contact's earlier simulated messages, the journey's
 * send rate over all of its messages. The decisions reuse the engine's own pure functions:
 * pickWeighted with the runner's keys, inHoldout, satisfiesWait, waitEnds and the policy gate's
 * decideWith.
 */

export type SimContact = ContactFacts & {
  /** Opens and clicks per channel before the window: how `channel: best` ranks channels. */
  engagement?: Partial<Record<MessageChannel, number>>;
  /** The hour of day (0–23, contact's zone) they usually engage at, for `bestHour`; null when unknown. */
  usualHour?: number | null;
};
export type SimEntry = {
  contactId: number;
  /** When the contact enters (the trigger's time). */
  at: Date;
  /** When the first step runs, if later (a date trigger's time of day). */
  dueAt?: Date;
  trigger: { name: string | null; properties: Record<string, unknown> };
};
export type SimEvent = { name: string; properties: Record<string, unknown>; at: Date };

export type SimulationInput = {
  /** The saved journey's id (holdout and split keys use it); 0 for a draft never saved. */
  journeyId: number;
  definition: JourneyDefinition;
  from: Date;
  to: Date;
  policy: MessagingPolicy;
  /** Candidate entries, in any order; the re-entry rule decides which become runs. */
  entries: readonly SimEntry[];
  contacts: ReadonlyMap<number, SimContact>;
  /** Per contact, the stored events that waits and the goal look for, oldest first. */
  events: ReadonlyMap<number, readonly SimEvent[]>;
  /** Suppressed addresses, keyed `${channel}\u0000${address}`, with the reason. */
  suppressions: ReadonlyMap<string, string>;
  /** Per branch step, per branch (in order), the contacts its rule holds for. */
  branchMembers: ReadonlyMap<string, readonly ReadonlySet<number>[]>;
  /** How many contacts to report with their paths. */
  sampleLimit?: number;
};

export type RunOutcome = 'completed' | 'exited' | 'converted' | 'erased' | 'holdout' | 'inside';
export type StepReach = { stepId: string; type: Step['type']; reached: number; outcomes: Record<string, number> };
export type WeekCount = { weekStart: string; days: number } & Record<MessageChannel, number>;
export type ReasonCount = { reason: string; count: number };
export type SampleContact = {
  contactId: number;
  runs: { run: number; enteredAt: string; outcome: RunOutcome; endedAt: string | null; path: { stepId: string; at: string; note?: string }[] }[];
};
export type SimulationReport = {
  /** Runs that would have started (holdout included) and the contacts they belong to. */
  entered: number;
  contacts: number;
  holdout: number;
  /** Candidate entries refused: a live run or the re-entry rule, or a contact that no longer exists. */
  notEntered: { reentry: number; unknownContact: number };
  perStep: StepReach[];
  /** How the treated runs ended; `stillInside` were waiting or due after the window. */
  exits: { completed: number; exited: number; converted: number; erased: number; stillInside: number };
  messages: { total: number; perChannel: Record<MessageChannel, number>; webhooks: number; perWeek: WeekCount[] };
  decisions: Record<'suppressed' | 'deferred' | 'dropped', { total: number; reasons: ReasonCount[] }>;
  sample: SampleContact[];
};

type SimWait = { step: string; kind: 'timer' | 'retry' | 'event'; outcome?: 'event'; bestHourDone?: boolean };
type SimRun = {
  id: number;
  contactId: number;
  enteredAt: number;
  trigger: SimEntry['trigger'];
  stepId: string | null;
  wait: SimWait | null;
  goalAt: number | null;
  outcome: RunOutcome;
  endedAt: number | null;
  visited: Set<string>;
  path: { stepId: string; at: string; note?: string }[] | null;
};
type ContactState = { runs: SimRun[]; live: SimRun | null; sent: Map<MessageChannel, number[]> };
type Outcome =
  | { kind: 'next'; next: string | null; note?: string; outcome?: string }
  | { kind: 'park'; dueAt: number; wait: SimWait; note?: string }
  | { kind: 'finish'; state: 'completed' | 'exited' | 'erased' };

const WEEK_MS = 7 * 86_400_000;

/** Runs the simulation; see the module comment. */
export function simulate(input: SimulationInput): SimulationReport {
  const compiled = compileDefinition(input.definition);
  const { settings, steps } = input.definition;
  const from = input.from.getTime();
  const to = input.to.getTime();
  const policy = input.policy;
  const periodMs = settings.reentry === 'once_per_period' ? durationMs(settings.reentryPeriod!) : 0;
  const goal = settings.goal?.exit ? settings.goal : null;
  const sampleLimit = input.sampleLimit ?? 20;

  const report: SimulationReport = {
    entered: 0, contacts: 0, holdout: 0, notEntered: { reentry: 0, unknownContact: 0 },
    perStep: steps.map((s) => ({ stepId: s.id, type: s.type, reached: 0, outcomes: {} })),
    exits: { completed: 0, exited: 0, converted: 0, erased: 0, stillInside: 0 },
    messages: { total: 0, perChannel: { email: 0, sms: 0, push: 0, print: 0 }, webhooks: 0, perWeek: weeks(from, to) },
    decisions: { suppressed: { total: 0, reasons: [] }, deferred: { total: 0, reasons: [] }, dropped: { total: 0, reasons: [] } },
    sample: [],
  };
  const stepIndex = new Map(steps.map((s, i) => [s.id, i]));
  const reasons = { suppressed: new Map<string, number>(), deferred: new Map<string, number>(), dropped: new Map<string, number>() };
  const contactsState = new Map<number, ContactState>();
  const sampled = new Map<number, SampleContact>();
  const journeyTimes: number[] = [];
  const queue = new TimeQueue();
  let runIds = 0;

  const count = (stepId: string, key: string) => {
    const o = report.perStep[stepIndex.get(stepId)!]!.outcomes;
    o[key] = (o[key] ?? 0) + 1;
  };
  const note = (run: SimRun, stepId: string, at: number, text?: string) => {
    run.path?.push({ stepId, at: new Date(at).toISOString(), ...(text ? { note: text } : {}) });
  };
  const end = (run: SimRun, outcome: Exclude<RunOutcome, 'holdout' | 'inside'>, at: number) => {
    run.outcome = outcome;
    run.endedAt = at;
    report.exits[outcome]++;
    contactsState.get(run.contactId)!.live = null;
  };
  /** Queues the run's next moment, or leaves it inside when that falls after the window. */
  const schedule = (run: SimRun, due: number) => {
    const at = run.goalAt !== null && run.goalAt < due ? run.goalAt : due;
    if (at >= to) return;
    queue.push(at, { kind: 'run', run });
  };

  function enter(entry: SimEntry, at: number): void {
    const contact = input.contacts.get(entry.contactId);
    if (!contact) {
      report.notEntered.unknownContact++;
      return;
    }
    let cs = contactsState.get(entry.contactId);
    if (!cs) contactsState.set(entry.contactId, (cs = { runs: [], live: null, sent: new Map() }));
    const last = cs.runs[cs.runs.length - 1];
    // The enrol statement's rule: never twice under `never`, never beside a live run, and at most
    // once per period under `once_per_period`.
    if (cs.live || (last && (settings.reentry === 'never' || (settings.reentry === 'once_per_period' && last.enteredAt > at - periodMs)))) {
      report.notEntered.reentry++;
      return;
    }
    const holdout = inHoldout(input.journeyId, entry.contactId, settings.holdoutPercent);
    const run: SimRun = {
      id: ++runIds, contactId: entry.contactId, enteredAt: at, trigger: entry.trigger, stepId: steps[0]!.id, wait: null,
      goalAt: holdout || !goal ? null : firstGoal(input.events.get(entry.contactId) ?? [], at),
      outcome: holdout ? 'holdout' : 'inside', endedAt: holdout ? at : null, visited: new Set(), path: null,
    };
    if (cs.runs.length === 0) report.contacts++;
    cs.runs.push(run);
    report.entered++;
    let sample = sampled.get(entry.contactId);
    if (!sample && sampled.size < sampleLimit) sampled.set(entry.contactId, (sample = { contactId: entry.contactId, runs: [] }));
    if (sample) run.path = [];
    if (sample) sample.runs.push({ run: run.id, enteredAt: new Date(at).toISOString(), outcome: run.outcome, endedAt: null, path: run.path! });
    if (holdout) {
      report.holdout++;
      return;
    }
    cs.live = run;
    schedule(run, Math.max(at, entry.dueAt?.getTime() ?? at));
  }

  function firstGoal(events: readonly SimEvent[], after: number): number | null {
    for (let i = firstAfter(events, after); i < events.length; i++) {
      const e = events[i]!;
      if (e.name === goal!.event && matchesWhere(e.properties, goal!.where)) return e.at.getTime();
    }
    return null;
  }

  /** The runner's loop for one claimed run: as far as it can go at `t`. */
  function advance(run: SimRun, t: number): void {
    if (run.goalAt !== null && run.goalAt <= t) return end(run, 'converted', run.goalAt);
    const contact = input.contacts.get(run.contactId)!;
    let stepId = run.stepId;
    let wait = run.wait;
    for (;;) {
      if (stepId === null) return end(run, 'completed', t);
      const step = stepById(compiled, stepId)!;
      if (wait && wait.step === stepId && wait.kind !== 'retry') {
        stepId = step.type === 'wait_for_event'
          ? resolveNext(compiled, step, wait.outcome === 'event' ? step.next : step.timeoutNext)
          : resolveNext(compiled, step, 'next' in step ? (step.next as string | undefined) : undefined);
        wait = null;
        continue;
      }
      if (!run.visited.has(stepId)) {
        run.visited.add(stepId);
        report.perStep[stepIndex.get(stepId)!]!.reached++;
      }
      const r = runStep(run, contact, step, t, wait);
      wait = null;
      if (r.kind === 'next') {
        if (r.outcome) count(step.id, r.outcome);
        note(run, step.id, t, r.note);
        stepId = r.next;
        continue;
      }
      if (r.kind === 'park') {
        note(run, step.id, t, r.note);
        run.stepId = stepId;
        run.wait = r.wait;
        return schedule(run, r.dueAt);
      }
      note(run, step.id, t);
      return end(run, r.state, t);
    }
  }

  function runStep(run: SimRun, contact: SimContact, step: Step, t: number, wait: SimWait | null): Outcome {
    const tz = isTimeZone(contact.timezone) ? contact.timezone : policy.defaultTimezone;
    switch (step.type) {
      case 'wait':
      case 'wait_until':
        return { kind: 'park', dueAt: waitEnds(step, new Date(t), tz, datedTraits(contact)).getTime(), wait: { step: step.id, kind: 'timer' } };
      case 'wait_for_event': {
        const deadline = addDuration(new Date(t), step.timeout).getTime();
        const awaited = { event: step.event, where: step.where, match: triggerMatch(step, run.trigger.properties) };
        const events = input.events.get(run.contactId) ?? [];
        for (let i = firstAfter(events, t); i < events.length && events[i]!.at.getTime() < deadline; i++) {
          const e = events[i]!;
          if (satisfiesWait(awaited, e)) {
            count(step.id, 'event');
            return { kind: 'park', dueAt: e.at.getTime(), wait: { step: step.id, kind: 'event', outcome: 'event' }, note: `${step.event} came` };
          }
        }
        count(step.id, 'timeout');
        return { kind: 'park', dueAt: deadline, wait: { step: step.id, kind: 'event' }, note: 'waiting; times out' };
      }
      case 'branch': {
        const members = input.branchMembers.get(step.id) ?? [];
        const i = step.branches.findIndex((_, k) => members[k]?.has(run.contactId) === true);
        const name = i < 0 ? 'otherwise' : step.branches[i]!.name;
        return { kind: 'next', next: resolveNext(compiled, step, i < 0 ? step.otherwise : step.branches[i]!.next), note: name, outcome: name };
      }
      case 'split': {
        const path = pickWeighted(step.paths, `split:${input.journeyId}:${run.id}:${step.id}`);
        return { kind: 'next', next: resolveNext(compiled, step, path.next), note: path.name, outcome: path.name };
      }
      case 'send':
        return send(run, contact, step, t, tz, wait);
      case 'webhook':
        journeyTimes.push(t);
        report.messages.webhooks++;
        return { kind: 'next', next: resolveNext(compiled, step, step.next), note: 'webhook' };
      case 'update_contact':
      case 'coupon':
      case 'list':
        return { kind: 'next', next: resolveNext(compiled, step, step.next) };
      case 'delete_contact':
        return { kind: 'finish', state: step.mode === 'erase' ? 'erased' : 'completed' };
      case 'exit':
        return { kind: 'finish', state: 'exited' };
      default:
        return assertNever(step);
    }
  }

  /** The send step as send-step.ts takes it: variant, channel, best hour, the gate. */
  function send(run: SimRun, contact: SimContact, step: StepOf<'send'>, t: number, tz: string, wait: SimWait | null): Outcome {
    const next = resolveNext(compiled, step, step.next);
    const variant = step.variants ? pickWeighted(step.variants, `variant:${input.journeyId}:${run.id}:${step.id}`) : null;
    const order = channelOrder(step, variant?.content ?? step.content, contact);
    const channel = order.find((ch) => addressFor(contact, ch) !== null && consented(contact, ch, step.topic, step.transactional));
    if (!channel) {
      const reason = `unreachable: no address with consent on ${order.length > 0 ? order.join(', ') : 'no channel with content'}`;
      decided({ decision: 'suppressed', reason }, null);
      count(step.id, 'suppressed');
      return { kind: 'next', next, note: reason };
    }
    if (step.bestHour && !wait?.bestHourDone) {
      const hour = contact.usualHour ?? null;
      if (hour !== null && localParts(new Date(t), tz).hour !== hour) {
        const at = nextLocalTime(new Date(t), `${String(hour).padStart(2, '0')}:00`, tz).getTime();
        return { kind: 'park', dueAt: at, wait: { step: step.id, kind: 'retry', bestHourDone: true }, note: `waits for ${hour}:00, the contact's usual hour` };
      }
    }
    const address = addressFor(contact, channel)!;
    const cs = contactsState.get(run.contactId)!;
    const sent = cs.sent.get(channel) ?? [];
    const longest = Math.max(0, ...policy.caps.filter((c) => c.channel === channel).map((c) => durationMs(c.window)));
    const granted = (topic: string) => contact.consents.find((k) => k.channel === channel && k.topic === topic)?.granted ?? null;
    const decision = decideWith(policy, {
      workspaceId: '', contactId: run.contactId, channel, address, topic: step.topic, transactional: step.transactional, timezone: tz,
      lifecycleStage: (contact.scores?.lifecycle_stage as string | undefined) ?? null, journeyId: input.journeyId,
      sendRatePerMinute: settings.sendRatePerMinute, onCapped: step.onCapped,
    }, {
      suppressed: input.suppressions.get(`${channel}\u0000${address}`) ?? null,
      channelConsent: granted('*'),
      topicConsent: granted(step.topic),
      recent: step.transactional ? [] : sent.slice(firstAfter(sent, t - longest)).map((x) => new Date(x)),
      journeyRecent: settings.sendRatePerMinute ? journeyTimes.slice(firstAfter(journeyTimes, t - 60_000)).map((x) => new Date(x)) : [],
    }, new Date(t));
    if (decision.decision === 'deferred') {
      decided(decision, address);
      return { kind: 'park', dueAt: decision.until.getTime(), wait: { step: step.id, kind: 'retry', bestHourDone: wait?.bestHourDone }, note: decision.reason };
    }
    if (decision.decision !== 'send') {
      decided(decision, address);
      count(step.id, decision.decision);
      return { kind: 'next', next, note: decision.reason };
    }
    if (!step.transactional) cs.sent.set(channel, [...sent, t]);
    journeyTimes.push(t);
    report.messages.total++;
    report.messages.perChannel[channel]++;
    const week = report.messages.perWeek[Math.floor((t - from) / WEEK_MS)];
    if (week) week[channel]++;
    count(step.id, 'sent');
    if (variant) count(step.id, `variant ${variant.name}`);
    return { kind: 'next', next, note: `${channel}${variant ? ` (variant ${variant.name})` : ''}` };
  }

  function decided(d: Exclude<GateDecision, { decision: 'send' }>, address: string | null): void {
    // One line per kind of reason: the address and the time a deferral ends are per message.
    let key = d.reason.replace(/ until \d{4}-\d{2}-\d{2}T[\d:.]+Z$/, '');
    if (address) key = key.split(address).join('the address');
    const map = reasons[d.decision];
    map.set(key, (map.get(key) ?? 0) + 1);
    report.decisions[d.decision].total++;
  }

  const entries = input.entries
    .map((e) => ({ e, at: e.at.getTime() }))
    .filter((x) => x.at >= from && x.at < to)
    .sort((a, b) => a.at - b.at || a.e.contactId - b.e.contactId);
  for (const { e, at } of entries) queue.push(at, { kind: 'entry', entry: e });
  for (let item = queue.pop(); item; item = queue.pop()) {
    if (item.work.kind === 'entry') enter(item.work.entry, item.at);
    else if (item.work.run.outcome === 'inside') advance(item.work.run, item.at);
  }

  for (const cs of contactsState.values()) if (cs.live) report.exits.stillInside++;
  for (const kind of ['suppressed', 'deferred', 'dropped'] as const) {
    report.decisions[kind].reasons = [...reasons[kind]].map(([reason, n]) => ({ reason, count: n })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  }
  for (const s of sampled.values()) {
    for (const r of s.runs) {
      const run = contactsState.get(s.contactId)!.runs.find((x) => x.id === r.run)!;
      r.outcome = run.outcome;
      r.endedAt = run.endedAt === null ? null : new Date(run.endedAt).toISOString();
    }
  }
  report.sample = [...sampled.values()];
  return report;
}

/** The channels to try in order, as send-step.ts ranks them (engagement for `best`, then the fallbacks). */
function channelOrder(step: StepOf<'send'>, content: Content, contact: SimContact): MessageChannel[] {
  const withContent = messageChannels.filter((ch) => content[ch] !== undefined);
  const first = step.channel === 'best'
    ? [...withContent].sort((a, b) => (contact.engagement?.[b] ?? 0) - (contact.engagement?.[a] ?? 0))
    : [step.channel];
  return [...new Set([...first, ...(step.fallback ?? [])])].filter((ch) => withContent.includes(ch));
}

/** Seven-day buckets from the start of the window; the last may be shorter. */
function weeks(from: number, to: number): WeekCount[] {
  const out: WeekCount[] = [];
  for (let start = from; start < to; start += WEEK_MS) {
    out.push({ weekStart: new Date(start).toISOString(), days: Math.round((Math.min(to, start + WEEK_MS) - start) / 864e4) / 10, email: 0, sms: 0, push: 0, print: 0 });
  }
  return out;
}

/** The index of the first item strictly after `t` in a list sorted by time. */
function firstAfter(list: readonly (SimEvent | number)[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = list[mid]!;
    if ((typeof x === 'number' ? x : x.at.getTime()) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Work = { kind: 'run'; run: SimRun } | { kind: 'entry'; entry: SimEntry };
type Queued = { at: number; seq: number; work: Work };

/**
 * A binary heap of due work: earliest first; at the same instant runs before entries (ingestion
 * resumes waits and converts goals before it enrols), then in the order queued.
 */
class TimeQueue {
  private heap: Queued[] = [];
  private seq = 0;
  push(at: number, work: Work): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, work });
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Queued | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Queued, b: Queued): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.work.kind !== b.work.kind) return a.work.kind === 'run';
  return a.seq < b.seq;
}
