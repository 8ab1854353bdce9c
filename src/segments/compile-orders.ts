import { holds, timeCondition, compareSql, RuleError, type CompileContext } from './compile.ts';
import { intervalText } from './params.ts';
import type { Compare, SegmentRule } from './schema.ts';

const orderConditions = (ctx: CompileContext, within?: string) => {
  const out = [`o.workspace_id = ${ctx.ws}`, `o.status = 'completed'`, `o.ordered_at <= ${ctx.now}`];
  if (within) out.push(timeCondition('o.ordered_at', 'within_last', within, ctx));
  return out.join(' and ');
};

/** Order metrics: count, total spent, average order value, first and last order date. */
export function compileOrders(rule: Extract<SegmentRule, { type: 'orders' }>, ctx: CompileContext): string {
  const where = orderConditions(ctx, rule.within);
  const isTime = rule.metric === 'first_order_at' || rule.metric === 'last_order_at';
  const agg = { count: 'count(*)', total: 'sum(o.total)', average: 'avg(o.total)', first_order_at: 'min(o.ordered_at)', last_order_at: 'max(o.ordered_at)' }[rule.metric];
  let cond: (expr: string) => string;
  let zeroOk = false;
  if (isTime) {
    if (typeof rule.value !== 'string' || !['before', 'after', 'within_last', 'more_than_ago'].includes(rule.op)) {
      throw new RuleError(`${rule.metric} takes before/after with a date or within_last/more_than_ago with a duration`);
    }
    cond = (expr) => timeCondition(expr, rule.op as 'before', rule.value as string, ctx);
  } else {
    if (typeof rule.value !== 'number' || !(rule.op in compareSql)) throw new RuleError(`${rule.metric} takes eq/neq/gt/gte/lt/lte with a number`);
    const value = ctx.params.add(rule.value, 'numeric');
    cond = (expr) => `${expr} ${compareSql[rule.op as Compare]} ${value}`;
    // A contact without orders has count 0 and total 0 (but no average).
    zeroOk = rule.metric !== 'average' && holds(0, rule.op as Compare, rule.value);
  }
  if (ctx.mode === 'contact') {
    const scalar = rule.metric === 'total' ? `coalesce((select ${agg} from orders o where o.contact_id = c.id and ${where}), 0)` : `(select ${agg} from orders o where o.contact_id = c.id and ${where})`;
    return `coalesce(${cond(scalar)}, false)`;
  }
  if (!zeroOk) return `c.id in (select o.contact_id from orders o where ${where} group by o.contact_id having ${cond(agg)})`;
  return `not exists (select 1 from (select o.contact_id from orders o where ${where} group by o.contact_id having not coalesce(${cond(agg)}, false)) x where x.contact_id = c.id)`;
}

/** Bought a product (by sku) or anything in a category. */
export function compileBought(rule: Extract<SegmentRule, { type: 'bought' }>, ctx: CompileContext): string {
  const p = ctx.params;
  const filters = [orderConditions(ctx, rule.within), `i.workspace_id = o.workspace_id`, `i.order_id = o.order_id`];
  if (rule.sku) filters.push(`i.sku = ${p.add(rule.sku)}`);
  if (rule.category) filters.push(`exists (select 1 from products pr where pr.workspace_id = i.workspace_id and pr.sku = i.sku and pr.category = ${p.add(rule.category)})`);
  const from = `orders o, order_items i where ${filters.join(' and ')}`;
  return ctx.mode === 'set' ? `c.id in (select o.contact_id from ${from})` : `exists (select 1 from ${from} and o.contact_id = c.id)`;
}

/**
 * Date-relative rules, in the contact's own time zone: "birthday today" (anniversary of a date
 * trait), "first order + 3 months is today", "warranty_end − 30 days is today". A 29 February
 * anniversary falls on 28 February in other years.
 */
export function compileDate(rule: Extract<SegmentRule, { type: 'date' }>, ctx: CompileContext): string {
  const p = ctx.params;
  if (rule.field.startsWith('$') && !['$first_order_at', '$last_order_at', '$created_at'].includes(rule.field)) {
    throw new RuleError(`date rules take a date trait or $first_order_at, $last_order_at, $created_at; not ${rule.field}`);
  }
  const offset = rule.offset ? p.add(intervalText(rule.offset), 'interval') : null;
  /** The rule's condition on a date, for a contact whose time zone is `zone`. */
  const condition = (date: string, zone: string): string => {
    const shifted = offset ? `(${date} + ${offset})::date` : date;
    const today = `(${ctx.now} at time zone ${zone})::date`;
    if (rule.match === 'on') return `${shifted} = ${today}`;
    const md = (d: string) => `to_char(${d}, 'MM-DD')`;
    const leap = `(extract(day from make_date(extract(year from ${today})::int, 3, 1) - 1) = 29)`;
    return `${shifted} < ${today} and (${md(shifted)} = ${md(today)} or (${md(shifted)} = '02-29' and ${md(today)} = '02-28' and not ${leap}))`;
  };
  const zone = `coalesce(c.timezone, 'UTC')`;
  if (rule.field === '$created_at') return `coalesce(${condition(`(c.created_at at time zone ${zone})::date`, zone)}, false)`;
  if (rule.field !== '$first_order_at' && rule.field !== '$last_order_at') return `coalesce(${condition(`tend_try_date(c.traits->>${p.add(rule.field)})`, zone)}, false)`;

  const agg = rule.field === '$first_order_at' ? 'min' : 'max';
  const orders = `o.workspace_id = ${ctx.ws} and o.status = 'completed'`;
  if (ctx.mode === 'contact') {
    return `coalesce(${condition(`((select ${agg}(o.ordered_at) from orders o where o.contact_id = c.id and ${orders}) at time zone ${zone})::date`, zone)}, false)`;
  }
  // Set mode: one grouped pass over the orders (with each buyer's time zone) instead of a
  // correlated lookup per contact, which cost seconds per rule on a million contacts.
  const zone2 = `coalesce(c2.timezone, 'UTC')`;
  return `c.id in (select o.contact_id from orders o join contacts c2 on c2.workspace_id = o.workspace_id and c2.id = o.contact_id
                   where ${orders} group by o.contact_id, c2.timezone
                   having coalesce(${condition(`(${agg}(o.ordered_at) at time zone ${zone2})::date`, zone2)}, false))`;
}
