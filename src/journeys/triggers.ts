import type { Db, Queryable } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { isTimeZone, localParts, zonedInstant, parseTimeOfDay } from '../core/zoned-time.ts';
import { memberQuery, type MembershipChange } from '../segments/index.ts';
import type { IngestedBatch } from '../events/index.ts';
import { matchesWhere, satisfiesWait } from './decide.ts';
import { enrol, type Entry, type LiveJourney } from './enrol.ts';
import { JOURNEYS_CHANNEL, type Wait } from './run-types.ts';
import type { VersionCache } from './versions.ts';
import type { Trigger } from './schema.ts';

type Live = LiveJourney & { trigger: Trigger; lastScheduledAt: Date | null };

const changeEventName = { lifecycle_stage: 'Lifecycle Stage Changed', rfm_cell: 'RFM Cell Changed', churn_band: 'Churn Risk Changed' } as const;

/**
 * Where contacts come into journeys and how events reach the runs already inside:
 *  - events just ingested: runs waiting for them resume, goals convert, event triggers enrol;
 *  - segment entries and exits enrol into segment-triggered journeys;
 *  - a sweep (every minute) fires recurring schedules, date triggers in each contact's zone, and
 *    model-output changes (stage, RFM cell, churn band) recorded by scoring.
 * Every entry carries a key naming what caused it, so processing the same cause twice enrols once.
 */
