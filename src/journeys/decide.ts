import { createHash } from 'node:crypto';
import type { PropertyFilter } from '../segments/index.ts';
import { addDuration, isTimeZone, nextLocalTime, parseTimeOfDay, shiftDate, zonedInstant } from '../core/zoned-time.ts';
import type { JourneyDefinition, Step, StepOf } from './schema.ts';

/**
 * The pure half of the journey engine: given a journey version and where a contact stands, what
 * comes next. No database, no clock of its own: the runner (runner.ts) passes `now` and the facts
 * it read, and carries out what these functions decide.
 */

export type Compiled = { definition: JourneyDefinition; index: Map<string, number> };

export function compileDefinition(definition: JourneyDefinition): Compiled {
  return { definition, index: new Map(definition.steps.map((s, i) => [s.id, i])) };
}

export function stepById(c: Compiled, id: string): Step | undefined {
  const i = c.index.get(id);
  return i === undefined ? undefined : c.definition.steps[i];
}

/** The step a `next` reference leads to: the named one, or the following one when absent; null ends the journey. */
export function resolveNext(c: Compiled, from: Step, target: string | undefined): string | null {
  if (target !== undefined) return target;
  const i = c.index.get(from.id)!;
  return c.definition.steps[i + 1]?.id ?? null;
}

/** A number in [0, 1) from a key: the same contact lands on the same side of a split every time. */
export function unitHash(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/** Picks one of several weighted options by a stable hash of `key`. */
export function pickWeighted<T extends { weight: number }>(options: readonly T[], key: string): T {
  const total = options.reduce((s, o) => s + o.weight, 0);
  let x = unitHash(key) * total;
  for (const o of options) {
    if (x < o.weight) return o;
    x -= o.weight;
  }
  return options[options.length - 1]!;
}

/** Whether a contact entering a journey is kept out as holdout (stable per journey and contact). */
export function inHoldout(journeyId: number, contactId: number, percent: number): boolean {
  return percent > 0 && unitHash(`holdout:${journeyId}:${contactId}`) * 100 < percent;
}

function valueAt(properties: Record<string, unknown>, path: string): unknown {
  let v: unknown = properties;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** An event's properties against property filters, with the same meaning as in segment rules. */
export function matchesWhere(properties: Record<string, unknown>, where: readonly PropertyFilter[] | undefined): boolean {
  for (const f of where ?? []) {
    const v = valueAt(properties, f.path);
    const text = v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const want = f.value;
    let ok: boolean;
    switch (f.op) {
      case 'exists': ok = v !== undefined && v !== null; break;
      case 'eq': ok = !Array.isArray(want) && want !== undefined && (typeof want === 'string' ? text === want : v === want); break;
      case 'neq': ok = !(!Array.isArray(want) && want !== undefined && (typeof want === 'string' ? text === want : v === want)); break;
      case 'contains': ok = text !== null && text.toLowerCase().includes(String(want ?? '').toLowerCase()); break;
      case 'in': ok = text !== null && (Array.isArray(want) ? want : [want]).map(String).includes(text); break;
      case 'gt': case 'gte': case 'lt': case 'lte': {
        if (typeof v !== 'number') { ok = false; break; }
        const n = Number(want);
        ok = f.op === 'gt' ? v > n : f.op === 'gte' ? v >= n : f.op === 'lt' ? v < n : v <= n;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

/** For a wait-for-event step: the trigger's values that the awaited event must repeat. */
export function triggerMatch(step: StepOf<'wait_for_event'>, trigger: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of step.matchTrigger ?? []) out[path] = trigger ? (valueAt(trigger, path) ?? null) : null;
  return out;
}

/** Does an event satisfy a waiting run (name, filters, and the values taken from its trigger)? */
export function satisfiesWait(wait: { event: string; where?: PropertyFilter[]; match?: Record<string, unknown> }, event: { name: string | null; properties: Record<string, unknown> }): boolean {
  if (event.name !== wait.event || !matchesWhere(event.properties, wait.where)) return false;
  for (const [path, value] of Object.entries(wait.match ?? {})) {
    const got = valueAt(event.properties, path);
    if (got === undefined || got === null || String(got) !== String(value)) return false;
  }
  return true;
}

/**
 * When a wait step ends. `wait` adds a duration; `wait_until` goes to the next time of day in the
 * contact's zone, or to a date trait (the runner adds $first_order_at and the like) plus an offset (at that time of day, 09:00 by default); a
 * date already past, or a missing or malformed date, ends the wait at once.
 */
export function waitEnds(step: StepOf<'wait'> | StepOf<'wait_until'>, now: Date, tz: string, traits: Record<string, unknown>): Date {
  if (step.type === 'wait') return addDuration(now, step.duration);
  const zone = isTimeZone(tz) ? tz : 'UTC';
  if (step.date) {
    const raw = traits[step.date.field];
    const day = typeof raw === 'string' ? shiftDate(raw, step.date.offset) : null;
    if (!day) return now;
    const [h, m] = parseTimeOfDay(step.time ?? '09:00');
    const at = zonedInstant(day.year, day.month, day.day, h, m, zone);
    return at > now ? at : now;
  }
  return nextLocalTime(now, step.time!, zone);
}
