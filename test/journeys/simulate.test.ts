import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, type SimContact, type SimEntry, type SimEvent, type SimulationInput } from '../../src/journeys/simulate.ts';
import { JourneyDefinition } from '../../src/journeys/schema.ts';
import { inHoldout, pickWeighted } from '../../src/journeys/decide.ts';
import { MessagingPolicy } from '../../src/policy/index.ts';

// Monday 2 March 2026, 10:00 UTC (11:00 in Warsaw).
const T0 = Date.parse('2026-03-02T10:00:00Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);

function contact(id: number, extra: Partial<SimContact> = {}): SimContact {
  return {
    id, userId: `u${id}`, email: `u${id}@example.com`, emailValid: true, phone: '+48500100200', timezone: 'Europe/Warsaw', locale: null, traits: {}, scores: null,
    firstOrderAt: null, lastOrderAt: null, consents: [{ channel: 'email', topic: '*', granted: true }, { channel: 'sms', topic: '*', granted: true }],
    pushEndpoint: null, pushKeys: null, ...extra,
  };
}

const cart = JourneyDefinition.parse({
  name: 'Abandoned cart',
  trigger: { type: 'event', event: 'Product Added' },
  settings: { reentry: 'always', goal: { event: 'Order Completed', within: '7d' } },
  steps: [
    { id: 'wait-for-order', type: 'wait_for_event', event: 'Order Completed', matchTrigger: ['cart_id'], timeout: '1h', next: 'bought', timeoutNext: 'reminder' },
    { id: 'reminder', type: 'send', channel: 'email', content: { email: { subject: 'Your cart', html: '<p>Come back</p>' } }, next: 'done' },
    { id: 'bought', type: 'exit' },
    { id: 'done', type: 'exit' },
  ],
});
const noLimits = MessagingPolicy.parse({ caps: [], quietHours: null });

function input(over: Partial<SimulationInput>): SimulationInput {
  return {
    journeyId: 1, definition: cart, from: at(0), to: at(7 * 24 * 60), policy: noLimits, entries: [], contacts: new Map(), events: new Map(),
    suppressions: new Map(), branchMembers: new Map(), ...over,
  };
}
const added = (contactId: number, minute: number, cartId: string): SimEntry => ({ contactId, at: at(minute), trigger: { name: 'Product Added', properties: { cart_id: cartId } } });
const ordered = (minute: number, cartId: string): SimEvent => ({ name: 'Order Completed', properties: { cart_id: cartId }, at: at(minute) });
const step = (r: ReturnType<typeof simulate>, id: string) => r.perStep.find((s) => s.stepId === id)!;

test('buyers convert, the others get the reminder, the unreachable are counted with the reason', () => {
  const r = simulate(input({
    entries: [added(1, 0, 'c1'), added(2, 0, 'c2'), added(3, 5, 'c3'), added(4, 10, 'c4'), added(1, 2, 'c1')],
    contacts: new Map([[1, contact(1)], [2, contact(2)], [3, contact(3)], [4, contact(4, { consents: [] })]]),
    // 1 buys its cart after 20 minutes; 3 buys another cart after two hours (the goal still ends its run).
    events: new Map([[1, [ordered(20, 'c1')]], [3, [ordered(125, 'other')]]]),
    sampleLimit: 2,
  }));
  assert.equal(r.entered, 4, "the second Product Added of contact 1 comes while its run is live");
  assert.deepEqual(r.notEntered, { reentry: 1, unknownContact: 0 });
  assert.equal(step(r, 'wait-for-order').reached, 4);
  assert.equal(step(r, 'reminder').reached, 3, 'everyone but the buyer within the hour');
  assert.equal(step(r, 'bought').reached, 0, 'the goal ends the run before the wait resumes it');
  assert.deepEqual(step(r, 'reminder').outcomes, { sent: 2, suppressed: 1 });
  assert.deepEqual(r.exits, { completed: 0, exited: 3, converted: 1, erased: 0, stillInside: 0 });
  assert.deepEqual(r.messages.perChannel, { email: 2, sms: 0, push: 0, print: 0 });
  assert.deepEqual(r.decisions.suppressed, { total: 1, reasons: [{ reason: 'unreachable: no address with consent on email', count: 1 }] });
  assert.equal(r.messages.perWeek.length, 1);
  assert.equal(r.messages.perWeek[0]!.email, 2);
  assert.deepEqual(r.sample.map((s) => s.contactId), [1, 2]);
  assert.deepEqual(r.sample[0]!.runs[0], {
    run: 1, enteredAt: at(0).toISOString(), outcome: 'converted', endedAt: at(20).toISOString(),
    path: [{ stepId: 'wait-for-order', at: at(0).toISOString(), note: 'Order Completed came' }],
  });
  assert.deepEqual(r.sample[1]!.runs[0]!.path.map((p) => [p.stepId, p.at, p.note]), [
    ['wait-for-order', at(0).toISOString(), 'waiting; times out'],
    ['reminder', at(60).toISOString(), 'email'],
    ['done', at(60).toISOString(), undefined],
  ]);
});

test('frequency caps and quiet hours among the simulated messages', () => {
  const policy = MessagingPolicy.parse({ caps: [{ channel: 'email', max: 1, window: '16h' }], quietHours: { start: '21:00', end: '08:00', channels: ['sms'] } });
  // Abandoned carts a few hours apart: one email per 16 hours, the rest deferred; a cart added
  // while the previous reminder waits for the cap does not start a second run.
  const r = simulate(input({
    policy, entries: [added(1, 0, 'a'), added(1, 120, 'b'), added(1, 240, 'c'), added(1, 1100, 'd')], contacts: new Map([[1, contact(1)]]), sampleLimit: 1,
  }));
  assert.equal(r.entered, 3);
  assert.equal(r.notEntered.reentry, 1);
  assert.equal(r.messages.total, 3);
  const sends = r.sample[0]!.runs.map((run) => run.path.filter((p) => p.stepId === 'reminder' && p.note === 'email')[0]!.at);
  assert.deepEqual(sends, [at(60), at(60 + 16 * 60), at(1020 + 16 * 60)].map((d) => d.toISOString()), 'each waits for the 16-hour window');
  assert.equal(r.decisions.deferred.total, 2);
  assert.deepEqual(r.decisions.deferred.reasons, [{ reason: 'deferred: frequency cap: 1 email per 16h', count: 2 }]);

  // An SMS decided at 22:30 in Warsaw waits for 08:00 there.
  const sms = JourneyDefinition.parse({
    name: 'Delivery', trigger: { type: 'event', event: 'Shipped' },
    steps: [{ id: 'sms', type: 'send', channel: 'sms', content: { sms: { body: 'On its way' } } }],
  });
  const late = simulate(input({
    definition: sms, policy, contacts: new Map([[1, contact(1)]]), sampleLimit: 1,
    entries: [{ contactId: 1, at: new Date('2026-03-04T21:30:00Z'), trigger: { name: 'Shipped', properties: {} } }],
  }));
  assert.equal(late.messages.perChannel.sms, 1);
  assert.equal(late.sample[0]!.runs[0]!.endedAt, '2026-03-05T07:00:00.000Z');
  assert.deepEqual(late.decisions.deferred.reasons, [{ reason: 'deferred: quiet hours until 08:00 Europe/Warsaw', count: 1 }]);
});

test('nothing after the end of the window is reached; messages fall into their week', () => {
  const r = simulate(input({
    from: at(0), to: at(14 * 24 * 60 - 30),
    entries: [added(1, 0, 'a'), added(2, 8 * 24 * 60, 'b'), added(3, 14 * 24 * 60 - 45, 'c'), added(4, 14 * 24 * 60, 'late')],
    contacts: new Map([1, 2, 3, 4].map((id) => [id, contact(id)])),
  }));
  assert.equal(r.entered, 3, 'an entry at the end of the window is outside it');
  assert.equal(step(r, 'reminder').reached, 2, "contact 3's hour is not up when the window ends");
  assert.equal(r.exits.stillInside, 1);
  assert.deepEqual(r.messages.perWeek.map((w) => [w.weekStart, w.days, w.email]), [
    [at(0).toISOString(), 7, 1],
    [at(7 * 24 * 60).toISOString(), 7, 1],
  ]);
});

test('the holdout and the splits are drawn as the engine draws them; re-entry and branches', () => {
  const ids = Array.from({ length: 60 }, (_, i) => i + 1);
  const definition = JourneyDefinition.parse({
    name: 'Welcome', trigger: { type: 'event', event: 'Signed Up' }, settings: { holdoutPercent: 20 },
    steps: [
      { id: 'vip', type: 'branch', branches: [{ name: 'vip', rule: { type: 'trait', trait: 'vip', op: 'eq', value: true }, next: 'vip-mail' }], otherwise: 'split' },
      { id: 'split', type: 'split', paths: [{ name: 'A', weight: 1, next: 'mail-a' }, { name: 'B', weight: 3, next: 'mail-b' }] },
      { id: 'mail-a', type: 'send', channel: 'email', content: { email: { subject: 'A', html: '<p>A</p>' } }, next: 'end' },
      { id: 'mail-b', type: 'send', channel: 'email', content: { email: { subject: 'B', html: '<p>B</p>' } }, next: 'end' },
      { id: 'vip-mail', type: 'send', channel: 'email', content: { email: { subject: 'V', html: '<p>V</p>' } }, next: 'end' },
      { id: 'end', type: 'exit' },
    ],
  });
  const entries = ids.flatMap((id) => [
    { contactId: id, at: at(id), trigger: { name: 'Signed Up', properties: {} } },
    { contactId: id, at: at(600 + id), trigger: { name: 'Signed Up', properties: {} } },
  ]);
  const vips = new Set([1, 2, 3]);
  const r = simulate(input({
    journeyId: 42, definition, entries, contacts: new Map(ids.map((id) => [id, contact(id)])), branchMembers: new Map([['vip', [vips]]]),
  }));
  const held = ids.filter((id) => inHoldout(42, id, 20));
  assert.ok(held.length > 0 && held.length < 30, 'a few held out');
  assert.equal(r.entered, 60, 'reentry never: one run each');
  assert.equal(r.notEntered.reentry, 60);
  assert.equal(r.holdout, held.length);
  const treated = ids.filter((id) => !held.includes(id));
  assert.equal(step(r, 'vip').reached, treated.length);
  const treatedVips = treated.filter((id) => vips.has(id)).length;
  assert.deepEqual(step(r, 'vip').outcomes, { vip: treatedVips, otherwise: treated.length - treatedVips });
  // Runs are numbered in entry order (holdout runs included), as identity columns number them.
  const paths = { A: 0, B: 0 };
  ids.forEach((id, i) => {
    if (held.includes(id) || vips.has(id)) return;
    paths[pickWeighted([{ name: 'A' as const, weight: 1 }, { name: 'B' as const, weight: 3 }], `split:42:${i + 1}:split`).name]++;
  });
  assert.deepEqual(step(r, 'split').outcomes, paths);
  assert.equal(step(r, 'mail-a').reached + step(r, 'mail-b').reached + step(r, 'vip-mail').reached, treated.length);
  assert.equal(r.messages.total, treated.length);
  assert.equal(r.exits.exited, treated.length);
});
