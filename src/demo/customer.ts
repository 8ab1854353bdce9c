// One demo customer's life: anonymous visits, sign-up, then a "buy till you die" process (BG/NBD):
// purchases arrive at a personal Poisson rate drawn from a gamma distribution, and after each
// purchase the customer may drop out for good with a personal probability drawn from a beta
// distribution. Customers who favour consumables also come back when what they bought runs out.
//
// A session is written out only when it starts; between sessions a customer is a few numbers and
// strings, which is what keeps a million-customer run in bounded memory.
import { campaignFor, shop, signUp } from './behaviour.ts';
import { drawPerson, type Person } from './people.ts';
import { mixSeed, Rng } from './random.ts';
import { SessionWriter } from './session.ts';
import type { DemoMessage } from './types.ts';
import type { World } from './world.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A consumable the customer will buy again when it runs out. */
export type Reorder = { product: number; quantity: number; due: number };
/** The kinds of shopping visit. */
export type Kind = 'browse' | 'abandon' | 'purchase' | 'reorder';
type SessionKind = Kind | 'anonymous' | 'signup';

export type Customer = {
  index: number;
  userId: string;
  rng: Rng;
  anonymousId: string | null;
  identified: boolean;
  /** Held only until the sign-up identify has been written. */
  person: Person | null;
  timezone: string;
  utcOffset: number;
  locale: string;
  userAgent: string;
  ip: string;
  consent: { email: boolean; sms: boolean; push: boolean };
  buyer: boolean;
  /** Purchases per day while active (BG/NBD λ). */
  lambda: number;
  /** Chance of dropping out after each purchase (BG/NBD p). */
  dropout: number;
  /** Buys consumables and reorders them when they run out. */
  loyal: boolean;
  favourite: [number, number];
  /** Sessions per day for customers who never buy. */
  browseRate: number;
  alive: boolean;
  anonymousSessionsLeft: number;
  firstBuyAt: number;
  orders: number;
  sessions: number;
  reorders: Reorder[];
  lastDurable: number;
  /** When the next session starts (ms; Infinity when there is none), and what it will be. */
  sessionAt: number;
  sessionKind: SessionKind;
  sessionReorder: Reorder | null;
  /** The current session's messages and their times (ms), sent from `cursor` on. */
  queue: DemoMessage[];
  queueAt: number[];
  cursor: number;
  /** Single messages due later (refunds), sorted by time. */
  later: DemoMessage[];
  laterAt: number[];
};

/** The rng of customer `index`; its first draw places the sign-up within the customer's slice. */
export function customerRng(seed: number, index: number): Rng {
  return new Rng(mixSeed(seed, index, 0xc057));
}

/** Creates customer `index` (0-based) arriving at `arrival` and plans their first session. */
export function createCustomer(world: World, index: number, rng: Rng, arrival: number): Customer {
  const person = drawPerson(rng, arrival);
  const anonymousFirst = rng.chance(0.35);
  const buyer = rng.chance(0.68);
  const loyal = buyer && rng.chance(0.4);
  const categoryPick = () => rng.weightedIndex(world.categoryWeights);
  const c: Customer = {
    index,
    userId: `u_${index + 1}`,
    rng,
    anonymousId: anonymousFirst ? rng.uuid() : null,
    identified: false,
    person,
    timezone: person.timezone,
    utcOffset: person.utcOffset,
    locale: person.locale,
    userAgent: person.userAgent,
    ip: person.ip,
    consent: { ...person.consent },
    buyer,
    lambda: rng.gamma(1.2, 1 / (1.2 * 35)),
    dropout: rng.beta(1.4, 4.2),
    loyal,
    favourite: [loyal && world.consumableCategories.length > 0 ? rng.pick(world.consumableCategories) : categoryPick(), categoryPick()],
    browseRate: rng.gamma(1.5, 0.06),
    alive: true,
    anonymousSessionsLeft: anonymousFirst ? 1 + rng.poisson(0.8) : 0,
    firstBuyAt: Infinity,
    orders: 0,
    sessions: 0,
    reorders: [],
    lastDurable: -1,
    sessionAt: Infinity,
    sessionKind: 'signup',
    sessionReorder: null,
    queue: [],
    queueAt: [],
    cursor: 0,
    later: [],
    laterAt: [],
  };
  planNextSession(c, arrival);
  return c;
}

/** Time (ms) of the customer's next message, or Infinity when they have nothing more to send. */
export function nextMessageAt(c: Customer): number {
  const inSession = c.cursor < c.queueAt.length ? (c.queueAt[c.cursor] ?? Infinity) : c.sessionAt;
  return Math.min(inSession, c.laterAt[0] ?? Infinity);
}

