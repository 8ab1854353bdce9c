import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer } from '../helpers/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { scheduleOccurrences } from '../../src/journeys/dry-run.ts';
import type { DryRunReport } from '../../src/journeys/dry-run.ts';
import { JourneyDefinition } from '../../src/journeys/schema.ts';

const DAY = 86_400_000;
// Monday 2 March 2026, 00:00 UTC: the history runs for four weeks from here.
const START = Date.parse('2026-03-02T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** The abandoned-cart journey of abandoned-cart.test.ts, with plain HTML. */
const abandonedCart = {
  name: 'Abandoned cart',
  trigger: { type: 'event', event: 'Product Added' },
  settings: { reentry: 'always', goal: { event: 'Order Completed', within: '7d' } },
  steps: [
    { id: 'wait-for-order', type: 'wait_for_event', event: 'Order Completed', matchTrigger: ['cart_id'], timeout: '1h', next: 'bought', timeoutNext: 'reminder' },
    { id: 'reminder', type: 'send', channel: 'email', content: { email: { subject: 'You left something behind', html: '<p>Your cart is waiting</p>' } }, next: 'done' },
    { id: 'bought', type: 'exit' },
    { id: 'done', type: 'exit' },
  ],
};

for (const target of testDatabases()) {
  test(`dry run of the abandoned cart over four weeks of stored history, writing nothing (${target.name})`, async () => {
    const clock = new VirtualClock(iso(START));
    const server = await startTestServer(target, { clock });
    try {
      const { id: ws, adminToken } = await server.workspace();
      const tend = server.tend;
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method, headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };

      // 30 shoppers. Every third buys within 20 minutes of adding to the cart; every fifth of the
      // others buys three hours later (too late for the reminder's hour); the rest never buy.
      const people = Array.from({ length: 30 }, (_, i) => i);
      const r = await tend.ingest.ingest(ws, people.map((i) => ({
        type: 'identify', userId: `p${i}`, timestamp: iso(START), traits: { email: `p${i}@example.com`, consent: { email: true }, timezone: 'Europe/Warsaw' },
      })));
      assert.deepEqual(r.rejected, []);
      const addedAt = (i: number) => START + (i % 26) * DAY + 10 * 3_600_000 + i * 60_000;
      const buysAfter = (i: number) => (i % 3 === 0 ? 20 * 60_000 : i % 5 === 0 ? 3 * 3_600_000 : null);
      const history: unknown[] = [];
      for (const i of people) {
        history.push({ type: 'track', userId: `p${i}`, event: 'Product Added', timestamp: iso(addedAt(i)), properties: { cart_id: `cart-${i}`, sku: 'JUG-1', price: 30, quantity: 1 } });
        const after = buysAfter(i);
        if (after !== null) {
          history.push({
            type: 'track', userId: `p${i}`, event: 'Order Completed', timestamp: iso(addedAt(i) + after),
            properties: { order_id: `o-${i}`, cart_id: `cart-${i}`, total: 30, products: [{ sku: 'JUG-1', price: 30, quantity: 1 }] },
          });
        }
      }
      assert.deepEqual((await tend.ingest.ingest(ws, history)).rejected, []);

      // Four of them become VIPs on day 3: Tend records their entry into the segment.
      const segment = await tend.segments.create(ws, { name: 'VIP', description: '', rule: { type: 'trait', trait: 'vip', op: 'eq', value: true } });
      assert.ok(segment.ok);
      clock.set(iso(START + 3 * DAY));
      await tend.ingest.ingest(ws, [0, 1, 2, 3].map((i) => ({ type: 'identify', userId: `p${i}`, traits: { vip: true } })));
      await tend.segmentUpdater.flush();

      clock.set(iso(START + 28 * DAY));
      const count = async (table: string) => (await tend.db.query<{ n: number }>(`select count(*)::int as n from ${table} where workspace_id = $1`, [ws])).rows[0]!.n;
      const before = { events: await count('events'), settings: await count('messaging_settings') };

      const res = await api('POST', '/api/journeys/dry-run', { definition: abandonedCart, sample: 30 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const report = res.body as unknown as DryRunReport;
      assert.deepEqual(report.window, { from: iso(START), to: iso(START + 28 * DAY) }, 'the last 28 days by default');

      const ids = new Map((await tend.db.query<{ id: number; user_id: string }>(`select id, user_id from contacts where workspace_id = $1`, [ws])).rows.map((c) => [Number(c.id), c.user_id]));
      const lateOrNever = people.filter((i) => buysAfter(i) === null || buysAfter(i)! > 3_600_000);
      assert.equal(report.entered, 30);
      assert.equal(report.contacts, 30);
      const step = (id: string) => report.perStep.find((s) => s.stepId === id)!;
      assert.equal(step('wait-for-order').reached, 30);
      assert.equal(step('reminder').reached, lateOrNever.length);
      assert.equal(report.sample.length, 30);
      const reminded = report.sample.filter((s) => s.runs[0]!.path.some((p) => p.stepId === 'reminder')).map((s) => Number(ids.get(s.contactId)!.slice(1))).sort((a, b) => a - b);
      assert.deepEqual(reminded, lateOrNever, 'exactly those who did not buy within the hour reach the reminder');
      for (const s of report.sample) {
        const i = Number(ids.get(s.contactId)!.slice(1));
        const sent = s.runs[0]!.path.find((p) => p.stepId === 'reminder');
        if (sent) assert.equal(sent.at, iso(addedAt(i) + 3_600_000), 'the reminder goes when the hour is up');
      }
      assert.deepEqual(report.exits, { completed: 0, exited: lateOrNever.length, converted: 30 - lateOrNever.length, erased: 0, stillInside: 0 });

      // Messages: per channel, per step and per week agree.
      assert.equal(report.messages.perChannel.email, lateOrNever.length);
      assert.equal(report.messages.total, lateOrNever.length);
      assert.deepEqual(report.perStep.find((s) => s.stepId === 'reminder')!.outcomes, { sent: lateOrNever.length });
      assert.equal(report.messages.perWeek.length, 4);
      assert.equal(report.messages.perWeek.reduce((s, w) => s + w.email + w.sms + w.push + w.print, 0), lateOrNever.length);
      const perWeek = [0, 1, 2, 3].map((w) => lateOrNever.filter((i) => Math.floor((addedAt(i) + 3_600_000 - START) / (7 * DAY)) === w).length);
      assert.deepEqual(report.messages.perWeek.map((w) => w.email), perWeek);
      assert.equal(report.messages.perWeek[1]!.weekStart, iso(START + 7 * DAY));
      assert.equal(report.decisions.deferred.total, 0);
      assert.ok(report.approximations.length > 0 && typeof report.tookMs === 'number');

      // Nothing was written: no runs, messages or decisions, and not even the settings row.
      for (const table of ['journey_runs', 'messages', 'policy_decisions', 'coupons']) assert.equal(await count(table), 0, `${table} is empty`);
      assert.deepEqual({ events: await count('events'), settings: await count('messaging_settings') }, before);

      // A saved draft is dry-run by id, with its own holdout; a narrower window sees less.
      const created = await api('POST', '/api/journeys', { ...abandonedCart, settings: { ...abandonedCart.settings, holdoutPercent: 50 } });
      assert.equal(created.status, 201);
      const byId = (await api('POST', `/api/journeys/${created.body.id}/dry-run`, { from: iso(START), to: iso(START + 7 * DAY), sample: 0 })).body as unknown as DryRunReport;
      const inWeek = people.filter((i) => addedAt(i) < START + 7 * DAY);
      assert.equal(byId.entered, inWeek.length);
      assert.ok(byId.holdout > 0 && byId.holdout < inWeek.length, `a holdout of about half: ${byId.holdout}`);
      assert.equal(step('wait-for-order').reached, 30, 'the first report is unchanged');
      assert.equal(byId.perStep[0]!.reached, inWeek.length - byId.holdout, 'holdout contacts walk no steps');
      assert.deepEqual(byId.sample, []);
      assert.equal(await count('journey_runs'), 0);

      // A segment trigger enters the contacts whose entry Tend recorded.
      const vip = JourneyDefinition.parse({
        name: 'VIP welcome', trigger: { type: 'segment', segmentId: segment.value.id },
        steps: [{ id: 'hello', type: 'send', channel: 'email', content: { email: { subject: 'Welcome to the club', html: '<p>Hi</p>' } } }],
      });
      const vipReport = (await api('POST', '/api/journeys/dry-run', { definition: vip })).body as unknown as DryRunReport;
      assert.equal(vipReport.entered, 4);
      assert.deepEqual(vipReport.sample.map((s) => s.runs[0]!.enteredAt), Array(4).fill(iso(START + 3 * DAY)));

      // Bad windows and unknown journeys are the caller's problem, said plainly.
      const backwards = await api('POST', '/api/journeys/dry-run', { definition: abandonedCart, from: iso(START + DAY), to: iso(START) });
      assert.equal(backwards.status, 400);
      assert.match(String(backwards.body.error), /the window must end after it starts/);
      assert.equal((await api('POST', '/api/journeys/999999/dry-run', {})).status, 404);
    } finally {
      await server.close();
    }
  });

  test(`dry run of a birthday journey: each contact's local day, 29 February in other years (${target.name})`, async () => {
    const clock = new VirtualClock('2026-03-10T00:00:00Z');
    const server = await startTestServer(target, { clock });
    try {
      const { id: ws, adminToken } = await server.workspace();
      const birthdays: [string, string, string][] = [
        ['warsaw', '1990-03-03', 'Europe/Warsaw'],
        ['tokyo', '1985-03-01', 'Asia/Tokyo'],
        ['leap', '2000-02-29', 'UTC'],
        ['later', '1990-03-20', 'UTC'],
        ['broken', '1990-13-45', 'UTC'],
      ];
      await server.tend.ingest.ingest(ws, birthdays.map(([u, birthday, timezone]) => ({
        type: 'identify', userId: u, traits: { email: `${u}@example.com`, consent: { email: true }, birthday, timezone },
      })));
      const res = await fetch(`${server.url}/api/journeys/dry-run`, {
        method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from: '2026-02-27T00:00:00Z', to: '2026-03-06T00:00:00Z',
          definition: {
            name: 'Birthday', trigger: { type: 'date', field: 'birthday', match: 'anniversary', at: '09:00' }, settings: { reentry: 'always' },
            steps: [{ id: 'card', type: 'send', channel: 'email', content: { email: { subject: 'Happy birthday', html: '<p>🎂</p>' } } }],
          },
        }),
      });
      assert.equal(res.status, 200);
      const report = (await res.json()) as DryRunReport;
      const users = new Map((await server.tend.db.query<{ id: number; user_id: string }>(`select id, user_id from contacts where workspace_id = $1`, [ws])).rows.map((c) => [Number(c.id), c.user_id]));
      const got = Object.fromEntries(report.sample.map((s) => [users.get(s.contactId), [s.runs[0]!.enteredAt, s.runs[0]!.path[0]!.at]]));
      assert.deepEqual(got, {
        warsaw: ['2026-03-02T23:00:00.000Z', '2026-03-03T08:00:00.000Z'],
        tokyo: ['2026-02-28T15:00:00.000Z', '2026-03-01T00:00:00.000Z'],
        leap: ['2026-02-28T00:00:00.000Z', '2026-02-28T09:00:00.000Z'],
      });
      assert.equal(report.messages.total, 3);
    } finally {
      await server.close();
    }
  });
}

test('schedule occurrences in a window, in the schedule’s zone', () => {
  const weekly = scheduleOccurrences(
    { type: 'schedule', every: 'week', weekday: 1, at: '09:00', timezone: 'Europe/Warsaw', segmentId: 1 },
    new Date('2026-03-02T09:00:00Z'), new Date('2026-03-30T09:00:00Z'),
  );
  // Mondays at 09:00 in Warsaw; 2 March 08:00 UTC is before the window; summer time from 29 March.
  assert.deepEqual(weekly.map((d) => d.toISOString()), ['2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  const daily = scheduleOccurrences({ type: 'schedule', every: 'day', at: '18:30', timezone: 'UTC', segmentId: 1 }, new Date('2026-03-02T00:00:00Z'), new Date('2026-03-05T00:00:00Z'));
  assert.equal(daily.length, 3);
});
