import type { Db, Queryable } from '../db/index.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { isTimeZone, localParts, parseTimeOfDay, zonedInstant } from '../core/zoned-time.ts';
import { MessagingPolicy } from '../policy/index.ts';
import { memberQuery } from '../segments/index.ts';
import { addressFor, loadContactFactsMany } from './contact-facts.ts';
import { matchesWhere } from './decide.ts';
import { messageChannels, type JourneyDefinition, type MessageChannel, type Trigger } from './schema.ts';
import { simulate, type SimContact, type SimEntry, type SimEvent, type SimulationReport } from './simulate.ts';

const DAY_MS = 86_400_000;
const MAX_WINDOW_DAYS = 366;
/** The events scoring records when a model output moves (as triggers.ts reads them). */
const changeEventName = { lifecycle_stage: 'Lifecycle Stage Changed', rfm_cell: 'RFM Cell Changed', churn_band: 'Churn Risk Changed' } as const;

export type DryRunOptions = {
  workspaceId: string;
  definition: JourneyDefinition;
  /** The window replayed, [from, to); by default the 28 days up to now. */
  from?: Date;
  to?: Date;
  /** Contacts reported with their paths (default 20). */
  sampleLimit?: number;
  /** The saved journey's id, so that the holdout is the one the journey will have; 0 when unsaved. */
  journeyId?: number;
  now?: Date;
};

export type DryRunReport = SimulationReport & {
  window: { from: string; to: string };
  /** Where the replay differs from what the live engine would have done, in plain words. */
  approximations: string[];
  tookMs: number;
};

/**
 * The dry run: replays a window of the stored history as if the journey had been live, and
 * reports who would have entered, which steps they would have reached and what would have been
 * sent, without sending or writing anything. This file reads (in a read-only transaction, so
 * nothing can be written even by mistake); simulate.ts decides.
 */
export async function dryRun(db: Db, options: DryRunOptions): Promise<Result<DryRunReport>> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const to = options.to ?? now;
  const from = options.from ?? new Date(to.getTime() - 28 * DAY_MS);
  if (!(from < to)) return fail({ code: 'invalid', message: `the window must end after it starts (from ${from.toISOString()}, to ${to.toISOString()})`, field: 'from' });
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) return fail({ code: 'invalid', message: `the window may span at most ${MAX_WINDOW_DAYS} days`, field: 'from' });
  const { workspaceId: ws, definition } = options;
  const journeyId = options.journeyId ?? 0;
  const notes: string[] = [];

  const input = await db.transaction(async (tx) => {
    await tx.query('set transaction read only');
    const policyRow = await tx.query<{ policy: unknown }>(`select policy from messaging_settings where workspace_id = $1`, [ws]);
    const policy = MessagingPolicy.parse(policyRow.rows[0]?.policy ?? {});
    const entries = await readEntries(tx, ws, definition.trigger, from, to, notes);
    const ids = [...new Set(entries.map((e) => e.contactId))];
    const contacts = await readContacts(tx, ws, ids);
    const suppressions = await readSuppressions(tx, ws, [...contacts.values()]);
    const events = await readEvents(tx, ws, definition, ids, from, to);
    const branchMembers = new Map<string, Set<number>[]>();
    for (const step of definition.steps) {
      if (step.type !== 'branch') continue;
      const sets: Set<number>[] = [];
      for (const b of step.branches) {
        if (ids.length === 0) sets.push(new Set());
        else {
          const q = memberQuery(b.rule, ws, to, 'contact', ids);
          sets.push(new Set((await tx.query<{ id: number }>(q.sql, q.params)).rows.map((r) => Number(r.id))));
        }
      }
      branchMembers.set(step.id, sets);
    }
    const sends = definition.steps.filter((s) => s.type === 'send');
    if (sends.some((s) => s.channel === 'best')) await readEngagement(tx, ws, contacts, from);
    if (sends.some((s) => s.bestHour)) await readUsualHours(tx, ws, contacts, from, policy.defaultTimezone);
    return { policy, entries, contacts, suppressions, events, branchMembers };
  });

  notes.push(...approximations(definition, journeyId, to, now));
  const report = simulate({ journeyId, definition, from, to, ...input, sampleLimit: options.sampleLimit });
  return ok({ window: { from: from.toISOString(), to: to.toISOString() }, ...report, approximations: notes, tookMs: Math.round(performance.now() - started) });
}

