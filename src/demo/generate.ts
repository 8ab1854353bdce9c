// The demo shop's history as one stream of Segment messages in time order. Customers are created
// in sign-up order and their timelines merged through a min-heap holding only customers who may
// still send something, each with just their current session written out; memory grows with
// the number of active customers, never with the number of messages.
import { demoCatalog } from './catalog.ts';
import { createCustomer, customerRng, nextMessageAt, takeMessage, type Customer } from './customer.ts';
import { DEFAULT_DEMO_END, type DemoMessage, type DemoOptions } from './types.ts';
import { buildWorld, monthsBefore, signupSchedule } from './world.ts';

/** Largest customer count accepted; far beyond what a demo needs, small enough to stay sane. */
export const MAX_DEMO_CUSTOMERS = 10_000_000;
/** Longest history accepted, in months. */
export const MAX_DEMO_MONTHS = 120;

/**
 * Every message of a deterministic demo shop, in non-decreasing timestamp order, all within
 * [end − months, end]. The same options always give the same messages, message ids included
 * (`demo-<seed>-<n>`). Streams: stop iterating at any point and nothing more is computed.
 */
export function* demoMessages(options: DemoOptions): Generator<DemoMessage> {
  const { customers, months, seed } = validate(options);
  const endMs = (options.end ?? new Date(DEFAULT_DEMO_END)).getTime();
  const startMs = monthsBefore(endMs, months);
  const world = buildWorld(demoCatalog(seed), seed, startMs, endMs);
  const schedule = signupSchedule(startMs, endMs, customers);
  const heap: Array<{ at: number; customer: Customer }> = [];
  let admitted = 0;
  let pending = admitNext();
  let counter = 0;

  function admitNext(): { index: number; rng: ReturnType<typeof customerRng>; at: number } | null {
    if (admitted >= customers) return null;
    const index = admitted++;
    const rng = customerRng(seed, index);
    return { index, rng, at: schedule(index, rng.next()) };
  }

  for (;;) {
    const top = heap[0];
    if (pending !== null && (top === undefined || pending.at <= top.at)) {
      const customer = createCustomer(world, pending.index, pending.rng, pending.at);
      const at = nextMessageAt(customer);
      if (at <= endMs) heapPush(heap, { at, customer });
      pending = admitNext();
      continue;
    }
    if (top === undefined) return;
    const taken = takeMessage(top.customer, world);
    const nextAt = nextMessageAt(top.customer);
    if (nextAt <= endMs) {
      top.at = nextAt;
      siftDown(heap, 0);
    } else {
      heapPop(heap);
    }
    if (taken === null) continue;
    const message = taken.message;
    message.messageId = `demo-${seed}-${++counter}`;
    message.timestamp = new Date(taken.at).toISOString();
    yield message;
  }
}

function validate(options: DemoOptions): { customers: number; months: number; seed: number } {
  const { customers, months, seed } = options;
  if (!Number.isInteger(customers) || customers < 0 || customers > MAX_DEMO_CUSTOMERS) {
    throw new RangeError(`customers must be a whole number from 0 to ${MAX_DEMO_CUSTOMERS}`);
  }
  if (!Number.isFinite(months) || months <= 0 || months > MAX_DEMO_MONTHS) {
    throw new RangeError(`months must be more than 0 and at most ${MAX_DEMO_MONTHS}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be a whole number');
  if (options.end !== undefined && Number.isNaN(options.end.getTime())) throw new RangeError('end must be a valid date');
  return { customers, months, seed };
}

// A binary min-heap ordered by time, then by customer number so ties resolve the same way on
// every run.
type Entry = { at: number; customer: Customer };

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.customer.index < b.customer.index);
}

function heapPush(heap: Entry[], entry: Entry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent];
    if (p === undefined || !before(entry, p)) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = entry;
}

function heapPop(heap: Entry[]): void {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  heap[0] = last;
  siftDown(heap, 0);
}

function siftDown(heap: Entry[], start: number): void {
  const entry = heap[start];
  if (entry === undefined) return;
  let i = start;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const l = heap[left];
    const r = heap[right];
    const child = r !== undefined && l !== undefined && before(r, l) ? right : left;
    const c = heap[child];
    if (c === undefined || !before(c, entry)) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = entry;
}
