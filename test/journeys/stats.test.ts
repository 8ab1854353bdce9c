import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer } from '../helpers/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { newcombeInterval } from '../../src/journeys/ab-stats.ts';
import type { JourneyStats } from '../../src/journeys/stats.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const welcome = {
  name: 'Welcome',
  trigger: { type: 'event', event: 'Signed Up' },
  settings: { holdoutPercent: 20, goal: { event: 'Order Completed', within: '7d' } },
  steps: [
    { id: 'split', type: 'split', paths: [{ name: 'A', weight: 1, next: 'mail-a' }, { name: 'B', weight: 1, next: 'mail-b' }] },
    {
      id: 'mail-a', type: 'send', channel: 'email', next: 'end',
      content: { email: { subject: 'Welcome', html: '<p>Welcome</p>' } },
      variants: [
        { name: 'plain', weight: 1, content: { email: { subject: 'Welcome', html: '<p>Welcome</p>' } } },
        { name: 'story', weight: 1, content: { email: { subject: 'Our story', html: '<p>How we started</p>' } } },
      ],
    },
    { id: 'mail-b', type: 'send', channel: 'email', content: { email: { subject: '10% off your first order', html: '<p>WELCOME10</p>' } }, next: 'end' },
    { id: 'end', type: 'exit' },
  ],
};