function approximations(definition: JourneyDefinition, journeyId: number, to: Date, now: Date): string[] {
  const out = [
    'Profiles, consent, suppressions and scores are as stored today, not as they were at each moment of the window.',
    'Frequency caps and the send rate count the messages of this dry run only, not those other journeys sent in the window.',
  ];
  const steps = definition.steps;
  if (steps.some((s) => s.type === 'branch')) {
    out.push('Branch rules are evaluated once for all entrants, at the end of the window against the data stored today, not at the moment each contact reaches the branch.');
  }
  if (steps.some((s) => ['update_contact', 'coupon', 'list', 'webhook', 'delete_contact'].includes(s.type))) {
    out.push('Steps that change data (contact updates, coupons, lists, webhooks, deletion) change nothing here; later steps see the profile as stored.');
  }
  if (steps.some((s) => s.type === 'split' || (s.type === 'send' && s.variants))) {
    out.push('Splits and variants are drawn with the engine\'s keys, but runs are numbered in entry order here, so who gets which path differs from a live run; the proportions do not.');
  }
  if (journeyId === 0 && definition.settings.holdoutPercent > 0) {
    out.push('The journey is not saved, so its holdout is drawn as for journey 0: the same share of contacts, not the same contacts.');
  }
  if (to > now) out.push('The window reaches past now: nothing after now is known.');
  return out;
}

// ---- Entries ---------------------------------------------------------------------------------

type EventRow = { contact_id: number; name: string | null; properties: Record<string, unknown>; occurred_at: Date };

/** The entries the trigger would have made in [from, to). */
async function readEntries(tx: Queryable, ws: string, t: Trigger, from: Date, to: Date, notes: string[]): Promise<SimEntry[]> {
  const eventsNamed = async (name: string) =>
    (await tx.query<EventRow>(
      `select contact_id, name, properties, occurred_at from events
        where workspace_id = $1 and name = $2 and occurred_at >= $3 and occurred_at < $4 order by occurred_at, id`,
      [ws, name, from, to],
    )).rows;
  const fromEvent = (r: EventRow): SimEntry => ({ contactId: Number(r.contact_id), at: new Date(r.occurred_at), trigger: { name: r.name, properties: r.properties } });

  switch (t.type) {
    case 'event':
      return (await eventsNamed(t.event)).filter((r) => matchesWhere(r.properties, t.where)).map(fromEvent);
    case 'change':
      notes.push('Entries come from the model-change events recorded in the window.');
      return (await eventsNamed(changeEventName[t.field]))
        .filter((r) => (!t.to || t.to.includes(String(r.properties.to))) && (!t.from || t.from.includes(String(r.properties.from))))
        .map(fromEvent);
    case 'segment': {
      const name = t.on === 'enter' ? 'Segment Entered' : 'Segment Exited';
      const recorded = (await eventsNamed(name)).filter((r) => String(r.properties.segment_id) === String(t.segmentId));
      if (recorded.length > 0) return recorded.map(fromEvent);
      if (t.on === 'exit') {
        notes.push(`No contact left segment ${t.segmentId} in the window, so nobody enters.`);
        return [];
      }
      const members = await readMemberships(tx, ws, t.segmentId);
      notes.push(`No contact entered segment ${t.segmentId} in the window (Tend records entries as they happen), so its members at the start of the window are treated as entering then.`);
      return members.at(from).map((id) => ({ contactId: id, at: from, trigger: { name, properties: { segment_id: t.segmentId, segment: members.name } } }));
    }
    case 'schedule': {
      const members = await readMemberships(tx, ws, t.segmentId);
      notes.push(`Each occurrence enrols the segment's members at that moment from its membership history${members.createdAt && members.createdAt > from ? '; occurrences before the segment existed use its current members' : ''}.`);
      return scheduleOccurrences(t, from, to).flatMap((at) =>
        members.at(at).map((id) => ({ contactId: id, at, trigger: { name: 'Scheduled', properties: { occurrence: at.toISOString() } } })),
      );
    }
    case 'date':
      notes.push('A date trigger enrols at the start of the contact\'s local day (or of the window) and runs the first step at its time of day.');
      return dateEntries(await readDates(tx, ws, t.field, notes), t, from, to);
    case 'api':
      notes.push('The journey is entered only through the API, which the history does not record: nobody enters.');
      return [];
  }
}