/**
 * Removes and returns the customer's next message with its time. A planned session is written
 * out only when its time comes, and the one after it is planned when it is used up.
 */
export function takeMessage(c: Customer, world: World): { message: DemoMessage; at: number } | null {
  const later = c.laterAt[0] ?? Infinity;
  if (c.cursor >= c.queue.length && c.sessionAt < later) writeSession(c, world);
  const inSession = c.queueAt[c.cursor] ?? Infinity;
  if (inSession === Infinity && later === Infinity) return null;
  if (later < inSession) {
    const message = c.later[0];
    c.later = c.later.slice(1);
    c.laterAt = c.laterAt.slice(1);
    return message === undefined ? null : { message, at: later };
  }
  const message = c.queue[c.cursor];
  c.cursor++;
  if (message === undefined) return null;
  if (c.cursor >= c.queue.length) {
    // Drop the finished session before planning the next, so a waiting customer holds no messages.
    c.queue = [];
    c.queueAt = [];
    c.cursor = 0;
    planNextSession(c, inSession);
  }
  return { message, at: inSession };
}

/**
 * Decides when the customer's next session starts and what kind it is, after `now`; sets
 * sessionAt to Infinity when their story is over. Nothing is written yet.
 */
export function planNextSession(c: Customer, now: number): void {
  const rng = c.rng;
  c.sessionAt = Infinity;
  c.sessionReorder = null;
  if (!c.identified) {
    c.sessionAt = awake(c, c.sessions === 0 ? now : now + 30 * 60_000 + rng.exponential(1 / (2 * DAY)));
    c.sessionKind = c.anonymousSessionsLeft > 0 ? 'anonymous' : 'signup';
    return;
  }
  if (!c.alive) return;

  // Competing exponential clocks; being memoryless, they can be redrawn at every session.
  const purchasing = c.buyer && c.orders > 0;
  const rates = {
    purchase: purchasing ? c.lambda : 0,
    abandon: purchasing ? 3 * c.lambda + 0.01 : c.buyer ? 0.08 : 0.45 * c.browseRate,
    browse: purchasing ? c.lambda + 0.01 : c.buyer ? 0.1 : 0.6 * c.browseRate,
  };
  const minimum = now + 20 * 60_000;
  let at = Math.max(minimum, now + rng.exponential((rates.purchase + rates.abandon + rates.browse) / DAY));
  let kind: SessionKind = (['purchase', 'abandon', 'browse'] as const)[rng.weightedIndex([rates.purchase, rates.abandon, rates.browse])] ?? 'browse';
  if (c.buyer && c.orders === 0 && c.firstBuyAt <= at) {
    at = Math.max(minimum, c.firstBuyAt);
    kind = 'purchase';
  }
  let reorder: Reorder | null = null;
  for (const r of c.reorders) if (r.due <= at && (reorder === null || r.due < reorder.due)) reorder = r;
  if (reorder !== null) {
    at = Math.max(minimum, reorder.due);
    kind = 'reorder';
    c.reorders = c.reorders.filter((r) => r !== reorder);
  }
  c.sessionAt = awake(c, at);
  c.sessionKind = kind;
  c.sessionReorder = reorder;
}

/** Writes out the planned session into the queue, if it starts within the shop's history. */
function writeSession(c: Customer, world: World): void {
  const at = c.sessionAt;
  const kind = c.sessionKind;
  c.sessionAt = Infinity;
  if (at > world.endMs) return;
  // Fresh arrays, never ones kept from before: an array that waited through a few garbage
  // collections lives in the old generation, and once it is dropped, whatever it held survives
  // young-generation collections until the next full one. Reusing queues made whole sessions of
  // messages pile up that way and tripled the time spent collecting garbage.
  c.queue = [];
  c.queueAt = [];
  c.cursor = 0;
  const rng = c.rng;
  if (kind === 'anonymous') {
    c.anonymousSessionsLeft--;
    shop(c, world, new SessionWriter(c, world, at, null), rng.chance(0.25) ? 'abandon' : 'browse');
  } else if (kind === 'signup') {
    signUp(c, world, at);
  } else {
    shop(c, world, new SessionWriter(c, world, at, campaignFor(c, kind)), kind, c.sessionReorder ?? undefined);
    if (!c.buyer && rng.chance(0.3)) c.alive = false;
  }
  c.sessions++;
  c.sessionReorder = null;
}

// People shop while awake: a session drawn for the small hours moves to the morning.
function awake(c: Customer, at: number): number {
  const localHour = ((((at / HOUR + c.utcOffset) % 24) + 24) % 24);
  return localHour < 7 ? at + (7 - localHour + c.rng.uniform(0, 5)) * HOUR : at;
}
