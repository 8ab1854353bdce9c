import { assertNever } from '../core/result.ts';
import { Params, intervalText, isDuration, likeEscape } from './params.ts';
import { compileEventCount, compileEventTime, eventConditions } from './compile-events.ts';
import { compileOrders, compileBought, compileDate } from './compile-orders.ts';
import { engagementEventName, type Compare, type SegmentRule } from './schema.ts';
import { firstSeenSql, lastSeenSql, seenComparison } from '../contacts/seen.ts';

/**
 * How a rule is evaluated. Both modes select exactly the same contacts (a property test holds
 * them to it); they differ in the plan they lead Postgres to:
 * - `set`: for recomputing a whole segment. Conditions on events and orders become semi-joins on
 *   the set of matching contacts (`c.id in (select contact_id …)`) and anti-joins (`not exists`),
 *   which Postgres runs as one hash join over the events index instead of one probe per contact.
 *   Never `not in (subquery)`: with a million ids the hashed subplan exceeds work_mem and Postgres
 *   falls back to a linear scan per contact.
 * - `contact`: for re-evaluating a few contacts after their events change. Conditions become
 *   correlated subqueries that probe the (workspace_id, contact_id, occurred_at) index of each contact.
 */
export type CompileMode = 'set' | 'contact';

export type CompileContext = { mode: CompileMode; params: Params; ws: string; now: string };

const builtinColumns: Record<string, { sql: string; kind: 'text' | 'time' }> = {
  $user_id: { sql: 'c.user_id', kind: 'text' },
  $email: { sql: 'c.email', kind: 'text' },
  $phone: { sql: 'c.phone', kind: 'text' },
  $timezone: { sql: 'c.timezone', kind: 'text' },
  $locale: { sql: 'c.locale', kind: 'text' },
  $first_seen_at: { sql: firstSeenSql('c'), kind: 'time' },
  $last_seen_at: { sql: lastSeenSql('c'), kind: 'time' },
  $created_at: { sql: 'c.created_at', kind: 'time' },
};

export const compareSql: Record<Compare, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** Does comparing `x` with `op value` hold? (Used to decide whether "no rows" satisfies a count.) */
export function holds(x: number, op: Compare, value: number): boolean {
  switch (op) {
    case 'eq': return x === value;
    case 'neq': return x !== value;
    case 'gt': return x > value;
    case 'gte': return x >= value;
    case 'lt': return x < value;
    case 'lte': return x <= value;
    default: return assertNever(op);
  }
}

/** A SQL condition on a timestamp expression: before/after a date, within/more than a duration ago. */
export function timeCondition(expr: string | ((op: '<' | '>' | '>=', bound: string) => string), op: 'before' | 'after' | 'within_last' | 'more_than_ago', value: string, ctx: CompileContext): string {
  const compare = typeof expr === 'string' ? (o: string, bound: string) => `${expr} ${o} ${bound}` : expr;
  switch (op) {
    case 'before': return compare('<', ctx.params.add(asTime(value), 'timestamptz'));
    case 'after': return compare('>', ctx.params.add(asTime(value), 'timestamptz'));
    case 'within_last': return compare('>=', `${ctx.now} - ${ctx.params.add(intervalText(asDuration(value)), 'interval')}`);
    case 'more_than_ago': return compare('<', `${ctx.now} - ${ctx.params.add(intervalText(asDuration(value)), 'interval')}`);
    default: return assertNever(op);
  }
}

function asTime(value: string): string {
  if (isDuration(value)) throw new RuleError(`"${value}" is a duration; before/after take a date such as 2026-01-31`);
  return value.length === 10 ? `${value}T00:00:00Z` : value;
}
function asDuration(value: string): string {
  if (!isDuration(value)) throw new RuleError(`"${value}" is a date; within_last/more_than_ago take a duration such as 90d`);
  return value;
}

/** A rule that validates but cannot be compiled (e.g. a date where a duration belongs). */
export class RuleError extends Error {}

/** Compiles a rule to a boolean SQL expression over the contact row `c`. Never null: NOT stays exact. */
export function compileRule(rule: SegmentRule, ctx: CompileContext): string {
  switch (rule.type) {
    case 'and': return `(${rule.rules.map((r) => compileRule(r, ctx)).join(' and ')})`;
    case 'or': return `(${rule.rules.map((r) => compileRule(r, ctx)).join(' or ')})`;
    case 'not': return `(not ${compileRule(rule.rule, ctx)})`;
    case 'trait': return `coalesce(${compileTrait(rule, ctx)}, false)`;
    case 'event': return compileEventCount(rule, rule.count ?? { op: 'gte', value: 1 }, eventConditions(rule, ctx), ctx);
    case 'event_time': return compileEventTime(rule, ctx);
    case 'engagement': {
      const conditions = eventConditions({ event: engagementEventName[rule.action], eventType: 'track', where: rule.channel ? [{ path: 'channel', op: 'eq', value: rule.channel }] : [] }, ctx);
      if (rule.within) conditions.push(timeCondition('e.occurred_at', 'within_last', rule.within, ctx));
      return compileEventCount(rule, rule.count ?? { op: 'gte', value: 1 }, conditions, ctx);
    }
    case 'orders': return compileOrders(rule, ctx);
    case 'bought': return compileBought(rule, ctx);
    case 'date': return compileDate(rule, ctx);
    case 'reachable': return compileReachable(rule, ctx);
    case 'score': {
      const value = rule.op === 'in' ? ctx.params.add(Array.isArray(rule.value) ? rule.value : [rule.value], 'text[]') : ctx.params.add(rule.value);
      const cond = rule.op === 'in' ? `s.${rule.field} = any(${value})` : `s.${rule.field} ${compareSql[rule.op]} ${value}`;
      return ctx.mode === 'set'
        ? `c.id in (select s.contact_id from contact_scores s where s.workspace_id = ${ctx.ws} and ${cond})`
        : `exists (select 1 from contact_scores s where s.workspace_id = ${ctx.ws} and s.contact_id = c.id and ${cond})`;
    }
    case 'segment': {
      const id = ctx.params.add(rule.segmentId, 'bigint');
      return ctx.mode === 'set'
        ? `c.id in (select m.contact_id from segment_memberships m where m.workspace_id = ${ctx.ws} and m.segment_id = ${id} and m.exited_at is null)`
        : `exists (select 1 from segment_memberships m where m.workspace_id = ${ctx.ws} and m.segment_id = ${id} and m.contact_id = c.id and m.exited_at is null)`;
    }
    case 'random': {
      // A stable hash: a contact stays in its bucket for a given seed, so holdouts do not churn.
      const bucket = `(abs(hashtextextended(${ctx.ws} || ':' || ${ctx.params.add(rule.seed)} || ':' || c.id::text, 0)) % 100)`;
      return `(${bucket} >= ${ctx.params.add(rule.from, 'int')} and ${bucket} < ${ctx.params.add(rule.to, 'int')})`;
    }
    default: return assertNever(rule);
  }
}