/** A segment's membership history: who was a member at an instant (its current members before it existed). */
async function readMemberships(tx: Queryable, ws: string, segmentId: number) {
  const seg = await tx.query<{ name: string; created_at: Date }>(`select name, created_at from segments where workspace_id = $1 and id = $2`, [ws, segmentId]);
  const { rows } = await tx.query<{ contact_id: number; entered_at: Date; exited_at: Date | null }>(
    `select contact_id, entered_at, exited_at from segment_memberships where workspace_id = $1 and segment_id = $2`,
    [ws, segmentId],
  );
  const createdAt = seg.rows[0] ? new Date(seg.rows[0].created_at) : null;
  return {
    name: seg.rows[0]?.name ?? null,
    createdAt,
    at(instant: Date): number[] {
      const t = instant.getTime();
      const before = createdAt === null || t < createdAt.getTime();
      return rows
        .filter((r) => (before ? r.exited_at === null : new Date(r.entered_at).getTime() <= t && (r.exited_at === null || new Date(r.exited_at).getTime() > t)))
        .map((r) => Number(r.contact_id));
    },
  };
}

/** The schedule's occurrences in [from, to), as lastOccurrence computes them. */
export function scheduleOccurrences(t: Extract<Trigger, { type: 'schedule' }>, from: Date, to: Date): Date[] {
  const tz = isTimeZone(t.timezone) ? t.timezone : 'UTC';
  const [h, m] = parseTimeOfDay(t.at);
  const start = localParts(from, tz);
  const out: Date[] = [];
  for (let k = 0; ; k++) {
    const d = new Date(Date.UTC(start.year, start.month - 1, start.day + k));
    const at = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), h, m, tz);
    if (at >= to) return out;
    if (at < from) continue;
    if (t.every === 'week' && localParts(at, tz).weekday !== (t.weekday ?? 1)) continue;
    out.push(at);
  }
}

type DatedContact = { id: number; timezone: string | null; date: { year: number; month: number; day: number } };

/** Each contact's date for a date trigger, read as the segment compiler reads it (compileDate). */
async function readDates(tx: Queryable, ws: string, field: string, notes: string[]): Promise<DatedContact[]> {
  type Row = { id: number; timezone: string | null; value: string | Date | null };
  let rows: Row[];
  if (field === '$first_order_at' || field === '$last_order_at') {
    rows = (await tx.query<Row>(
      `select c.id, c.timezone, ${field === '$first_order_at' ? 'min' : 'max'}(o.ordered_at) as value
         from orders o join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id
        where o.workspace_id = $1 and o.status = 'completed' and c.merged_into is null group by c.id, c.timezone`,
      [ws],
    )).rows;
  } else if (field === '$created_at') {
    rows = (await tx.query<Row>(`select id, timezone, created_at as value from contacts where workspace_id = $1 and merged_into is null`, [ws])).rows;
  } else if (field.startsWith('$')) {
    notes.push(`${field} is not a date a date trigger can use: nobody enters.`);
    return [];
  } else {
    rows = (await tx.query<Row>(
      `select id, timezone, traits->>$2 as value from contacts where workspace_id = $1 and merged_into is null and traits->>$2 is not null`,
      [ws, field],
    )).rows;
  }
  const out: DatedContact[] = [];
  for (const r of rows) {
    const zone = isTimeZone(r.timezone) ? r.timezone : 'UTC';
    let date: DatedContact['date'] | null = null;
    if (r.value instanceof Date) date = localParts(r.value, zone);
    else if (typeof r.value === 'string') date = parseDate(r.value);
    if (date) out.push({ id: Number(r.id), timezone: r.timezone, date: { year: date.year, month: date.month, day: date.day } });
  }
  return out;
}