for (const target of testDatabases()) {
  test(`A/B and holdout statistics of a journey run by the real runner, with made-up purchases (${target.name})`, async () => {
    const clock = new VirtualClock(iso(T0));
    const server = await startTestServer(target, { clock });
    try {
      const { id: ws, adminToken } = await server.workspace();
      const tend = server.tend;
      const get = async (path: string) => {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
        return { status: res.status, body: (await res.json()) as JourneyStats };
      };
      const policy = await fetch(`${server.url}/api/messaging/policy`, {
        method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ caps: [], quietHours: null }),
      });
      assert.equal(policy.status, 200);
      const created = await tend.journeys.create(ws, welcome);
      assert.ok(created.ok);
      const journeyId = created.value.id;
      assert.ok((await tend.journeys.publish(ws, journeyId)).ok);

      const none = await get(`/api/journeys/${journeyId}/stats`);
      assert.equal(none.status, 200);
      assert.equal(none.body.entered, 0);
      assert.equal(none.body.holdoutLift, null);

      // 300 sign-ups at once.
      const signUp = (i: number) => [
        { type: 'identify', userId: `p${i}`, traits: { email: `p${i}@example.com`, consent: { email: true } } },
        { type: 'track', userId: `p${i}`, event: 'Signed Up' },
      ];
      assert.deepEqual((await tend.ingest.ingest(ws, Array.from({ length: 300 }, (_, i) => signUp(i)).flat())).rejected, []);
      await tend.runner.drain();

      type Run = { contact_id: number; state: string; path: string | null; variant: string | null };
      const runs = (await tend.db.query<Run>(
        `select r.contact_id, r.state, r.context->'paths'->>'split' as path, m.variant
           from journey_runs r left join messages m on m.workspace_id = r.workspace_id and m.run_id = r.id and m.step_id = 'mail-a'
          where r.workspace_id = $1 and r.journey_id = $2 order by r.contact_id`,
        [ws, journeyId],
      )).rows;
      assert.equal(runs.length, 300);
      const holdout = runs.filter((r) => r.state === 'holdout');
      const armA = runs.filter((r) => r.path === 'A');
      const armB = runs.filter((r) => r.path === 'B');
      assert.equal(holdout.length + armA.length + armB.length, 300, 'every treated run took a path');
      assert.ok(holdout.length > 30 && holdout.length < 90, `about a fifth held out: ${holdout.length}`);
      assert.ok(armA.length >= 100 && armB.length >= 100, `both paths have enough: ${armA.length}, ${armB.length}`);

      // Made-up purchases a day later: 1 in 20 of the holdout, 1 in 10 on path A, 2 in 5 on path B.
      const buyers = new Set<number>();
      holdout.forEach((r, i) => i % 20 === 0 && buyers.add(Number(r.contact_id)));
      armA.forEach((r, i) => i % 10 === 0 && buyers.add(Number(r.contact_id)));
      armB.forEach((r, i) => i % 5 < 2 && buyers.add(Number(r.contact_id)));
      clock.set(iso(T0 + DAY));
      const userOf = new Map((await tend.db.query<{ id: number; user_id: string }>(`select id, user_id from contacts where workspace_id = $1`, [ws])).rows.map((c) => [Number(c.id), c.user_id]));
      await tend.ingest.ingest(ws, [...buyers].map((id) => ({
        type: 'track', userId: userOf.get(id), event: 'Order Completed', properties: { order_id: `o-${id}`, total: 50, products: [{ sku: 'S1', price: 50, quantity: 1 }] },
      })));
      // Ten more sign up on day 8: their week is not over when the results are read on day 9.
      clock.set(iso(T0 + 8 * DAY));
      await tend.ingest.ingest(ws, Array.from({ length: 10 }, (_, i) => signUp(300 + i)).flat());
      await tend.runner.drain();
      clock.set(iso(T0 + 9 * DAY));

      const res = await get(`/api/journeys/${journeyId}/stats`);
      assert.equal(res.status, 200);
      const s = res.body;
      assert.equal(s.entered, 310);
      const lateHoldout = (await tend.db.query<{ n: number }>(`select count(*)::int as n from journey_runs where workspace_id = $1 and journey_id = $2 and state = 'holdout' and entered_at > $3`, [ws, journeyId, iso(T0 + DAY)])).rows[0]!.n;
      assert.equal(s.holdout, holdout.length + lateHoldout);
      assert.equal(s.converted, buyers.size, 'every made-up purchase came within the week');
      assert.equal(s.goal!.event, 'Order Completed');
      const converting = (list: Run[]) => list.filter((r) => buyers.has(Number(r.contact_id))).length;

      // The split: B converts 40%, A 10%, well past the rule's minimums: B wins.
      const split = s.experiments.find((e) => e.kind === 'split')!;
      assert.equal(split.stepId, 'split');
      assert.deepEqual(split.arms.map((a) => [a.name, a.units, a.conversions]), [['A', armA.length, converting(armA)], ['B', armB.length, converting(armB)]]);
      assert.equal(split.arms.reduce((n, a) => n + a.pending, 0), 10 - lateHoldout, 'the late sign-ups are pending');
      assert.equal(split.arms[1]!.revenuePerUnit, Math.round((100 * 50 * converting(armB)) / armB.length) / 100);
      const diff = newcombeInterval(converting(armB), armB.length, converting(armA), armA.length);
      assert.deepEqual(split.comparisons[0]!.ci, [diff.lower, diff.upper]);
      assert.ok(diff.lower > 0.15, 'a clear difference');
      assert.equal(split.decision.winner, 'B');
      assert.match(split.decision.reason, /^B wins: B converts 4\d\.\d% of \d+ entries, A (9|10|11)\.\d% of \d+; the always-valid p-value against A is .* below 0\.05$/);

      // The variants of the message on path A: about 60 sends each, short of the 100 the rule needs.
      const variants = s.experiments.find((e) => e.kind === 'variants')!;
      assert.equal(variants.stepId, 'mail-a');
      const plain = armA.filter((r) => r.variant === 'plain');
      const story = armA.filter((r) => r.variant === 'story');
      assert.equal(plain.length + story.length, armA.length, 'every path-A run got a variant');
      assert.deepEqual(variants.arms.map((a) => [a.name, a.units, a.conversions]), [['plain', plain.length, converting(plain)], ['story', story.length, converting(story)]]);
      const fewer = plain.length <= story.length ? ['plain', plain.length] : ['story', story.length];
      assert.deepEqual(variants.decision, { winner: null, reason: `no winner yet: ${fewer[0]} has ${fewer[1]} of the 100 measured sends the rule needs in every arm` });

      // The holdout: the journey lifts conversion from 5% to about 25%, but the holdout is too small to call it.
      const lift = s.holdoutLift!;
      const treated = [...armA, ...armB];
      assert.deepEqual(lift.arms.map((a) => [a.name, a.units, a.conversions]), [['holdout', holdout.length, converting(holdout)], ['journey', treated.length, converting(treated)]]);
      const l = lift.comparisons[0]!;
      assert.equal(l.arm, 'journey');
      const expected = converting(treated) / treated.length - converting(holdout) / holdout.length;
      assert.ok(Math.abs(l.difference - expected) < 1e-12);
      assert.ok(l.ci[0] > 0, 'the interval of the lift excludes zero');
      assert.equal(l.relativeUplift, expected / (converting(holdout) / holdout.length));
      assert.deepEqual(lift.decision, { winner: null, reason: `no winner yet: holdout has ${holdout.length} of the 100 measured entries the rule needs in every arm` });
      assert.match(s.rule, /always-valid p-value/);

      assert.equal((await get('/api/journeys/999999/stats')).status, 404);
    } finally {
      await server.close();
    }
  });
}
