import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkEmail } from '../../src/contacts/email-check.ts';
import { demoCatalog, demoMessages, summarizeDemo, type DemoMessage, type DemoOptions } from '../../src/demo/index.ts';

const END = Date.parse('2026-11-01T00:00:00Z');
const START = Date.parse('2025-11-01T00:00:00Z');
const OPTIONS: DemoOptions = { customers: 3000, months: 12, seed: 42 };
const DAY = 86_400_000;

function take(options: DemoOptions, n: number): DemoMessage[] {
  const out: DemoMessage[] = [];
  for (const m of demoMessages(options)) {
    out.push(m);
    if (out.length >= n) break;
  }
  return out;
}

type Order = { at: number; orderId: string; items: Array<{ sku: string; quantity: number }> };

// One pass over a whole shop, keeping only what the tests below look at.
type Observed = {
  messages: number;
  outOfOrder: number;
  outOfRange: number;
  ids: Set<string>;
  malformed: string[];
  orderProblems: string[];
  ordersByUser: Map<string, Order[]>;
  signupAt: Map<string, number>;
  anonymousSeenAt: Map<string, number>;
  merges: Array<{ userId: string; anonymousId: string; at: number }>;
  traits: Array<Record<string, unknown>>;
  orderIds: Map<string, number>;
  refunds: Array<{ orderId: string; at: number }>;
  addedCarts: Set<string>;
  couponOrders: number;
};

function observe(options: DemoOptions): Observed {
  const catalog = new Map(demoCatalog(options.seed).map((p) => [p.sku, p]));
  const o: Observed = {
    messages: 0, outOfOrder: 0, outOfRange: 0, ids: new Set(), malformed: [], orderProblems: [], ordersByUser: new Map(),
    signupAt: new Map(), anonymousSeenAt: new Map(), merges: [], traits: [], orderIds: new Map(), refunds: [], addedCarts: new Set(), couponOrders: 0,
  };
  let last = -Infinity;
  for (const m of demoMessages(options)) {
    o.messages++;
    const at = Date.parse(m.timestamp);
    if (at < last) o.outOfOrder++;
    last = at;
    if (!(at >= START && at <= END)) o.outOfRange++;
    o.ids.add(m.messageId);
    if (m.timestamp !== new Date(at).toISOString() || (m.userId === undefined && m.anonymousId === undefined)) o.malformed.push(JSON.stringify(m));
    if (m.userId === undefined && m.anonymousId !== undefined && !o.anonymousSeenAt.has(m.anonymousId)) o.anonymousSeenAt.set(m.anonymousId, at);
    if (m.type === 'identify') {
      if (m.userId !== undefined && m.anonymousId !== undefined) o.merges.push({ userId: m.userId, anonymousId: m.anonymousId, at });
      if ('email' in m.traits && m.userId !== undefined) {
        o.traits.push(m.traits);
        o.signupAt.set(m.userId, at);
      }
      continue;
    }
    if (m.type === 'page') continue;
    const p = m.properties;
    if (m.event === 'Product Added') o.addedCarts.add(String(p.cart_id));
    if (m.event === 'Order Refunded') o.refunds.push({ orderId: String(p.order_id), at });
    if (m.event !== 'Order Completed') continue;
    const products = p.products as Array<Record<string, unknown>>;
    let sumCents = 0;
    for (const item of products) {
      const product = catalog.get(String(item.sku));
      if (product === undefined) o.orderProblems.push(`unknown sku ${String(item.sku)}`);
      else if (product.price !== item.price || product.name !== item.name || product.category !== item.category || item.product_id !== product.sku) o.orderProblems.push(`mismatch ${JSON.stringify(item)}`);
      if (!Number.isInteger(item.quantity) || (item.quantity as number) < 1) o.orderProblems.push(`quantity ${String(item.quantity)}`);
      sumCents += Math.round((item.price as number) * 100) * (item.quantity as number);
    }
    const discount = Number(p.discount ?? 0);
    if (Math.abs((p.total as number) - (sumCents / 100 - discount)) > 0.005) o.orderProblems.push(`total ${String(p.total)} != ${sumCents / 100} - ${discount}`);
    if (p.revenue !== p.total || p.currency !== 'USD' || typeof p.order_id !== 'string') o.orderProblems.push(`fields ${JSON.stringify(p)}`);
    if (!o.addedCarts.has(String(p.cart_id))) o.orderProblems.push(`order without cart ${String(p.cart_id)}`);
    if (discount > 0) {
      o.couponOrders++;
      if (typeof p.coupon !== 'string') o.orderProblems.push('discount without coupon');
    }
    o.orderIds.set(p.order_id as string, at);
    const userId = m.userId ?? '';
    const orders = o.ordersByUser.get(userId) ?? [];
    orders.push({ at, orderId: p.order_id as string, items: products.map((i) => ({ sku: String(i.sku), quantity: i.quantity as number })) });
    o.ordersByUser.set(userId, orders);
  }
  return o;
}

