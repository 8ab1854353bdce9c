import { holds, timeCondition, compareSql, type CompileContext } from './compile.ts';
import type { Compare, PropertyFilter, SegmentRule } from './schema.ts';

type EventMatch = { event?: string; eventType?: string; where?: PropertyFilter[]; within?: string };

/** The WHERE conditions on `events e` for an event match, including "not after now". */
export function eventConditions(match: EventMatch, ctx: CompileContext): string[] {
  const p = ctx.params;
  const out = [`e.workspace_id = ${ctx.ws}`, `e.occurred_at <= ${ctx.now}`];
  if (match.event !== undefined) out.push(`e.name = ${p.add(match.event)}`);
  // "Any event" means what the contact did, not the membership events Tend itself records.
  else out.push(`e.name is distinct from 'Segment Entered' and e.name is distinct from 'Segment Exited'`);
  if (match.eventType !== undefined) out.push(`e.type = ${p.add(match.eventType)}`);
  if (match.within !== undefined) out.push(timeCondition('e.occurred_at', 'within_last', match.within, ctx));
  for (const f of match.where ?? []) out.push(`coalesce(${propertyCondition(f, ctx)}, false)`);
  return out;
}

function propertyCondition(f: PropertyFilter, ctx: CompileContext): string {
  const p = ctx.params;
  const path = p.add(f.path.split('.'), 'text[]');
  const text = `(e.properties #>> ${path})`;
  const json = `(e.properties #> ${path})`;
  const v = f.value;
  switch (f.op) {
    case 'exists': return `(${json} is not null and jsonb_typeof(${json}) <> 'null')`;
    case 'eq': case 'neq': {
      if (v === undefined || Array.isArray(v)) return 'false';
      const eq = typeof v === 'string' ? `${text} = ${p.add(v)}` : `${json} = ${p.add(JSON.stringify(v), 'jsonb')}`;
      return f.op === 'eq' ? eq : `not coalesce(${eq}, false)`;
    }
    case 'contains': return `${text} ilike ${p.add(`%${String(v ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`;
    case 'in': return `${text} = any(${p.add((Array.isArray(v) ? v : [v]).map(String), 'text[]')})`;
    case 'gt': case 'gte': case 'lt': case 'lte':
      return `(case when jsonb_typeof(${json}) = 'number' then (${json})::numeric end) ${compareSql[f.op]} ${p.add(Number(v))}`;
  }
}

/**
 * "Performed N times": in set mode a semi-join on the contacts that match (or an anti-join on
 * those that do not, when zero events also satisfies the count: "never", "fewer than 3"); in
 * contact mode a correlated count or exists.
 */
export function compileEventCount(_rule: SegmentRule, count: { op: Compare; value: number }, conditions: string[], ctx: CompileContext): string {
  const where = conditions.join(' and ');
  const atLeastOne = count.op === 'gte' && count.value === 1;
  const none = (count.op === 'eq' && count.value === 0) || (count.op === 'lt' && count.value === 1) || (count.op === 'lte' && count.value === 0);
  const zeroOk = holds(0, count.op, count.value);
  if (ctx.mode === 'contact') {
    if (atLeastOne) return `exists (select 1 from events e where e.contact_id = c.id and ${where})`;
    if (none) return `not exists (select 1 from events e where e.contact_id = c.id and ${where})`;
    return `((select count(*) from events e where e.contact_id = c.id and ${where}) ${compareSql[count.op]} ${ctx.params.add(count.value, 'bigint')})`;
  }
  if (atLeastOne) return `c.id in (select e.contact_id from events e where ${where})`;
  if (none) return `not exists (select 1 from events e where e.contact_id = c.id and ${where})`;
  const having = `count(*) ${compareSql[count.op]} ${ctx.params.add(count.value, 'bigint')}`;
  if (!zeroOk) return `c.id in (select e.contact_id from events e where ${where} group by e.contact_id having ${having})`;
  return `not exists (select 1 from (select e.contact_id from events e where ${where} group by e.contact_id having not (${having})) x where x.contact_id = c.id)`;
}

/** The first or last time a contact did something, compared with a date or a duration ago. */
export function compileEventTime(rule: Extract<SegmentRule, { type: 'event_time' }>, ctx: CompileContext): string {
  const where = eventConditions(rule, ctx).join(' and ');
  const agg = rule.which === 'first' ? 'min' : 'max';
  if (ctx.mode === 'contact') {
    return `coalesce(${timeCondition(`(select ${agg}(e.occurred_at) from events e where e.contact_id = c.id and ${where})`, rule.op, rule.value, ctx)}, false)`;
  }
  return `c.id in (select e.contact_id from events e where ${where} group by e.contact_id having ${timeCondition(`${agg}(e.occurred_at)`, rule.op, rule.value, ctx)})`;
}
