import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../../src/policy/index.ts';

const HOUR = 3_600_000;

/** A journey that sends one message as soon as the event comes. */
function burstJourney(name: string, priority: number, onCapped: 'defer' | 'drop', extra: Record<string, unknown> = {}) {
  return {
    name,
    trigger: { type: 'event', event: 'Burst' },
    settings: { priority, reentry: 'always' },
    steps: [{ id: 'send', type: 'send', channel: 'email', onCapped, content: { email: { subject: `{{ contact.first_name }}: ${name}`, html: '<p>Hello</p>' } }, ...extra }],
  };
}

async function publish(tend: Tend, ws: string, definition: unknown): Promise<number> {
  const created = await tend.journeys.create(ws, definition);
  assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
  const published = await tend.journeys.publish(ws, created.value.id);
  assert.ok(published.ok, JSON.stringify(!published.ok && published.problem));
  return created.value.id;
}

async function run(tend: Tend) {
  await tend.runner.drain();
  await tend.delivery.drain();
}

for (const target of testDatabases()) {
  test(`frequency caps, priorities, quiet hours and transactional messages under a burst of journeys (${target.name})`, async () => {
    // Monday 2 March 2026, 12:00 UTC (13:00 in Warsaw).
    const clock = new VirtualClock('2026-03-02T12:00:00Z');
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    try {
      const ws = (await tend.workspaces.createWithKeys('policy')).workspace.id;
      await saveMessagingPolicy(tend.db, ws, MessagingPolicy.parse({
        caps: [{ channel: 'email', max: 1, window: '16h' }, { channel: 'email', max: 2, window: '1w' }],
        quietHours: { start: '21:00', end: '08:00', channels: ['sms'] },
      }));
      const people = Array.from({ length: 20 }, (_, i) => `p${i}`);
      const r = await tend.ingest.ingest(ws, people.map((u) => ({
        type: 'identify', userId: u, traits: { email: `${u}@example.com`, phone: '+48500100200', first_name: u, timezone: 'Europe/Warsaw', consent: { email: true, sms: true } },
      })));
      assert.deepEqual(r.rejected, []);

      // Three journeys want the same contacts at the same moment; the cap allows one email.
      const high = await publish(tend, ws, burstJourney('Win-back offer', 90, 'defer'));
      const mid = await publish(tend, ws, burstJourney('Newsletter', 50, 'defer'));
      const low = await publish(tend, ws, burstJourney('Cross-sell', 10, 'drop'));
      const receipt = await publish(tend, ws, { ...burstJourney('Receipt', 0, 'drop', { transactional: true, topic: 'receipts' }) });
      await tend.ingest.ingest(ws, people.map((u) => ({ type: 'track', userId: u, event: 'Burst' })));
      await run(tend);

      const count = async (journeyId: number) =>
        (await tend.db.query<{ n: number }>(`select count(*)::int as n from messages where workspace_id = $1 and journey_id = $2 and status = 'sent'`, [ws, journeyId])).rows[0]!.n;
      assert.equal(await count(high), 20, 'the highest priority wins the only slot');
      assert.equal(await count(mid), 0);
      assert.equal(await count(low), 0);
      assert.equal(await count(receipt), 20, 'transactional messages are not capped');

      const decisions = await tend.db.query<{ journey_id: number; decision: string; reason: string; until: Date | null }>(
        `select journey_id, decision, reason, until from policy_decisions where workspace_id = $1 order by id`, [ws],
      );
      const midDecisions = decisions.rows.filter((d) => d.journey_id === mid);
      assert.equal(midDecisions.length, 20);
      assert.ok(midDecisions.every((d) => d.decision === 'deferred' && /frequency cap: 1 email per 16h/.test(d.reason)));
      assert.equal(new Date(midDecisions[0]!.until!).toISOString(), '2026-03-03T04:00:00.000Z', 'deferred until the 16-hour window frees');
      const lowDecisions = decisions.rows.filter((d) => d.journey_id === low);
      assert.ok(lowDecisions.length === 20 && lowDecisions.every((d) => d.decision === 'dropped'), 'the low-priority journey drops, as it says');

      // 16 hours later the deferred newsletter goes; the weekly cap (2) then blocks a third.
      clock.advance(16 * HOUR);
      await run(tend);
      assert.equal(await count(mid), 20);
      await tend.ingest.ingest(ws, people.map((u) => ({ type: 'track', userId: u, event: 'Burst' })));
      clock.advance(17 * HOUR);
      await run(tend);
      assert.equal(await count(high), 20, 'the weekly cap holds the win-back offer back');
      const weekly = await tend.db.query<{ reason: string }>(`select reason from policy_decisions where workspace_id = $1 and journey_id = $2 order by id desc limit 1`, [ws, high]);
      assert.match(weekly.rows[0]!.reason, /frequency cap: 2 email per 1w/);

      // Quiet hours: an SMS at 22:30 in Warsaw waits for 08:00 there.
      clock.set('2026-03-04T21:30:00Z');
      const sms = await publish(tend, ws, {
        name: 'Delivery update', trigger: { type: 'event', event: 'Shipped' },
        steps: [{ id: 'sms', type: 'send', channel: 'sms', content: { sms: { body: 'Your parcel is on its way, {{ contact.first_name }}' } } }],
      });
      await tend.ingest.ingest(ws, [{ type: 'track', userId: 'p0', event: 'Shipped' }]);
      await run(tend);
      const quiet = await tend.db.query<{ reason: string; until: Date }>(`select reason, until from policy_decisions where workspace_id = $1 and journey_id = $2`, [ws, sms]);
      assert.equal(quiet.rows[0]!.reason, 'deferred: quiet hours until 08:00 Europe/Warsaw');
      assert.equal(new Date(quiet.rows[0]!.until).toISOString(), '2026-03-05T07:00:00.000Z');
      assert.equal(await count(sms), 0);
      clock.set('2026-03-05T07:00:00Z');
      await run(tend);
      assert.equal(await count(sms), 1, 'sent when the quiet hours end');
      const rendered = await tend.db.query<{ payload: { body: string; segments: number } }>(`select o.payload from outbox o join messages m on m.workspace_id = o.workspace_id and m.id = o.message_id where m.journey_id = $1`, [sms]);
      assert.equal(rendered.rows[0]!.payload.body, 'Your parcel is on its way, p0');
      assert.equal(rendered.rows[0]!.payload.segments, 1, 'the SMS segments are counted');
    } finally {
      await tend.close();
    }
  });
}
