import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { installBlueprint, listBlueprints, loadBlueprint, parseBlueprint } from '../../src/journeys/blueprints.ts';

const DAY = 86_400_000;

test('every shipped blueprint is a valid journey file with its info, and the care models are all there', () => {
  const all = listBlueprints();
  assert.deepEqual(all.map((b) => b.name), [
    'abandoned-cart', 'birthday', 'clean-up', 'cross-sell', 'milestones', 'replenishment', 'welcome-back', 'welcome', 'win-back',
  ]);
  for (const b of all) {
    assert.ok(b.info.summary.length > 40, `${b.name} says what it does`);
    assert.equal(new Set(b.definition.steps.map((s) => s.id)).size, b.definition.steps.length);
  }
  const cart = all.find((b) => b.name === 'abandoned-cart')!.definition;
  const reminder = cart.steps.find((s) => s.id === 'reminder');
  assert.ok(reminder?.type === 'send' && reminder.variants?.length === 2, 'the first cart reminder is an A/B test');
  assert.equal(cart.settings.goal?.event, 'Order Completed');
  const cleanUp = all.find((b) => b.name === 'clean-up')!;
  assert.deepEqual(Object.keys(cleanUp.segments), ['no-opens-6mo']);
  assert.equal(cleanUp.journey.trigger && (cleanUp.journey.trigger as { segmentId: unknown }).segmentId, '$segment:no-opens-6mo');
  assert.ok(cleanUp.definition.steps.some((s) => s.type === 'delete_contact' && s.mode === 'anonymise'));
  const unknown = loadBlueprint('newsletter');
  assert.ok(!unknown.ok && unknown.problem.code === 'not_found' && /there are: abandoned-cart, birthday/.test(unknown.problem.message));
});

test('a blueprint file with a wrong reference or a bad step says where', () => {
  const base = { name: 'T', blueprint: { careModel: 'T', stage: 'lost', summary: 'A test.' }, steps: [{ id: 'x', type: 'exit' }] };
  const check = (file: unknown) => {
    const r = parseBlueprint('t', JSON.stringify(file));
    assert.ok(!r.ok);
    return `${r.problem.field}: ${r.problem.message}`;
  };
  const rule = { type: 'orders', metric: 'count', op: 'gte', value: 1 };
  assert.match(check({ ...base, trigger: { type: 'schedule', every: 'day', at: '09:00', segmentId: '$segment:buyers' } }), /^trigger\.segmentId: .*\$segment:buyers, which the segments section does not declare/);
  assert.match(check({ ...base, segments: { buyers: { name: 'Buyers', rule } }, trigger: { type: 'api' } }), /^segments\.buyers: .*not use it/);
  assert.match(check({ ...base, segments: { buyers: { name: 'Buyers', rule: { ...rule, op: 'most' } } }, trigger: { type: 'segment', segmentId: '$segment:buyers' } }), /^segments\.buyers\.rule\.op/);
  assert.match(check({ ...base, trigger: { type: 'api' }, steps: [{ id: 'w', type: 'wait', duration: 'two days' }] }), /^steps\.0\.duration: /);
  assert.match(check({ ...base, blueprint: { careModel: 'T', stage: 'asleep', summary: 'x' }, trigger: { type: 'api' } }), /^blueprint\.stage/);
  assert.match(check('[1]'), /must hold a JSON object/);
});