function compileTrait(rule: Extract<SegmentRule, { type: 'trait' }>, ctx: CompileContext): string {
  const p = ctx.params;
  const builtin = builtinColumns[rule.trait];
  if (rule.trait.startsWith('$') && !builtin) throw new RuleError(`unknown built-in field ${rule.trait}; known: ${Object.keys(builtinColumns).join(', ')}`);
  const key = builtin ? '' : p.add(rule.trait);
  const text = builtin ? builtin.sql : `(c.traits->>${key})`;
  const json = builtin ? `to_jsonb(${builtin.sql})` : `(c.traits->${key})`;
  const number = `(case when jsonb_typeof(${json}) = 'number' then (${json})::numeric end)`;
  const time = builtin?.kind === 'time' ? builtin.sql : `tend_try_date(${text})::timestamp at time zone 'UTC'`;
  const v = rule.value;
  const need = (kind: string) => {
    throw new RuleError(`trait rule "${rule.op}" needs ${kind} as value`);
  };
  switch (rule.op) {
    case 'exists': return `(${json} is not null and jsonb_typeof(${json}) <> 'null')`;
    case 'not_exists': return `(${json} is null or jsonb_typeof(${json}) = 'null')`;
    case 'eq':
    case 'neq': {
      if (v === undefined || Array.isArray(v)) return need('a single value');
      const eq = typeof v === 'string' ? `${text} = ${p.add(v)}` : `${json} = ${p.add(JSON.stringify(v), 'jsonb')}`;
      return rule.op === 'eq' ? eq : `not coalesce(${eq}, false)`;
    }
    case 'contains': return typeof v === 'string' ? `${text} ilike ${p.add(`%${likeEscape(v)}%`)}` : need('a text');
    case 'starts_with': return typeof v === 'string' ? `${text} ilike ${p.add(`${likeEscape(v)}%`)}` : need('a text');
    case 'in': return Array.isArray(v) ? `${text} = any(${p.add(v.map(String), 'text[]')})` : need('a list');
    case 'gt': case 'gte': case 'lt': case 'lte':
      return typeof v === 'number' ? `${number} ${compareSql[rule.op]} ${p.add(v)}` : need('a number');
    case 'before': case 'after': case 'within_last': case 'more_than_ago': {
      if (typeof v !== 'string') return need('a date or a duration');
      // First and last seen come from the events: compared by an index probe (contacts/seen.ts).
      const seen = rule.trait === '$first_seen_at' ? 'first' : rule.trait === '$last_seen_at' ? 'last' : null;
      return timeCondition(seen ? (o, bound) => seenComparison(seen, o, bound) : time, rule.op, v, ctx);
    }
    default: return assertNever(rule.op);
  }
}

function compileReachable(rule: Extract<SegmentRule, { type: 'reachable' }>, ctx: CompileContext): string {
  const p = ctx.params;
  const address: Record<typeof rule.channel, string> = {
    email: `c.email is not null and coalesce((c.email_check->>'valid')::boolean, true)`,
    sms: `c.phone is not null`,
    push: `exists (select 1 from push_subscriptions ps where ps.workspace_id = ${ctx.ws} and ps.contact_id = c.id)`,
    print: `jsonb_typeof(c.traits->'address') = 'object'`,
  };
  const channel = p.add(rule.channel);
  // Explicit opt-in for the channel, and no opt-out from the topic.
  const consent = `exists (select 1 from contact_consents k where k.workspace_id = ${ctx.ws} and k.contact_id = c.id and k.channel = ${channel} and k.topic = '*' and k.granted)`;
  const topic = rule.topic
    ? ` and not exists (select 1 from contact_consents k where k.workspace_id = ${ctx.ws} and k.contact_id = c.id and k.channel = ${channel} and k.topic = ${p.add(rule.topic)} and not k.granted)`
    : '';
  return `(${address[rule.channel]} and ${consent}${topic})`;
}

/** The ids of the segments a rule refers to. */
export function segmentDependencies(rule: SegmentRule): number[] {
  switch (rule.type) {
    case 'and': case 'or': return [...new Set(rule.rules.flatMap(segmentDependencies))];
    case 'not': return segmentDependencies(rule.rule);
    case 'segment': return [rule.segmentId];
    default: return [];
  }
}
