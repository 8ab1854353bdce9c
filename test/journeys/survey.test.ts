import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer } from '../helpers/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';

// The advocate care model: after an order, an NPS question whose answers are links; promoters
// (9–10) are tagged as advocates and moved to the loyal stage, the others get nothing more.
const nps = {
  name: 'NPS after purchase',
  trigger: { type: 'event', event: 'Order Completed' },
  steps: [
    {
      id: 'ask', type: 'send', channel: 'email', topic: 'surveys',
      content: { email: { subject: 'How likely are you to recommend us?', html: '<p>{% for n in (0..10) %}<a href="{{ links.survey }}?q=nps&a={{ n }}">{{ n }}</a> {% endfor %}</p>' } },
    },
    { id: 'answer', type: 'wait_for_event', event: 'Survey Answered', where: [{ path: 'survey', op: 'eq', value: 'nps' }], timeout: '7d', next: 'score', timeoutNext: 'done' },
    {
      id: 'score', type: 'branch',
      branches: [{ name: 'promoter', rule: { type: 'event', event: 'Survey Answered', where: [{ path: 'survey', op: 'eq', value: 'nps' }, { path: 'answer', op: 'gte', value: 9 }], within: '7d' }, next: 'advocate' }],
      otherwise: 'done',
    },
    { id: 'advocate', type: 'update_contact', addTags: ['advocate'], lifecycleStage: 'loyal', next: 'done' },
    { id: 'done', type: 'exit' },
  ],
};

for (const target of testDatabases()) {
  test(`survey answers from links in a message branch the journey; a promoter becomes an advocate (${target.name})`, async () => {
    const clock = new VirtualClock('2026-05-04T10:00:00Z');
    const server = await startTestServer(target, { clock });
    try {
      const { writeKey, id: ws } = await server.workspace();
      const created = await server.tend.journeys.create(ws, nps);
      assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
      assert.ok((await server.tend.journeys.publish(ws, created.value.id)).ok);
      await server.send(writeKey, [
        { type: 'identify', userId: 'pia', traits: { email: 'pia@example.com', consent: { email: true } } },
        { type: 'identify', userId: 'dan', traits: { email: 'dan@example.com', consent: { email: true } } },
        { type: 'track', userId: 'pia', event: 'Order Completed', properties: { order_id: 'o1', total: 40 } },
        { type: 'track', userId: 'dan', event: 'Order Completed', properties: { order_id: 'o2', total: 40 } },
      ]);
      await server.tend.runner.drain();
      await server.tend.delivery.drain();
      const html = async (user: string) =>
        (await server.tend.db.query<{ html: string }>(
          `select o.payload->>'html' as html from outbox o join messages m on m.workspace_id = o.workspace_id and m.id = o.message_id
             join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id where c.user_id = $1`,
          [user],
        )).rows[0]!.html;
      // Answer links are Tend's own /t/s/ links (not wrapped in the click redirect).
      const answer = async (user: string, score: number) => {
        const links = [...(await html(user)).matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
        const res = await fetch(links[score]!, { redirect: 'follow' });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /Thank you/);
      };
      await answer('pia', 10);
      await answer('dan', 6);
      const link = new URL((await html('dan')).match(/href="([^"]+)"/)![1]!.replace(/&amp;/g, '&'));
      assert.match(link.pathname, /^\/t\/s\//);
      const forged = await fetch(`${link.origin}${link.pathname.slice(0, -2)}xx?q=nps&a=10`);
      assert.equal(forged.status, 400, 'a forged survey link records nothing');

      await server.tend.runner.drain();
      const contact = async (user: string) =>
        (await server.tend.db.query<{ tags: string[] | null; stage: string | null }>(
          `select c.traits->'tags' as tags, s.lifecycle_stage as stage from contacts c left join contact_scores s on s.workspace_id = c.workspace_id and s.contact_id = c.id
            where c.workspace_id = $1 and c.user_id = $2`,
          [ws, user],
        )).rows[0]!;
      assert.deepEqual(await contact('pia'), { tags: ['advocate'], stage: 'loyal' });
      assert.deepEqual(await contact('dan'), { tags: null, stage: null });
      const answers = await server.tend.db.query<{ answer: number }>(`select (properties->>'answer')::int as answer from events where workspace_id = $1 and name = 'Survey Answered' order by answer`, [ws]);
      assert.deepEqual(answers.rows.map((r) => r.answer), [6, 10]);
      const stage = await server.tend.db.query(`select 1 from events where workspace_id = $1 and name = 'Lifecycle Stage Changed' and properties->>'to' = 'loyal'`, [ws]);
      assert.equal(stage.rows.length, 1);
    } finally {
      await server.close();
    }
  });
}