/** "1990-05-17…" as tend_try_date reads it: the first ten characters, or no date. */
function parseDate(text: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? { year, month, day } : null;
}

/** A date plus an offset as Postgres adds `date + interval` (months clamp to the month's last day). */
function shiftAsPostgres(date: { year: number; month: number; day: number }, offset: string | undefined): string {
  let { year, month, day } = date;
  const m = offset ? /^([+-]?\d+)(d|w|mo|y)$/.exec(offset) : null;
  if (m) {
    const n = Number(m[1]);
    if (m[2] === 'd' || m[2] === 'w') {
      const d = new Date(Date.UTC(year, month - 1, day + n * (m[2] === 'w' ? 7 : 1)));
      [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    } else {
      const months = year * 12 + (month - 1) + n * (m[2] === 'y' ? 12 : 1);
      [year, month] = [Math.floor(months / 12), (months % 12) + 1];
      day = Math.min(day, new Date(Date.UTC(year, month, 0)).getUTCDate());
    }
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Date-trigger entries: for each contact, each local day of the window on which the rule holds
 * ("on": the shifted date is that day; "anniversary": same month and day in a later year, a
 * 29 February falling on 28 February in other years). The sweep enrols at the start of that local
 * day and the first step runs at the trigger's time of day there.
 */
function dateEntries(contacts: DatedContact[], t: Extract<Trigger, { type: 'date' }>, from: Date, to: Date): SimEntry[] {
  const [h, m] = parseTimeOfDay(t.at);
  const days = new Map<string, Map<string, { key: string; year: number; month: number; day: number }[]>>();
  const daysOf = (zone: string) => {
    let byMonthDay = days.get(zone);
    if (byMonthDay) return byMonthDay;
    byMonthDay = new Map();
    const first = localParts(from, zone);
    const last = localParts(new Date(to.getTime() - 1), zone);
    const end = Date.UTC(last.year, last.month - 1, last.day);
    for (let d = new Date(Date.UTC(first.year, first.month - 1, first.day)); d.getTime() <= end; d = new Date(d.getTime() + DAY_MS)) {
      const day = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), key: d.toISOString().slice(0, 10) };
      const md = day.key.slice(5);
      byMonthDay.set(md, [...(byMonthDay.get(md) ?? []), day]);
    }
    days.set(zone, byMonthDay);
    return byMonthDay;
  };
  const out: SimEntry[] = [];
  for (const c of contacts) {
    const zone = isTimeZone(c.timezone) ? c.timezone : 'UTC';
    const byMonthDay = daysOf(zone);
    const shifted = shiftAsPostgres(c.date, t.offset);
    const md = shifted.slice(5);
    let matches = byMonthDay.get(md) ?? [];
    if (t.match === 'on') matches = matches.filter((d) => d.key === shifted);
    else {
      if (md === '02-29') matches = [...matches, ...(byMonthDay.get('02-28') ?? []).filter((d) => !isLeap(d.year))];
      matches = matches.filter((d) => d.key > shifted);
    }
    for (const d of matches) {
      const at = new Date(Math.max(from.getTime(), zonedInstant(d.year, d.month, d.day, 0, 0, zone).getTime()));
      if (at >= to) continue;
      const due = zonedInstant(d.year, d.month, d.day, h, m, zone);
      out.push({ contactId: c.id, at, dueAt: due > at ? due : at, trigger: { name: 'Date Reached', properties: { field: t.field, date: d.key } } });
    }
  }
  return out;
}

// ---- What the simulation needs to know about the entrants -----------------------------------

/** The entrants as the runner reads them (one statement; merged contacts are read as their survivor). */
async function readContacts(tx: Queryable, ws: string, ids: number[]): Promise<Map<number, SimContact>> {
  if (ids.length === 0) return new Map();
  const facts = await loadContactFactsMany(tx, ids.map((id) => ({ workspaceId: ws, contactId: id })));
  return new Map([...facts.values()].map((f): [number, SimContact] => [f.id, f]));
}

async function readSuppressions(tx: Queryable, ws: string, contacts: SimContact[]): Promise<Map<string, string>> {
  const addresses = new Set<string>();
  for (const c of contacts) for (const ch of messageChannels) {
    const a = addressFor(c, ch);
    if (a !== null) addresses.add(a);
  }
  if (addresses.size === 0) return new Map();
  const { rows } = await tx.query<{ channel: string; address: string; reason: string }>(
    `select channel, address, reason from suppressions where workspace_id = $1 and address = any($2::text[])`,
    [ws, [...addresses]],
  );
  return new Map(rows.map((r) => [`${r.channel}\u0000${r.address}`, r.reason]));
}

/** The events that waits and the goal look for, per contact, oldest first. */
async function readEvents(tx: Queryable, ws: string, definition: JourneyDefinition, ids: number[], from: Date, to: Date): Promise<Map<number, SimEvent[]>> {
  const names = new Set<string>();
  for (const s of definition.steps) if (s.type === 'wait_for_event') names.add(s.event);
  if (definition.settings.goal?.exit) names.add(definition.settings.goal.event);
  const out = new Map<number, SimEvent[]>();
  if (names.size === 0 || ids.length === 0) return out;
  const { rows } = await tx.query<EventRow>(
    `select contact_id, name, properties, occurred_at from events
      where workspace_id = $1 and contact_id = any($2::bigint[]) and name = any($3::text[]) and occurred_at >= $4 and occurred_at < $5
      order by contact_id, occurred_at, id`,
    [ws, ids, [...names], from, to],
  );
  for (const r of rows) {
    const id = Number(r.contact_id);
    const list = out.get(id) ?? [];
    list.push({ name: r.name ?? '', properties: r.properties, at: new Date(r.occurred_at) });
    out.set(id, list);
  }
  return out;
}

/** Opens and clicks per channel in the 180 days before the window (how `best` ranks channels). */
async function readEngagement(tx: Queryable, ws: string, contacts: Map<number, SimContact>, from: Date): Promise<void> {
  const { rows } = await tx.query<{ contact_id: number; channel: string; n: number }>(
    `select contact_id, properties->>'channel' as channel, count(*)::int as n from events
      where workspace_id = $1 and contact_id = any($2::bigint[]) and name in ('Message Opened', 'Message Clicked')
        and occurred_at > $3::timestamptz - interval '180 days' and occurred_at <= $3
      group by 1, 2`,
    [ws, [...contacts.keys()], from],
  );
  for (const r of rows) {
    const c = contacts.get(Number(r.contact_id));
    if (c && (messageChannels as readonly string[]).includes(r.channel)) (c.engagement ??= {})[r.channel as MessageChannel] = r.n;
  }
}

/** The hour each contact most often engages at, from the 90 days before the window (as send-step.ts's usualHour). */
async function readUsualHours(tx: Queryable, ws: string, contacts: Map<number, SimContact>, from: Date, defaultTimezone: string): Promise<void> {
  const { rows } = await tx.query<{ contact_id: number; at: Date }>(
    `select contact_id, at from (
       select contact_id, occurred_at as at, row_number() over (partition by contact_id order by occurred_at desc) as n from events
        where workspace_id = $1 and contact_id = any($2::bigint[]) and (name in ('Message Opened', 'Message Clicked') or type = 'page')
          and occurred_at > $3::timestamptz - interval '90 days' and occurred_at <= $3) x
      where n <= 200`,
    [ws, [...contacts.keys()], from],
  );
  const times = new Map<number, Date[]>();
  for (const r of rows) {
    const list = times.get(Number(r.contact_id)) ?? [];
    list.push(new Date(r.at));
    times.set(Number(r.contact_id), list);
  }
  for (const [id, c] of contacts) {
    const list = times.get(id) ?? [];
    if (list.length < 3) {
      c.usualHour = null;
      continue;
    }
    const tz = isTimeZone(c.timezone) ? c.timezone : defaultTimezone;
    const counts = new Array<number>(24).fill(0);
    for (const t of list) counts[localParts(t, tz).hour]!++;
    let best = 0;
    for (let hour = 1; hour < 24; hour++) if (counts[hour]! > counts[best]!) best = hour;
    c.usualHour = best;
  }
}
