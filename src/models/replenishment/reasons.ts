// Plain-language reasons for replenishment numbers, as a marketer would say them.
import { assertNever } from '../../core/result.ts';
import type { IntervalSource } from './intervals.ts';

/** "3 May 2026", in UTC unless a time zone is given. */
export function formatDay(at: Date, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone }).format(at);
}

const days = (n: number) => `${Math.round(n)} day${Math.round(n) === 1 ? '' : 's'}`;

/** Why a product has the interval it has. */
export function intervalReason(p: { intervalDays: number; observations: number; source: IntervalSource; category?: string | null }): string {
  switch (p.source) {
    case 'learned':
      return `customers reorder it about every ${days(p.intervalDays)} per unit (median of ${p.observations} repeat purchases)`;
    case 'lifetime':
      return `one lasts ${days(p.intervalDays)} (the product's lifetime; ${p.observations} repeat purchase${p.observations === 1 ? '' : 's'} so far, too few or too irregular to learn from)`;
    case 'category':
      return `products in ${p.category ?? 'its category'} last about ${days(p.intervalDays)}, and its ${p.observations} repeat purchases agree`;
    default:
      return assertNever(p.source);
  }
}

/** "bought 2 × Water filter on 3 May 2026; one lasts about 30 days; due 2 July 2026". */
export function dueReason(d: { name: string; quantity: number; lastOrderedAt: Date; intervalDays: number; source: IntervalSource; dueAt: Date; category?: string | null }, timeZone?: string): string {
  const lasts = d.source === 'category' ? `products in ${d.category ?? 'its category'} last about ${days(d.intervalDays)}` : `one lasts about ${days(d.intervalDays)}`;
  const total = d.quantity > 1 ? `, so ${d.quantity} last about ${days(d.intervalDays * d.quantity)}` : '';
  return `bought ${d.quantity} × ${d.name} on ${formatDay(d.lastOrderedAt, timeZone)}; ${lasts}${total}; due ${formatDay(d.dueAt, timeZone)}`;
}
