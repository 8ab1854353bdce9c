import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../../src/policy/index.ts';
import { BroadcastInput, createBroadcastService } from '../../src/journeys/broadcasts.ts';

const email = (subject: string) => ({ email: { subject, html: `<p>${subject}, {{ contact.first_name }}</p>` } });

for (const target of testDatabases()) {
  test(`a broadcast to a segment: content by lifecycle stage, A/B variants, scheduled, resumed page by page, cancelled (${target.name})`, async () => {
    const clock = new VirtualClock('2026-04-01T09:00:00Z');
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    try {
      const ws = (await tend.workspaces.createWithKeys('broadcasts')).workspace.id;
      await saveMessagingPolicy(tend.db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
      const people = Array.from({ length: 30 }, (_, i) => `p${i}`);
      await tend.ingest.ingest(ws, people.map((u, i) => ({
        type: 'identify', userId: u, traits: { email: `${u}@example.com`, first_name: u, plan: i < 24 ? 'news' : 'none', consent: { email: true } },
      })));
      // Six lapsed customers get the "we miss you" version.
      await tend.db.query(
        `insert into contact_scores (workspace_id, contact_id, lifecycle_stage, scored_at)
         select workspace_id, id, 'lapsed', $2 from contacts where workspace_id = $1 and user_id = any($3::text[])`,
        [ws, clock.now(), people.slice(0, 6)],
      );
      const segment = await tend.segments.create(ws, { name: 'Newsletter', description: '', rule: { type: 'trait', trait: 'plan', op: 'eq', value: 'news' } });
      assert.ok(segment.ok);

      const bad = await tend.broadcasts.create(ws, BroadcastInput.parse({ name: 'Typo', segmentId: segment.value.id, content: email('Hi {{ contact.frist_name }}') }));
      assert.ok(!bad.ok && /frist_name/.test(bad.problem.message), 'template errors are found before anything is scheduled');

      const created = await tend.broadcasts.create(ws, BroadcastInput.parse({
        name: 'April news', segmentId: segment.value.id, sendAt: '2026-04-02T08:00:00Z',
        content: email('April news'),
        variants: [{ name: 'A', weight: 1, content: email('April news') }, { name: 'B', weight: 1, content: email('What is new in April') }],
        contentByStage: { lapsed: email('We miss you') },
      }));
      assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
      await tend.broadcasts.sweep();
      assert.equal((await tend.broadcasts.get(ws, created.value.id))!.status, 'scheduled', 'nothing before its time');

      clock.set('2026-04-02T08:00:00Z');
      // Pages of 10, one per call, as if the process stopped after each: the checkpoint resumes it
      // and every member is enrolled once.
      const paged = createBroadcastService({ db: tend.db, clock, journeys: tend.journeys, pageSize: 10 });
      const progress: number[] = [];
      for (let i = 0; i < 4; i++) {
        await paged.sweep(1);
        progress.push((await tend.broadcasts.get(ws, created.value.id))!.enrolled);
      }
      assert.deepEqual(progress, [10, 20, 24, 24]);
      const done = (await tend.broadcasts.get(ws, created.value.id))!;
      assert.equal(done.status, 'sent');
      assert.equal(done.enrolled, 24);
      await tend.runner.drain();
      await tend.delivery.drain();
      const { rows } = await tend.db.query<{ subject: string; n: number }>(
        `select o.payload->>'subject' as subject, count(*)::int as n from outbox o join messages m on m.workspace_id = o.workspace_id and m.id = o.message_id
          where m.journey_id = $1 group by 1 order by 1`,
        [done.journeyId],
      );
      const bySubject = Object.fromEntries(rows.map((r) => [r.subject, r.n]));
      assert.equal(bySubject['We miss you'], 6, 'the lapsed get their version');
      assert.equal((bySubject['April news'] ?? 0) + (bySubject['What is new in April'] ?? 0), 18, 'the rest get one of the two variants');
      assert.ok(bySubject['April news']! > 0 && bySubject['What is new in April']! > 0, 'both variants are used');

      // A cancelled broadcast enrols nobody more.
      const later = await tend.broadcasts.create(ws, BroadcastInput.parse({ name: 'May news', segmentId: segment.value.id, sendAt: '2026-05-01T08:00:00Z', content: email('May news') }));
      assert.ok(later.ok);
      assert.ok((await tend.broadcasts.cancel(ws, later.value.id)).ok);
      clock.set('2026-05-01T09:00:00Z');
      await tend.broadcasts.sweep();
      assert.equal((await tend.broadcasts.get(ws, later.value.id))!.enrolled, 0);
    } finally {
      await tend.close();
    }
  });
}