describe('demoMessages', () => {
  let shop: Observed;
  before(() => {
    shop = observe(OPTIONS);
  });

  it('is deterministic for a seed, and a different seed gives a different shop', () => {
    const a = take(OPTIONS, 3000);
    assert.deepEqual(take(OPTIONS, 3000), a);
    const other = take({ ...OPTIONS, seed: 43 }, 3000);
    assert.notDeepEqual(other.map((m) => m.timestamp), a.map((m) => m.timestamp));
    assert.equal(a[0]?.messageId, 'demo-42-1');
    assert.equal(other[0]?.messageId, 'demo-43-1');
  });

  it('reproduces a whole small shop byte for byte', () => {
    const digest = (seed: number) => {
      const hash = createHash('sha256');
      for (const m of demoMessages({ customers: 200, months: 6, seed })) hash.update(JSON.stringify(m));
      return hash.digest('hex');
    };
    assert.equal(digest(5), digest(5));
    assert.notEqual(digest(5), digest(6));
  });

  it('sends messages in time order, inside [end − months, end], with unique ids', () => {
    assert.ok(shop.messages > 100_000, `${shop.messages} messages`);
    assert.equal(shop.outOfOrder, 0);
    assert.equal(shop.outOfRange, 0);
    assert.equal(shop.ids.size, shop.messages);
    assert.deepEqual(shop.malformed.slice(0, 3), []);
  });

  it('respects a custom end and a short window', () => {
    const end = new Date('2024-03-15T12:00:00Z');
    const from = Date.parse('2024-01-15T12:00:00Z');
    let count = 0;
    for (const m of demoMessages({ customers: 100, months: 2, seed: 1, end })) {
      const at = Date.parse(m.timestamp);
      assert.ok(at >= from && at <= end.getTime(), m.timestamp);
      count++;
    }
    assert.ok(count > 1000);
  });

  it('handles no customers, and refuses nonsense options', () => {
    assert.deepEqual([...demoMessages({ customers: 0, months: 12, seed: 1 })], []);
    for (const bad of [{ customers: -1 }, { customers: 1.5 }, { months: 0 }, { months: Number.NaN }, { seed: 0.5 }, { end: new Date('nope') }]) {
      assert.throws(() => demoMessages({ ...OPTIONS, ...bad }).next(), RangeError, JSON.stringify(bad));
    }
  });

  it('identifies customers u_1… with believable traits', () => {
    assert.ok(shop.traits.length > 2900 && shop.traits.length <= 3000);
    assert.ok(shop.signupAt.has('u_1') && shop.signupAt.has('u_2'));
    for (const userId of shop.signupAt.keys()) assert.match(userId, /^u_([1-9]\d{0,2}|[12]\d{3}|3000)$/);
    const zones = new Set<unknown>();
    const locales = new Set<unknown>();
    let phones = 0;
    let birthdays = 0;
    let emailConsent = 0;
    for (const t of shop.traits) {
      assert.equal(typeof t.first_name, 'string');
      assert.equal(typeof t.last_name, 'string');
      const consent = t.consent as Record<string, unknown>;
      assert.deepEqual(Object.keys(consent).sort(), ['email', 'push', 'sms']);
      for (const v of Object.values(consent)) assert.equal(typeof v, 'boolean');
      if (consent.email === true) emailConsent++;
      if (t.phone !== undefined) {
        phones++;
        assert.match(String(t.phone), /^\+\d{8,15}$/);
      } else {
        assert.equal(consent.sms, false, 'no SMS consent without a phone');
      }
      if (t.birthday !== undefined) {
        birthdays++;
        assert.match(String(t.birthday), /^(19[4-9]\d|200\d)-\d{2}-\d{2}$/);
      }
      zones.add(t.timezone);
      locales.add(t.locale);
      assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: String(t.timezone) }));
    }
    const n = shop.traits.length;
    assert.ok(phones / n > 0.2 && phones / n < 0.6, `phones ${phones / n}`);
    assert.ok(birthdays / n > 0.75 && birthdays / n < 0.95, `birthdays ${birthdays / n}`);
    assert.ok(emailConsent / n > 0.6 && emailConsent / n < 0.9);
    assert.ok(zones.size >= 12, `${zones.size} time zones`);
    assert.ok(locales.size >= 8, `${locales.size} locales`);
  });

  it('includes mistyped, disposable and role email addresses, mostly good ones', () => {
    const reasons: Record<string, number> = {};
    for (const t of shop.traits) {
      const reason = checkEmail(String(t.email)).reason;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    const n = shop.traits.length;
    assert.equal(reasons.syntax, undefined, 'every generated address is syntactically usable');
    assert.ok((reasons.typo ?? 0) / n > 0.01 && (reasons.typo ?? 0) / n < 0.04, JSON.stringify(reasons));
    assert.ok((reasons.disposable ?? 0) / n > 0.005 && (reasons.disposable ?? 0) / n < 0.03, JSON.stringify(reasons));
    assert.ok((reasons.role ?? 0) / n > 0.003 && (reasons.role ?? 0) / n < 0.03, JSON.stringify(reasons));
    assert.ok((reasons.ok ?? 0) / n > 0.9, JSON.stringify(reasons));
  });

  it('has anonymous visitors who later sign up, merging their two ids', () => {
    const merged = shop.merges.filter((m) => (shop.anonymousSeenAt.get(m.anonymousId) ?? Infinity) < m.at);
    assert.ok(merged.length / shop.traits.length > 0.2, `${merged.length} merges`);
    assert.ok(merged.length / shop.traits.length < 0.5);
  });

  it('completes orders whose lines come from the catalog and add up', () => {
    assert.deepEqual(shop.orderProblems.slice(0, 5), []);
    assert.ok(shop.orderIds.size > 5000, `${shop.orderIds.size} orders`);
    assert.ok(shop.couponOrders / shop.orderIds.size > 0.05 && shop.couponOrders / shop.orderIds.size < 0.3);
  });

  it('refunds only orders that were placed before', () => {
    assert.ok(shop.refunds.length > 0);
    assert.ok(shop.refunds.length / shop.orderIds.size < 0.08);
    for (const r of shop.refunds) assert.ok((shop.orderIds.get(r.orderId) ?? Infinity) < r.at, r.orderId);
  });

  it('abandons roughly two carts in three', () => {
    const s = summarizeDemo(demoMessages({ customers: 1500, months: 12, seed: 42 }));
    const fraction = s.abandonedCarts / s.carts;
    assert.ok(fraction >= 0.55 && fraction <= 0.75, `abandoned ${fraction}`);
    assert.equal(s.carts, s.orders + s.abandonedCarts);
  });

  it('has customers who never buy, one-time buyers and repeat buyers', () => {
    const users = [...shop.signupAt.keys()];
    const never = users.filter((u) => !shop.ordersByUser.has(u)).length / users.length;
    const once = users.filter((u) => shop.ordersByUser.get(u)?.length === 1).length / users.length;
    const repeat = users.filter((u) => (shop.ordersByUser.get(u)?.length ?? 0) >= 3).length / users.length;
    assert.ok(never > 0.2 && never < 0.6, `never ${never}`);
    assert.ok(once > 0.1, `once ${once}`);
    assert.ok(repeat > 0.1, `repeat ${repeat}`);
  });

  it('lets customers stop buying for good (buy till you die)', () => {
    // Early buyers: half of them have not ordered in the last four months of the history.
    let early = 0;
    let lapsed = 0;
    for (const orders of shop.ordersByUser.values()) {
      const first = orders[0]?.at ?? Infinity;
      const last = orders[orders.length - 1]?.at ?? 0;
      if (first > END - 270 * DAY) continue;
      early++;
      if (last < END - 120 * DAY) lapsed++;
    }
    assert.ok(early > 200, `${early} early buyers`);
    assert.ok(lapsed / early > 0.3 && lapsed / early < 0.9, `lapsed ${lapsed}/${early}`);
  });

  it('reorders consumables around the time they run out', () => {
    const lifetimes = new Map(demoCatalog(OPTIONS.seed).map((p) => [p.sku, p.lifetimeDays]));
    const ratios: number[] = [];
    for (const orders of shop.ordersByUser.values()) {
      const lastBought = new Map<string, { at: number; quantity: number }>();
      for (const order of orders) {
        for (const item of order.items) {
          const lifetime = lifetimes.get(item.sku);
          if (lifetime === null || lifetime === undefined) continue;
          const before = lastBought.get(item.sku);
          if (before !== undefined) ratios.push((order.at - before.at) / (lifetime * before.quantity * DAY));
          lastBought.set(item.sku, { at: order.at, quantity: item.quantity });
        }
      }
    }
    ratios.sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)] ?? 0;
    const near = ratios.filter((r) => r > 0.75 && r < 1.35).length / ratios.length;
    assert.ok(ratios.length > 1000, `${ratios.length} reorders`);
    assert.ok(median > 0.85 && median < 1.2, `median gap / lifetime ${median}`);
    assert.ok(near > 0.6, `share near the lifetime ${near}`);
  });

  it('uses the Segment e-commerce v2 event names', () => {
    const s = summarizeDemo(demoMessages({ customers: 800, months: 12, seed: 3 }));
    for (const event of ['Product Viewed', 'Product Added', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied', 'Order Refunded', 'Products Searched']) {
      assert.ok((s.events[event] ?? 0) > 0, event);
    }
    assert.ok(s.pages > 0 && s.identifies >= s.customers);
  });
});