for (const target of testDatabases()) {
  test(`every blueprint installs and publishes cleanly on a fresh workspace; segments are created once and reused by name (${target.name})`, async () => {
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock: new VirtualClock('2026-03-02T10:00:00Z') });
    try {
      const ws = (await tend.workspaces.createWithKeys('blueprints')).workspace.id;
      const deps = { segments: tend.segments, journeys: tend.journeys };
      for (const b of listBlueprints()) {
        const r = await installBlueprint(deps, ws, b, { publish: true });
        assert.ok(r.ok, `${b.name}: ${JSON.stringify(!r.ok && r.problem)}`);
        assert.equal(r.value.journey.status, 'active', b.name);
        assert.equal(r.value.version, 1);
        assert.equal(r.value.journey.name, b.definition.name);
        assert.deepEqual(r.value.segments.map((s) => s.created), Object.keys(b.segments).map(() => true));
      }
      const segments = await tend.segments.list(ws);
      assert.deepEqual(segments.map((s) => s.name).sort(), ['Customers with no visit in 90 days', 'No email opens in 6 months', 'Refill window: last order 3–16 weeks ago']);
      const noVisit = segments.find((s) => s.name === 'Customers with no visit in 90 days')!;
      const winBack = (await tend.journeys.list(ws)).find((j) => j.name === 'Win-back')!;
      assert.equal(winBack.draft.trigger.type === 'schedule' && winBack.draft.trigger.segmentId, noVisit.id, 'the reference became the id');

      // Installing again: the segment is reused, the journey is a second draft with its own name.
      const winBackBlueprint = loadBlueprint('win-back');
      assert.ok(winBackBlueprint.ok);
      const again = await installBlueprint(deps, ws, winBackBlueprint.value);
      assert.ok(again.ok);
      assert.deepEqual(again.value.segments, [{ key: 'no-visit-90d', id: noVisit.id, name: noVisit.name, created: false }]);
      assert.equal(again.value.journey.name, 'Win-back (2)');
      assert.equal(again.value.journey.status, 'draft');
      assert.equal(again.value.version, null);
      assert.equal((await tend.segments.list(ws)).length, 3);
    } finally {
      await tend.close();
    }
  });

  test(`the welcome programme: welcome at once, tips two days later, the coupon offer only to those who have not bought (${target.name})`, async () => {
    const clock = new VirtualClock('2026-03-02T10:00:00Z');
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    try {
      const ws = (await tend.workspaces.createWithKeys('welcome')).workspace.id;
      const installed = await installBlueprint({ segments: tend.segments, journeys: tend.journeys }, ws, listBlueprints().find((b) => b.name === 'welcome')!, { publish: true });
      assert.ok(installed.ok);
      const journeyId = installed.value.journey.id;
      const people = ['ann', 'bob'];
      await tend.ingest.ingest(ws, people.map((u) => ({ type: 'identify', userId: u, traits: { email: `${u}@example.com`, first_name: u === 'ann' ? 'Ann' : 'Bob', consent: { email: true } } })));
      await tend.ingest.ingest(ws, people.map((u) => ({ type: 'track', userId: u, event: 'Signed Up', properties: { method: 'email' } })));
      const run = async () => {
        await tend.runner.drain();
        await tend.delivery.drain();
      };
      const sent = async () =>
        (await tend.db.query<{ user_id: string; step_id: string; subject: string; html: string }>(
          `select c.user_id, m.step_id, o.payload->>'subject' as subject, o.payload->>'html' as html
             from messages m join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id
             join outbox o on o.workspace_id = m.workspace_id and o.message_id = m.id
            where m.workspace_id = $1 and m.journey_id = $2 order by m.id`,
          [ws, journeyId],
        )).rows;
      await run();
      assert.deepEqual((await sent()).map((m) => [m.user_id, m.step_id, m.subject]), [
        ['ann', 'welcome', 'Welcome to welcome, Ann'],
        ['bob', 'welcome', 'Welcome to welcome, Bob'],
      ]);
      // Ann buys on day 3; the tips go to both on day 2 (at their usual hour, within a day).
      for (let day = 1; day <= 8; day++) {
        clock.advance(DAY);
        if (day === 3) await tend.ingest.ingest(ws, [{ type: 'track', userId: 'ann', event: 'Order Completed', properties: { order_id: 'o1', total: 30, currency: 'EUR', products: [{ sku: 'A', price: 30, quantity: 1 }] } }]);
        await run();
      }
      const all = await sent();
      assert.deepEqual(all.map((m) => `${m.user_id}:${m.step_id}`), ['ann:welcome', 'bob:welcome', 'ann:tips', 'bob:tips', 'bob:offer']);
      const offer = all.at(-1)!;
      assert.equal(offer.subject, 'A welcome gift: 10% off your first order');
      const code = /WELCOME-[0-9A-F]{10}/.exec(offer.html)?.[0];
      assert.ok(code, 'the email shows the coupon code');
      const coupon = await tend.db.query<{ percent_off: number }>(`select percent_off from coupons where workspace_id = $1 and code = $2`, [ws, code]);
      assert.equal(Number(coupon.rows[0]?.percent_off), 10);
      const runs = await tend.db.query<{ user_id: string; state: string; step_id: string }>(
        `select c.user_id, r.state, r.step_id from journey_runs r join contacts c on c.workspace_id = r.workspace_id and c.id = r.contact_id where r.workspace_id = $1 order by c.user_id`, [ws],
      );
      assert.deepEqual(runs.rows.map((r) => [r.user_id, r.state, r.step_id]), [['ann', 'exited', 'customer'], ['bob', 'exited', 'done']]);
    } finally {
      await tend.close();
    }
  });
}
