import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../../src/policy/index.ts';

const HOUR = 3_600_000;

for (const target of testDatabases()) {
  test(`channel choice (fallback, best channel, best hour), webhooks through the outbox, erase and anonymise (${target.name})`, async () => {
    // Monday 6 April 2026, 06:00 UTC.
    const clock = new VirtualClock('2026-04-06T06:00:00Z');
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    try {
      const ws = (await tend.workspaces.createWithKeys('choices')).workspace.id;
      await saveMessagingPolicy(tend.db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
      const r = await tend.ingest.ingest(ws, [
        { type: 'identify', userId: 'eve', traits: { email: 'eve@example.com', phone: '+48500100200', timezone: 'UTC', consent: { email: true, sms: true } } },
        { type: 'identify', userId: 'sam', traits: { email: 'sam@example.com', phone: '+48500100300', timezone: 'UTC', consent: { email: true, sms: true } } },
        { type: 'identify', userId: 'old', traits: { email: 'old@example.com', timezone: 'UTC', consent: { email: true } } },
        // Sam reads SMS and visits in the evening; Eve has no history.
        ...[1, 2, 3].map((d) => ({ type: 'track', userId: 'sam', event: 'Message Clicked', properties: { channel: 'sms' }, timestamp: new Date(Date.parse('2026-04-06T19:10:00Z') - d * 24 * HOUR).toISOString() })),
        ...[1, 2, 3].map((d) => ({ type: 'page', userId: 'sam', name: 'Home', timestamp: new Date(Date.parse('2026-04-06T19:30:00Z') - d * 24 * HOUR).toISOString() })),
      ]);
      assert.deepEqual(r.rejected, []);
      const ids = Object.fromEntries((await tend.db.query<{ user_id: string; id: number }>(`select user_id, id from contacts where workspace_id = $1`, [ws])).rows.map((c) => [c.user_id, c.id]));
      const publish = async (definition: unknown) => {
        const created = await tend.journeys.create(ws, definition);
        assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
        assert.ok((await tend.journeys.publish(ws, created.value.id)).ok);
        return created.value.id;
      };
      const run = async () => {
        await tend.runner.drain();
        await tend.delivery.drain();
      };
      const sent = async (journeyId: number) =>
        (await tend.db.query<{ user_id: string; channel: string; payload: Record<string, unknown> }>(
          `select c.user_id, m.channel, o.payload from messages m join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id
             join outbox o on o.workspace_id = m.workspace_id and o.message_id = m.id where m.workspace_id = $1 and m.journey_id = $2 order by c.user_id`,
          [ws, journeyId],
        )).rows;
      const content = { email: { subject: 'By email', html: '<p>Hi</p>' }, sms: { body: 'By SMS' }, push: { title: 'By push', body: 'Hi' } };

      // Push, else email: nobody has a push subscription, so email.
      const fallback = await publish({ name: 'Fallback', trigger: { type: 'api' }, steps: [{ id: 's', type: 'send', channel: 'push', fallback: ['email', 'sms'], content }] });
      // The best channel: the one the contact clicks on most (SMS for Sam; email first for Eve).
      const best = await publish({ name: 'Best', trigger: { type: 'api' }, steps: [{ id: 's', type: 'send', channel: 'best', content }] });
      // The best hour: Sam's evening; Eve (no history) at once.
      const hour = await publish({ name: 'Hour', trigger: { type: 'api' }, steps: [{ id: 's', type: 'send', channel: 'email', bestHour: true, content }] });
      for (const j of [fallback, best, hour]) for (const u of ['eve', 'sam']) assert.ok((await tend.journeys.enrol(ws, j, ids[u]!, {}, `${j}-${u}`)).ok);
      await run();
      assert.deepEqual((await sent(fallback)).map((m) => `${m.user_id}:${m.channel}`), ['eve:email', 'sam:email']);
      assert.deepEqual((await sent(best)).map((m) => `${m.user_id}:${m.channel}`), ['eve:email', 'sam:sms']);
      assert.deepEqual((await sent(hour)).map((m) => m.user_id), ['eve'], 'Sam waits for his evening');
      const due = await tend.db.query<{ due_at: Date }>(`select due_at from journey_runs where workspace_id = $1 and journey_id = $2 and contact_id = $3`, [ws, hour, ids.sam]);
      assert.equal(new Date(due.rows[0]!.due_at).toISOString(), '2026-04-06T19:00:00.000Z');
      clock.set('2026-04-06T19:00:00Z');
      await run();
      assert.deepEqual((await sent(hour)).map((m) => m.user_id), ['eve', 'sam']);

      // A webhook step: recorded like a message, its body rendered from the template.
      const hook = await publish({
        name: 'Hook', trigger: { type: 'api' },
        steps: [{ id: 'crm', type: 'webhook', url: 'https://crm.example/hooks/tend', body: '{"email": {{ contact.email | json }}, "vip": {{ event.properties.vip }}}' }],
      });
      assert.ok((await tend.journeys.enrol(ws, hook, ids.eve!, { vip: true }, 'hook')).ok);
      await run();
      const delivered = await sent(hook);
      assert.equal(delivered.length, 1);
      assert.equal(delivered[0]!.payload.url, 'https://crm.example/hooks/tend');
      assert.deepEqual(JSON.parse(String(delivered[0]!.payload.body)), { email: 'eve@example.com', vip: true });

      // The clean-up scenario's last step: anonymise keeps orders without identity; erase removes everything.
      await tend.ingest.ingest(ws, [{ type: 'track', userId: 'old', event: 'Order Completed', properties: { order_id: 'o-old', total: 20 } }]);
      const anonymise = await publish({ name: 'Anonymise', trigger: { type: 'api' }, steps: [{ id: 'x', type: 'delete_contact', mode: 'anonymise' }] });
      assert.ok((await tend.journeys.enrol(ws, anonymise, ids.old!, {}, 'anon')).ok);
      await run();
      const gone = (await tend.db.query<{ email: string | null; user_id: string | null; orders: number }>(
        `select c.email, c.user_id, (select count(*)::int from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id) as orders from contacts c where c.workspace_id = $1 and c.id = $2`,
        [ws, ids.old],
      )).rows[0]!;
      assert.deepEqual(gone, { email: null, user_id: null, orders: 1 });
      const erase = await publish({ name: 'Erase', trigger: { type: 'api' }, steps: [{ id: 'x', type: 'delete_contact', mode: 'erase' }] });
      assert.ok((await tend.journeys.enrol(ws, erase, ids.sam!, {}, 'erase')).ok);
      await run();
      for (const table of ['contacts', 'events', 'messages', 'journey_runs']) {
        const column = table === 'contacts' ? 'id' : 'contact_id';
        const left = await tend.db.query(`select 1 from ${table} where workspace_id = $1 and ${column} = $2`, [ws, ids.sam]);
        assert.equal(left.rows.length, 0, `nothing of Sam is left in ${table}`);
      }
    } finally {
      await tend.close();
    }
  });
}

for (const target of testDatabases()) {
  test(`a visitor who identifies brings their push subscription, messages and journeys to the known profile (${target.name})`, async () => {
    const clock = new VirtualClock('2026-04-06T06:00:00Z');
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    try {
      const ws = (await tend.workspaces.createWithKeys('merge')).workspace.id;
      await tend.ingest.ingest(ws, [
        { type: 'identify', userId: 'kim', traits: { email: 'kim@example.com' } },
        { type: 'page', anonymousId: 'visitor-1', name: 'Home' },
      ]);
      const id = async (where: string) => (await tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and ${where}`, [ws])).rows[0]!.id;
      const kim = await id(`user_id = 'kim'`);
      const visitor = await id(`user_id is null and merged_into is null`);
      await tend.db.query(`insert into push_subscriptions (workspace_id, endpoint, contact_id, keys, created_at) values ($1, 'https://push.example/1', $2, '{"p256dh": "k", "auth": "a"}', $3)`, [ws, visitor, clock.now()]);
      const created = await tend.journeys.create(ws, { name: 'Wait', trigger: { type: 'api' }, steps: [{ id: 'w', type: 'wait', duration: '1d' }] });
      assert.ok(created.ok);
      assert.ok((await tend.journeys.publish(ws, created.value.id)).ok);
      assert.ok((await tend.journeys.enrol(ws, created.value.id, visitor, {}, 'v')).ok);
      await tend.ingest.ingest(ws, [{ type: 'identify', userId: 'kim', anonymousId: 'visitor-1' }]);
      const push = await tend.db.query<{ contact_id: number }>(`select contact_id from push_subscriptions where workspace_id = $1`, [ws]);
      assert.deepEqual(push.rows.map((r) => Number(r.contact_id)), [kim]);
      const runs = await tend.db.query<{ contact_id: number; state: string }>(`select contact_id, state from journey_runs where workspace_id = $1`, [ws]);
      assert.deepEqual(runs.rows.map((r) => [Number(r.contact_id), r.state]), [[kim, 'active']]);
    } finally {
      await tend.close();
    }
  });
}
