// What a customer does inside a session: sign up, browse, fill a cart and check out or walk away,
// and what follows an order (reorder dates, refunds, dropping out).
import type { Customer, Kind, Reorder } from './customer.ts';
import type { Person } from './people.ts';
import { SessionWriter, type LineItem } from './session.ts';
import { sampleProduct, type World } from './world.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The sign-up visit: the identify with all traits, and for some an order straight away. */
export function signUp(c: Customer, world: World, start: number): void {
  const rng = c.rng;
  const person = c.person;
  const w = new SessionWriter(c, world, start, null);
  w.page('Sign Up', '/account/signup', 'Create your account');
  w.pause(60);
  c.identified = true;
  if (person !== null) w.identify(signUpTraits(person, start), true);
  c.person = null;
  w.pause(2);
  w.track('Signed Up', { method: 'email' });
  w.pause();
  if (!c.buyer) {
    if (rng.chance(0.5)) shop(c, world, w, 'browse');
    return;
  }
  // About a third buy straight away; the rest come back within days.
  if (rng.chance(0.35)) {
    c.firstBuyAt = start;
    shop(c, world, w, 'purchase');
  } else {
    c.firstBuyAt = start + HOUR + rng.exponential(1 / (5 * DAY));
  }
}

function signUpTraits(p: Person, at: number): Record<string, unknown> {
  return {
    email: p.email,
    first_name: p.firstName,
    last_name: p.lastName,
    ...(p.phone === null ? {} : { phone: p.phone }),
    ...(p.birthday === null ? {} : { birthday: p.birthday }),
    timezone: p.timezone,
    locale: p.locale,
    address: { country: p.country },
    consent: { ...p.consent },
    created_at: new Date(at).toISOString(),
  };
}

/** A shopping visit of the given kind, written with `w`. */
export function shop(c: Customer, world: World, w: SessionWriter, kind: Kind, reorder?: Reorder): void {
  const rng = c.rng;
  if (c.identified && kind !== 'reorder' && rng.chance(0.02)) {
    // Now and then someone changes their mind about email from their account page.
    c.consent.email = rng.chance(c.consent.email ? 0.25 : 0.6);
    w.page('Account', '/account/preferences', 'Your preferences');
    w.identify({ consent: { ...c.consent } }, false);
    w.pause();
  }
  if (rng.chance(0.55)) {
    w.page('Home', '/', 'Demo Shop');
    w.pause();
  }
  if (rng.chance(0.12)) w.search();
  const primary = reorder?.product ?? chooseProduct(c, world, kind);
  const extras = Math.min(4, rng.poisson(kind === 'reorder' ? 0.3 : 1.2));
  const primaryFirst = rng.chance(0.5);
  if (primaryFirst) w.viewProduct(primary);
  for (let i = 0; i < extras; i++) {
    const related = world.catalog[primary]?.relatedSkus ?? [];
    const other = related.length > 0 && rng.chance(0.5) ? world.indexBySku.get(rng.pick(related)) : undefined;
    w.viewProduct(other ?? chooseProduct(c, world, 'browse'));
  }
  if (!primaryFirst) w.viewProduct(primary);
  if (kind === 'browse') return;

  const items: LineItem[] = [{ product: primary, quantity: reorder?.quantity ?? quantityFor(c, world, primary) }];
  const related = world.catalog[primary]?.relatedSkus ?? [];
  if (related.length > 0 && rng.chance(0.25)) {
    const extra = world.indexBySku.get(rng.pick(related));
    if (extra !== undefined && extra !== primary) items.push({ product: extra, quantity: 1 });
  }
  const stopAfter = kind === 'abandon' ? (['added', 'viewed', 'checkout'] as const)[rng.weightedIndex([45, 30, 25])] ?? 'added' : null;
  const order = w.checkout(items, stopAfter, `${c.index + 1}_${c.sessions}`, c.orders === 0);
  if (order !== null) afterOrder(c, world, items, order, w.now);
}

function afterOrder(c: Customer, world: World, items: LineItem[], order: Record<string, unknown>, now: number): void {
  const rng = c.rng;
  c.orders++;
  for (const item of items) {
    const lifetime = world.catalog[item.product]?.lifetimeDays ?? null;
    if (lifetime === null) {
      c.lastDurable = item.product;
    } else if (c.loyal) {
      // They come back when it runs out: a bit early or late, rarely on the day.
      const due = now + lifetime * item.quantity * DAY * rng.logNormal(0, 0.12);
      c.reorders = [...c.reorders.filter((r) => r.product !== item.product), { product: item.product, quantity: item.quantity, due }].slice(-4);
    }
  }
  if (rng.chance(0.035)) {
    const at = now + 2 * DAY + rng.exponential(1 / (6 * DAY));
    if (at <= world.endMs) {
      const { order_id, total, currency, products } = order;
      // Refunds of two orders can come back in either order; keep the list sorted by time.
      let i = c.laterAt.length;
      while (i > 0 && (c.laterAt[i - 1] ?? 0) > at) i--;
      const refund = { type: 'track' as const, messageId: '', userId: c.userId, timestamp: '', event: 'Order Refunded', properties: { order_id, total, currency, products: structuredClone(products) } };
      // New arrays rather than splice, for the same garbage-collection reason as the session queue.
      c.later = [...c.later.slice(0, i), refund, ...c.later.slice(i)];
      c.laterAt = [...c.laterAt.slice(0, i), at, ...c.laterAt.slice(i)];
    }
  }
  if (rng.chance(c.loyal ? c.dropout * 0.35 : c.dropout)) {
    c.alive = false;
    c.reorders = [];
  }
}

function chooseProduct(c: Customer, world: World, kind: Kind): number {
  const rng = c.rng;
  if (c.lastDurable >= 0 && kind !== 'browse' && rng.chance(0.12)) {
    const upgrades = world.catalog[c.lastDurable]?.upgradeSkus ?? [];
    const upgrade = upgrades.length > 0 ? world.indexBySku.get(rng.pick(upgrades)) : undefined;
    if (upgrade !== undefined) return upgrade;
  }
  const category = rng.chance(0.75) ? c.favourite[rng.chance(0.6) ? 0 : 1] : rng.weightedIndex(world.categoryWeights);
  const preferConsumable = c.loyal && kind === 'purchase' && rng.chance(0.6);
  let product = sampleProduct(rng, (preferConsumable ? world.consumables : world.all)[category]);
  if (product < 0 || c.reorders.some((r) => r.product === product)) {
    // What they already reorder on schedule is not bought again in between.
    product = sampleProduct(rng, world.all[category]);
  }
  return product >= 0 ? product : rng.int(0, world.catalog.length - 1);
}

function quantityFor(c: Customer, world: World, product: number): number {
  if (world.catalog[product]?.lifetimeDays === null) return 1;
  return 1 + (c.rng.chance(0.3) ? 1 + (c.rng.chance(0.25) ? 1 : 0) : 0);
}

/** The marketing campaign that brought the customer in, if any (Segment context.campaign). */
export function campaignFor(c: Customer, kind: Kind): Record<string, string> | null {
  const rng = c.rng;
  if (c.consent.email && rng.chance(kind === 'reorder' ? 0.45 : 0.12)) {
    return { source: 'newsletter', medium: 'email', name: kind === 'reorder' ? 'replenishment-reminder' : 'weekly-newsletter' };
  }
  if (rng.chance(0.1)) return { source: 'google', medium: 'cpc', name: 'brand-search' };
  return null;
}
