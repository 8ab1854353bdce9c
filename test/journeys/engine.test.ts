import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../../src/policy/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const mail = (subject: string) => ({ email: { subject, html: `<p>${subject}</p>` } });

async function setup(target: ReturnType<typeof testDatabases>[number], start: string) {
  const clock = new VirtualClock(start);
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
  const ws = (await tend.workspaces.createWithKeys('engine')).workspace.id;
  await saveMessagingPolicy(tend.db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
  const publish = async (definition: unknown) => {
    const created = await tend.journeys.create(ws, definition);
    assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
    const published = await tend.journeys.publish(ws, created.value.id);
    assert.ok(published.ok, JSON.stringify(!published.ok && published.problem));
    return created.value.id;
  };
  const people = async (list: { id: string; traits?: Record<string, unknown> }[]) => {
    const r = await tend.ingest.ingest(ws, list.map((p) => ({ type: 'identify', userId: p.id, traits: { email: `${p.id}@example.com`, first_name: p.id, consent: { email: true }, ...p.traits } })));
    assert.deepEqual(r.rejected, []);
  };
  const track = async (userId: string, event: string, properties: Record<string, unknown> = {}) => {
    const r = await tend.ingest.ingest(ws, [{ type: 'track', userId, event, properties, timestamp: clock.now().toISOString() }]);
    assert.deepEqual(r.rejected, []);
  };
  const run = async () => {
    await tend.runner.drain();
    await tend.delivery.drain();
  };
  const sent = async (journeyId: number) =>
    (await tend.db.query<{ user_id: string; subject: string }>(
      `select c.user_id, o.payload->>'subject' as subject from messages m join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id
         join outbox o on o.workspace_id = m.workspace_id and o.message_id = m.id where m.workspace_id = $1 and m.journey_id = $2 order by c.user_id, m.id`,
      [ws, journeyId],
    )).rows.map((r) => `${r.user_id}:${r.subject}`);
  const runs = async (journeyId: number) =>
    (await tend.db.query<{ user_id: string; state: string; step_id: string | null }>(
      `select c.user_id, r.state, r.step_id from journey_runs r join contacts c on c.workspace_id = r.workspace_id and c.id = r.contact_id
        where r.workspace_id = $1 and r.journey_id = $2 order by c.user_id, r.id`,
      [ws, journeyId],
    )).rows.map((r) => `${r.user_id}:${r.state}${r.step_id ? `@${r.step_id}` : ''}`);
  return { clock, tend, ws, publish, people, track, run, sent, runs };
}

for (const target of testDatabases()) {
  test(`waits, time of day in the contact's zone, branches, splits, profile updates, coupons, lists and goals (${target.name})`, async () => {
    const t = await setup(target, '2026-03-02T10:00:00Z');
    try {
      await t.people([{ id: 'ann', traits: { timezone: 'Europe/Warsaw', plan: 'pro' } }, { id: 'bob', traits: { timezone: 'America/New_York', plan: 'free' } }]);
      const id = await t.publish({
        name: 'Welcome', trigger: { type: 'event', event: 'Signed Up' },
        settings: { goal: { event: 'Order Completed', within: '30d' } },
        steps: [
          { id: 'hello', type: 'send', channel: 'email', content: mail('Welcome {{ contact.first_name }}') },
          { id: 'tag', type: 'update_contact', traits: { welcomed: true }, addTags: ['welcome'] },
          { id: 'list', type: 'list', list: 'newsletter', action: 'add' },
          { id: 'two-days', type: 'wait', duration: '2d' },
          { id: 'morning', type: 'wait_until', time: '09:00' },
          { id: 'plan', type: 'branch', branches: [{ name: 'pro', rule: { type: 'trait', trait: 'plan', op: 'eq', value: 'pro' }, next: 'pro-tips' }], otherwise: 'coupon' },
          { id: 'pro-tips', type: 'send', channel: 'email', content: mail('Pro tips'), next: 'end' },
          { id: 'coupon', type: 'coupon', prefix: 'HELLO-', percentOff: 15, validFor: '14d' },
          { id: 'offer', type: 'send', channel: 'email', content: mail('15% off with {{ coupon.code }}') },
          { id: 'end', type: 'exit' },
        ],
      });
      await t.track('ann', 'Signed Up');
      await t.track('bob', 'Signed Up');
      await t.run();
      assert.deepEqual(await t.sent(id), ['ann:Welcome ann', 'bob:Welcome bob']);
      const bob = (await t.tend.db.query<{ traits: Record<string, unknown> }>(`select traits from contacts where workspace_id = $1 and user_id = 'bob'`, [t.ws])).rows[0]!;
      assert.equal(bob.traits.welcomed, true);
      assert.deepEqual(bob.traits.tags, ['welcome']);
      assert.equal((await t.tend.db.query(`select 1 from contact_lists where workspace_id = $1 and list = 'newsletter'`, [t.ws])).rows.length, 2);

      // Two days later (Wednesday 10:00 UTC) both wait for 09:00 in their own zone.
      t.clock.advance(2 * DAY);
      await t.run();
      const due = await t.tend.db.query<{ user_id: string; due_at: Date }>(
        `select c.user_id, r.due_at from journey_runs r join contacts c on c.workspace_id = r.workspace_id and c.id = r.contact_id where r.workspace_id = $1 order by 1`, [t.ws],
      );
      assert.equal(new Date(due.rows[0]!.due_at).toISOString(), '2026-03-05T08:00:00.000Z', 'ann: 09:00 in Warsaw (UTC+1), Thursday');
      assert.equal(new Date(due.rows[1]!.due_at).toISOString(), '2026-03-04T14:00:00.000Z', 'bob: 09:00 in New York (UTC-5), the same day');

      t.clock.set('2026-03-05T09:00:00Z');
      await t.run();
      const sent = await t.sent(id);
      assert.ok(sent.includes('ann:Pro tips'), 'the pro branch');
      const offer = sent.find((s) => s.startsWith('bob:15% off with HELLO-'));
      assert.ok(offer, 'the free branch gets a coupon in its email');
      const coupon = (await t.tend.db.query<{ code: string; percent_off: number }>(`select code, percent_off from coupons where workspace_id = $1`, [t.ws])).rows;
      assert.equal(coupon.length, 1);
      assert.equal(offer, `bob:15% off with ${coupon[0]!.code}`);
      assert.deepEqual(await t.runs(id), ['ann:exited@end', 'bob:exited@end']);

      // The goal ends a run early; re-entry is "never" by default.
      const goal = await t.publish({
        name: 'Nudge', trigger: { type: 'event', event: 'Viewed Pricing' }, settings: { goal: { event: 'Order Completed', within: '7d' } },
        steps: [{ id: 'wait', type: 'wait', duration: '1d' }, { id: 'nudge', type: 'send', channel: 'email', content: mail('Still thinking?') }],
      });
      await t.track('ann', 'Viewed Pricing');
      await t.track('bob', 'Viewed Pricing');
      await t.run();
      await t.track('ann', 'Order Completed', { order_id: 'o1', total: 10 });
      t.clock.advance(DAY);
      await t.run();
      await t.track('bob', 'Viewed Pricing');
      await t.run();
      assert.deepEqual(await t.sent(goal), ['bob:Still thinking?']);
      assert.deepEqual(await t.runs(goal), ['ann:converted@wait', 'bob:completed']);
    } finally {
      await t.tend.close();
    }
  });

  test(`segment, model-change, date and schedule triggers; splits and holdouts; pause, versions and migration (${target.name})`, async () => {
    // Monday 1 June 2026, 06:00 UTC.
    const t = await setup(target, '2026-06-01T06:00:00Z');
    try {
      await t.people([
        { id: 'ann', traits: { timezone: 'Europe/Warsaw', birthday: '1990-06-01', plan: 'pro' } },
        { id: 'bob', traits: { timezone: 'America/Los_Angeles', birthday: '1985-06-02', plan: 'pro' } },
        { id: 'cat', traits: { timezone: 'UTC', birthday: '2000-12-24', plan: 'free' } },
      ]);
      const pro = await t.tend.segments.create(t.ws, { name: 'Pro', description: '', rule: { type: 'trait', trait: 'plan', op: 'eq', value: 'pro' } });
      assert.ok(pro.ok);

      // Entering a segment.
      const entered = await t.publish({ name: 'Pro welcome', trigger: { type: 'segment', segmentId: pro.value.id, on: 'enter' }, steps: [{ id: 's', type: 'send', channel: 'email', content: mail('Welcome to Pro') }] });
      await t.tend.ingest.ingest(t.ws, [{ type: 'identify', userId: 'cat', traits: { plan: 'pro' } }]);
      await t.tend.segmentUpdater.flush();
      await t.run();
      assert.deepEqual(await t.sent(entered), ['cat:Welcome to Pro']);

      // Birthdays at 09:00 in each contact's zone, checked by the sweep.
      const birthday = await t.publish({ name: 'Birthday', trigger: { type: 'date', field: 'birthday', match: 'anniversary', at: '09:00' }, steps: [{ id: 's', type: 'send', channel: 'email', content: mail('Happy birthday') }] });
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(birthday), [], 'entered, but the message waits for 09:00 local');
      t.clock.set('2026-06-01T07:00:00Z');
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(birthday), ['ann:Happy birthday'], '09:00 in Warsaw; the sweep again enrols nobody twice');
      t.clock.set('2026-06-02T16:00:00Z');
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(birthday), ['ann:Happy birthday', 'bob:Happy birthday'], '09:00 in Los Angeles on 2 June');

      // A weekly schedule over a segment: Mondays at 08:00 UTC, each occurrence once.
      const weekly = await t.publish({ name: 'Weekly', trigger: { type: 'schedule', every: 'week', weekday: 1, at: '08:00', timezone: 'UTC', segmentId: pro.value.id }, settings: { reentry: 'always' }, steps: [{ id: 's', type: 'send', channel: 'email', content: mail('This week') }] });
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(weekly), [], 'published after this week\'s occurrence: no back-fill');
      t.clock.set('2026-06-08T08:01:00Z');
      await t.tend.triggers.sweep();
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(weekly), ['ann:This week', 'bob:This week', 'cat:This week']);

      // A model output changing: lifecycle stage to lapsed.
      const winback = await t.publish({ name: 'Win-back', trigger: { type: 'change', field: 'lifecycle_stage', to: ['lapsed'] }, steps: [{ id: 's', type: 'send', channel: 'email', content: mail('We miss you') }] });
      const bobId = (await t.tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = 'bob'`, [t.ws])).rows[0]!.id;
      await t.tend.db.query(
        `insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at) values ($1, $2, 'stage-1', 'track', 'Lifecycle Stage Changed', '{"from": "active", "to": "lapsed"}', $3, $3)`,
        [t.ws, bobId, t.clock.now()],
      );
      await t.tend.triggers.sweep();
      await t.tend.triggers.sweep();
      await t.run();
      assert.deepEqual(await t.sent(winback), ['bob:We miss you']);

      // Splits and holdouts are stable per contact; pause holds everyone where they are.
      const split = await t.publish({
        name: 'Split', trigger: { type: 'api' }, settings: { holdoutPercent: 50 },
        steps: [
          { id: 'wait', type: 'wait', duration: '1h' },
          { id: 'ab', type: 'split', paths: [{ name: 'a', weight: 1, next: 'a' }, { name: 'b', weight: 1, next: 'b' }] },
          { id: 'a', type: 'send', channel: 'email', content: mail('Path A'), next: 'end' },
          { id: 'b', type: 'send', channel: 'email', content: mail('Path B'), next: 'end' },
          { id: 'end', type: 'exit' },
        ],
      });
      const contacts = (await t.tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 order by id`, [t.ws])).rows;
      for (const c of contacts) assert.ok((await t.tend.journeys.enrol(t.ws, split, c.id, {}, `k${c.id}`)).ok);
      await t.run();
      assert.ok((await t.tend.journeys.pause(t.ws, split)).ok);
      t.clock.advance(2 * HOUR);
      await t.run();
      assert.deepEqual(await t.sent(split), [], 'paused: nothing moves');
      // A new version while paused: contacts inside stay on version 1 until migrated.
      const v2 = await t.tend.journeys.update(t.ws, split, {
        name: 'Split', trigger: { type: 'api' }, settings: { holdoutPercent: 50 },
        steps: [{ id: 'wait', type: 'wait', duration: '1h' }, { id: 'ab', type: 'send', channel: 'email', content: mail('Version 2') }],
      });
      assert.ok(v2.ok);
      assert.ok((await t.tend.journeys.publish(t.ws, split)).ok);
      assert.ok((await t.tend.journeys.resume(t.ws, split)).ok);
      await t.run();
      const state = await t.runs(split);
      const holdout = state.filter((s) => s.endsWith(':holdout')).length;
      const inside = state.length - holdout;
      assert.equal(state.length, 3);
      const subjects = (await t.sent(split)).map((s) => s.split(':')[1]);
      assert.equal(subjects.length, inside, 'everyone not held out got exactly one message');
      assert.ok(subjects.every((s) => s === 'Path A' || s === 'Path B'), 'version 1 paths, not version 2');

      // Migration moves contacts waiting on an old version to the new one, by step id.
      const versioned = { name: 'Versioned', trigger: { type: 'api' }, steps: [{ id: 'wait', type: 'wait', duration: '1d' }, { id: 'send', type: 'send', channel: 'email', content: mail('Old') }] };
      const vid = await t.publish(versioned);
      assert.ok((await t.tend.journeys.enrol(t.ws, vid, contacts[0]!.id, {}, 'v')).ok);
      await t.run();
      assert.ok((await t.tend.journeys.update(t.ws, vid, { ...versioned, steps: [versioned.steps[0], { ...versioned.steps[1], content: mail('New') }] })).ok);
      assert.ok((await t.tend.journeys.publish(t.ws, vid)).ok);
      const migrated = await t.tend.journeys.migrate(t.ws, vid);
      assert.ok(migrated.ok);
      assert.deepEqual(migrated.value, { moved: 1, kept: 0 });
      t.clock.advance(DAY);
      await t.run();
      assert.deepEqual((await t.sent(vid)).map((s) => s.split(':')[1]), ['New']);
    } finally {
      await t.tend.close();
    }
  });
}