export function createJourneyTriggers({ db, clock, versions }: { db: Db; clock: Clock; versions: VersionCache }) {
  const cache = new Map<string, { at: number; journeys: Live[]; names: Set<string> }>();

  async function live(q: Queryable, workspaceId: string): Promise<Live[]> {
    return (await liveWithNames(q, workspaceId)).journeys;
  }

  /**
   * The workspace's active journeys, and the event names any of them reacts to: triggers, goals,
   * and the waits of every version someone may still be inside. Most ingested batches name none
   * of these and cost the journeys nothing.
   */
  async function liveWithNames(q: Queryable, workspaceId: string): Promise<{ journeys: Live[]; names: Set<string> }> {
    const hit = cache.get(workspaceId);
    if (hit && Date.now() - hit.at < 2_000) return hit;
    const { rows } = await q.query<{ id: number; version: number; last_scheduled_at: Date | null }>(
      `select id, published_version as version, last_scheduled_at from journeys where workspace_id = $1 and status = 'active' and published_version is not null`,
      [workspaceId],
    );
    const journeys: Live[] = [];
    for (const r of rows) {
      const compiled = await versions.get(q, workspaceId, r.id, r.version);
      journeys.push({ workspaceId, id: r.id, version: r.version, compiled, trigger: compiled.definition.trigger, lastScheduledAt: r.last_scheduled_at });
    }
    const names = new Set<string>();
    const all = await q.query<{ journey_id: number; version: number }>(
      `select v.journey_id, v.version from journey_versions v join journeys j on j.workspace_id = v.workspace_id and j.id = v.journey_id
        where v.workspace_id = $1 and j.status in ('active', 'paused')`,
      [workspaceId],
    );
    for (const v of all.rows) {
      const { definition } = await versions.get(q, workspaceId, v.journey_id, v.version);
      if (definition.trigger.type === 'event') names.add(definition.trigger.event);
      if (definition.settings.goal) names.add(definition.settings.goal.event);
      for (const step of definition.steps) if (step.type === 'wait_for_event') names.add(step.event);
    }
    const entry = { at: Date.now(), journeys, names };
    cache.set(workspaceId, entry);
    return entry;
  }

  /** After ingestion committed: waits, goals, then event triggers, in one transaction. */
  async function onIngested(batch: IngestedBatch): Promise<void> {
    const ws = batch.workspaceId;
    const { journeys, names } = await liveWithNames(db, ws);
    const tracked = batch.events.filter((e) => e.name !== null && names.has(e.name));
    if (tracked.length === 0) return;
    const now = clock.now();
    await db.transaction(async (tx) => {
      await resumeWaiting(tx, ws, tracked, now);
      for (const j of journeys) {
        const goal = j.compiled.definition.settings.goal;
        if (!goal?.exit) continue;
        const reached = [...new Set(tracked.filter((e) => e.name === goal.event && matchesWhere(e.properties, goal.where)).map((e) => e.contactId))];
        if (reached.length > 0) {
          await tx.query(
            `update journey_runs set state = 'converted', due_at = null, wait = null, finished_at = $4, updated_at = $4
              where workspace_id = $1 and journey_id = $2 and contact_id = any($3::bigint[]) and state in ('active', 'waiting')`,
            [ws, j.id, reached, now],
          );
        }
      }
      for (const j of journeys) {
        const t = j.trigger;
        if (t.type !== 'event') continue;
        const entries: Entry[] = tracked
          .filter((e) => e.name === t.event && matchesWhere(e.properties, t.where))
          .map((e) => ({ contactId: e.contactId, entryKey: `event:${e.id}`, trigger: { name: e.name, properties: e.properties, occurredAt: e.occurredAt.toISOString(), source: 'event' } }));
        if (entries.length > 0) await enrol(tx, j, entries, now);
      }
    });
  }

  async function resumeWaiting(tx: Queryable, ws: string, events: IngestedBatch['events'], now: Date): Promise<void> {
    const contacts = [...new Set(events.map((e) => e.contactId))];
    const { rows } = await tx.query<{ id: number; contact_id: number; wait: Wait }>(
      // Wait for a lock rather than skip it: a run skipped here would miss its event for good.
      // In id order, so two batches about the same contacts cannot deadlock.
      `select id, contact_id, wait from journey_runs where workspace_id = $1 and contact_id = any($2::bigint[]) and state = 'waiting' order by id for update`,
      [ws, contacts],
    );
    const resumed = rows.filter((r) => r.wait?.event && events.some((e) => e.contactId === r.contact_id && satisfiesWait(r.wait as Required<Pick<Wait, 'event'>> & Wait, e)));
    if (resumed.length === 0) return;
    await tx.query(
      `update journey_runs set state = 'active', due_at = $3, wait = wait || '{"outcome": "event"}', updated_at = $3
        where workspace_id = $1 and id = any($2::bigint[]) and state = 'waiting'`,
      [ws, resumed.map((r) => r.id), now],
    );
    await tx.query(`select pg_notify($1, $2)`, [JOURNEYS_CHANNEL, ws]);
  }

  /**
   * Events Tend recorded itself (opens, clicks, survey answers, unsubscribes, deliveries) reach
   * journeys too: the contacts' events of the last minute are taken through the same path as
   * ingested ones. Seeing an event twice is harmless: entries are keyed by the event, a resumed
   * wait is no longer waiting, a converted run is no longer live.
   */
  async function onRecorded(workspaceId: string, contactIds: readonly number[]): Promise<void> {
    if (contactIds.length === 0 || (await liveWithNames(db, workspaceId)).names.size === 0) return;
    const now = clock.now();
    const { rows } = await db.query<{ id: number; contact_id: number; type: string; name: string | null; occurred_at: Date; properties: Record<string, unknown> }>(
      `select id, contact_id, type, name, occurred_at, properties from events
        where workspace_id = $1 and contact_id = any($2::bigint[]) and received_at > $3::timestamptz - interval '1 minute' and received_at <= $3
        order by id`,
      [workspaceId, contactIds, now],
    );
    if (rows.length === 0) return;
    await onIngested({
      workspaceId, contactIds: [...contactIds],
      events: rows.map((r) => ({ id: r.id, contactId: r.contact_id, type: r.type, name: r.name, occurredAt: new Date(r.occurred_at), properties: r.properties })),
    } as IngestedBatch);
  }

  /** Segment entries and exits enrol into journeys triggered by them. */
  async function onSegmentChanges(workspaceId: string, changes: readonly MembershipChange[]): Promise<void> {
    const journeys = (await live(db, workspaceId)).filter((j) => j.trigger.type === 'segment');
    if (journeys.length === 0) return;
    const now = clock.now();
    await db.transaction(async (tx) => {
      for (const j of journeys) {
        const t = j.trigger as Extract<Trigger, { type: 'segment' }>;
        for (const c of changes) {
          if (c.segmentId !== t.segmentId) continue;
          const ids = t.on === 'enter' ? c.entered : c.exited;
          const entries = ids.map((id): Entry => ({
            contactId: id, entryKey: `segment:${t.on}:${c.segmentId}:${id}:${now.toISOString()}`,
            trigger: { name: t.on === 'enter' ? 'Segment Entered' : 'Segment Exited', properties: { segment_id: c.segmentId, segment: c.segmentName }, source: 'segment' },
          }));
          if (entries.length > 0) await enrol(tx, j, entries, now);
        }
      }
    });
  }

  /** Schedules, date triggers and model-output changes, for every workspace with such journeys. */
  async function sweep(): Promise<number> {
    const now = clock.now();
    const { rows } = await db.query<{ workspace_id: string }>(`select distinct workspace_id from journeys where status = 'active'`);
    let entered = 0;
    for (const { workspace_id: ws } of rows) {
      for (const j of await live(db, ws)) {
        const t = j.trigger;
        if (t.type === 'schedule') entered += await fireSchedule(j, t, now);
        else if (t.type === 'date') entered += await fireDates(j, t, now);
        else if (t.type === 'change') entered += await fireChanges(j, t, now);
      }
    }
    return entered;
  }

  async function fireSchedule(j: Live, t: Extract<Trigger, { type: 'schedule' }>, now: Date): Promise<number> {
    const occurrence = lastOccurrence(t, now);
    if (!occurrence || (j.lastScheduledAt && j.lastScheduledAt >= occurrence)) return 0;
    // Only occurrences since the journey was published (or last fired) count: no back-fill.
    return db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `update journeys set last_scheduled_at = $3 where workspace_id = $1 and id = $2 and (last_scheduled_at is null or last_scheduled_at < $3) returning id`,
        [j.workspaceId, j.id, occurrence],
      );
      if (rows.length === 0) return 0;
      cache.delete(j.workspaceId);
      const q = memberQuery({ type: 'segment', segmentId: t.segmentId }, j.workspaceId, now, 'set');
      const members = await tx.query<{ id: number }>(q.sql, q.params);
      const key = occurrence.toISOString();
      return enrol(tx, j, members.rows.map((m) => ({ contactId: m.id, entryKey: `schedule:${key}:${m.id}`, trigger: { name: 'Scheduled', properties: { occurrence: key }, source: 'schedule' } })), now);
    });
  }

  // Date triggers scan every contact's date, so they run once an hour, not every minute: a
  // contact's local day starts at their midnight, and their entry is due at the trigger's time of
  // day anyway, so an hour late to notice the new day is early enough.
  const lastDateSweep = new Map<string, number>();

  async function fireDates(j: Live, t: Extract<Trigger, { type: 'date' }>, now: Date): Promise<number> {
    const key = `${j.workspaceId}:${j.id}:${j.version}`;
    const last = lastDateSweep.get(key);
    if (last !== undefined && now.getTime() - last < 3_600_000 && now.getTime() >= last) return 0;
    lastDateSweep.set(key, now.getTime());
    // "Today" differs by zone: evaluate the date rule for contacts whose local day it is, and
    // start each at the trigger's time of day in that contact's zone.
    const q = memberQuery({ type: 'date', field: t.field, match: t.match, offset: t.offset }, j.workspaceId, now, 'set');
    const members = await db.query<{ id: number }>(q.sql, q.params);
    if (members.rows.length === 0) return 0;
    const zones = await db.query<{ id: number; timezone: string | null }>(`select id, timezone from contacts where workspace_id = $1 and id = any($2::bigint[])`, [j.workspaceId, members.rows.map((m) => m.id)]);
    const [h, m] = parseTimeOfDay(t.at);
    const entries = zones.rows.map((c): Entry => {
      const tz = isTimeZone(c.timezone) ? c.timezone : 'UTC';
      const p = localParts(now, tz);
      const day = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
      return { contactId: c.id, entryKey: `date:${day}:${c.id}`, dueAt: zonedInstant(p.year, p.month, p.day, h, m, tz), trigger: { name: 'Date Reached', properties: { field: t.field, date: day }, source: 'date' } };
    });
    return db.transaction((tx) => enrol(tx, j, entries, now));
  }

  async function fireChanges(j: Live, t: Extract<Trigger, { type: 'change' }>, now: Date): Promise<number> {
    const { rows } = await db.query<{ id: number; contact_id: number; properties: Record<string, unknown>; occurred_at: Date }>(
      `select id, contact_id, properties, occurred_at from events
        where workspace_id = $1 and name = $2 and occurred_at > $3::timestamptz - interval '1 day' and occurred_at <= $3`,
      [j.workspaceId, changeEventName[t.field], now],
    );
    const entries = rows
      .filter((r) => (!t.to || t.to.includes(String(r.properties.to))) && (!t.from || t.from.includes(String(r.properties.from))))
      .map((r): Entry => ({ contactId: r.contact_id, entryKey: `change:${r.id}`, trigger: { name: changeEventName[t.field], properties: r.properties, occurredAt: new Date(r.occurred_at).toISOString(), source: 'change' } }));
    if (entries.length === 0) return 0;
    return db.transaction((tx) => enrol(tx, j, entries, now));
  }

  /** Enrols one contact through the API trigger (or any journey, for a manual test). */
  async function enrolContact(workspaceId: string, journey: LiveJourney, contactId: number, properties: Record<string, unknown>, key: string): Promise<number> {
    const now = clock.now();
    return db.transaction((tx) => enrol(tx, journey, [{ contactId, entryKey: `api:${key}`, trigger: { name: 'API Enrolment', properties, source: 'api' } }], now));
  }

  return { onIngested, onRecorded, onSegmentChanges, sweep, enrolContact, invalidate: (workspaceId: string) => cache.delete(workspaceId) };
}

/** The latest scheduled time at or before now (daily, or weekly on a weekday), in the schedule's zone. */
export function lastOccurrence(t: Extract<Trigger, { type: 'schedule' }>, now: Date): Date | null {
  const tz = isTimeZone(t.timezone) ? t.timezone : 'UTC';
  const [h, m] = parseTimeOfDay(t.at);
  const p = localParts(now, tz);
  for (let back = 0; back <= 7; back++) {
    const d = new Date(Date.UTC(p.year, p.month - 1, p.day - back));
    const at = zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), h, m, tz);
    if (at > now) continue;
    if (t.every === 'week' && localParts(at, tz).weekday !== (t.weekday ?? 1)) continue;
    return at;
  }
  return null;
}

export type JourneyTriggers = ReturnType<typeof createJourneyTriggers>;
