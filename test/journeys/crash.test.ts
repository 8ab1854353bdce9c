import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/index.ts';
import { createTend } from '../../src/tend.ts';
import { enrol } from '../../src/journeys/enrol.ts';
import { compileDefinition } from '../../src/journeys/decide.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../../src/policy/index.ts';
import pg from 'pg';

const CONTACTS = Number(process.env.TEND_CRASH_CONTACTS ?? 10_000);
const url = process.env.TEST_DATABASE_URL;

const journey = {
  name: 'Three emails and a coupon',
  trigger: { type: 'api' },
  steps: [
    { id: 'first', type: 'send', channel: 'email', content: { email: { subject: 'First {{ contact.id }}', html: '<p>Hello {{ contact.first_name }}</p>' } } },
    { id: 'coupon', type: 'coupon', prefix: 'BACK-', percentOff: 10, validFor: '30d' },
    { id: 'second', type: 'send', channel: 'email', content: { email: { subject: 'Second {{ contact.id }}', html: '<p>Your code: {{ coupon.code }}</p>' } } },
    { id: 'mark', type: 'update_contact', addTags: ['crash-tested'] },
    { id: 'third', type: 'send', channel: 'email', content: { email: { subject: 'Third {{ contact.id }}', html: '<p>Bye {{ contact.first_name }}</p>' } } },
  ],
};

type SinkStats = { received: number; distinct: number; redelivered: number; underTwoKeys: number; ids: string[] };

// Two worker processes (`tend worker`) take 10,000 contacts through a journey of three emails, a
// coupon and a profile update, sending to a real SMTP server, while one of them is killed with
// SIGKILL at random moments and started again, many times over.
test('workers killed at random moments: every message arrives, none under two keys, database effects once', { skip: url ? false : 'needs TEST_DATABASE_URL: two worker processes share one Postgres server (the embedded database has one writer)', timeout: 540_000 }, async (t) => {
  const sink = fork(new URL('../../bench/lib/smtp-sink.ts', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => sink.once('message', (m: { port: number }) => resolve(m.port)));
  const stats = () => new Promise<SinkStats>((resolve) => {
    sink.once('message', resolve);
    sink.send({ type: 'stats' });
  });
  const schema = `tend_test_crash_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ url: url!, dataDir: null, schema, poolSize: 4 });
  const tend = await createTend({ databaseUrl: url!, dataDir: '' }, { db });
  const workers: (ChildProcess | null)[] = [null, null];
  let kills = 0;
  try {
    const ws = (await tend.workspaces.createWithKeys('crash')).workspace.id;
    await saveMessagingPolicy(db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
    const now = new Date();
    await db.query(
      `insert into contacts (workspace_id, user_id, email, traits, first_seen_at, last_seen_at, created_at, updated_at)
       select $1, 'u' || i, 'c' || i || '@example.com', jsonb_build_object('first_name', 'C' || i), $2, $2, $2, $2 from generate_series(1, $3::int) as i`,
      [ws, now, CONTACTS],
    );
    await db.query(`insert into contact_consents (workspace_id, contact_id, channel, topic, granted, updated_at) select $1, id, 'email', '*', true, $2 from contacts where workspace_id = $1`, [ws, now]);
    const created = await tend.journeys.create(ws, journey);
    assert.ok(created.ok);
    assert.ok((await tend.journeys.publish(ws, created.value.id)).ok);
    const compiled = compileDefinition((await tend.journeys.version(ws, created.value.id, 1))!);
    const { rows: ids } = await db.query<{ id: number }>(`select id from contacts where workspace_id = $1 order by id`, [ws]);
    for (let i = 0; i < ids.length; i += 5000) {
      await db.transaction((tx) => enrol(tx, { workspaceId: ws, id: created.value.id, version: 1, compiled },
        ids.slice(i, i + 5000).map((c) => ({ contactId: c.id, entryKey: `crash:${c.id}`, trigger: { name: 'API Enrolment', properties: {}, source: 'api' } })), now));
    }

    const env = {
      ...process.env, DATABASE_URL: url!, TEND_DATABASE_SCHEMA: schema, TEND_SMTP_URL: `smtp://127.0.0.1:${port}`, TEND_EMAIL_FROM: 'Shop <shop@shop.example>',
      TEND_DELIVERY_LEASE_SECONDS: '10', TEND_DATABASE_POOL_SIZE: '4', LOG_LEVEL: 'silent',
    };
    const start = (i: number) => {
      workers[i] = spawn(process.execPath, ['--max-semi-space-size=16', 'bin/tend.js', 'worker'], { cwd: new URL('../../', import.meta.url).pathname, env, stdio: ['ignore', 'ignore', 'inherit'] });
    };
    start(0);
    start(1);
    const done = async () => {
      const { rows } = await db.query<{ live: number; pending: number }>(
        `select (select count(*)::int from journey_runs where workspace_id = $1 and state in ('active', 'waiting')) as live,
                (select count(*)::int from messages where workspace_id = $1 and status <> 'sent') as pending`,
        [ws],
      );
      return rows[0]!.live === 0 && rows[0]!.pending === 0;
    };
    const deadline = Date.now() + 420_000;
    let failedStarts = 0;
    while (!(await done())) {
      assert.ok(Date.now() < deadline, 'the workers did not finish in 7 minutes');
      for (const w of workers) if (w && w.exitCode !== null && w.exitCode !== 0 && w.signalCode === null) failedStarts++;
      assert.ok(failedStarts < 5, 'a worker process keeps exiting on its own');
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 2500));
      const victim = Math.floor(Math.random() * 2);
      const w = workers[victim]!;
      if (w.exitCode === null) {
        w.kill('SIGKILL');
        await once(w, 'exit');
        kills++;
      }
      start(victim);
    }

    const s = await stats();
    const { rows: expected } = await db.query<{ key: string }>(`select idempotency_key as key from messages where workspace_id = $1`, [ws]);
    assert.equal(expected.length, CONTACTS * 3, 'three messages recorded per contact');
    const arrived = new Set(s.ids);
    const missing = expected.filter((m) => !arrived.has(`<${m.key}@shop.example>`));
    assert.equal(missing.length, 0, 'every expected message arrived');
    assert.equal(s.distinct, CONTACTS * 3, 'no message arrived that was not recorded');
    assert.equal(s.underTwoKeys, 0, 'no message arrived under two different keys');
    const coupons = await db.query<{ runs: number; coupons: number }>(`select count(distinct run_id)::int as runs, count(*)::int as coupons from coupons where workspace_id = $1`, [ws]);
    assert.deepEqual(coupons.rows[0], { runs: CONTACTS, coupons: CONTACTS }, 'one coupon per contact: the step ran once');
    const tagged = await db.query<{ n: number }>(`select count(*)::int as n from contacts where workspace_id = $1 and traits->'tags' = '["crash-tested"]'`, [ws]);
    assert.equal(tagged.rows[0]!.n, CONTACTS);
    t.diagnostic(`${kills} kills; ${s.received} messages received for ${s.distinct} keys: ${s.redelivered} same-key redeliveries (a worker killed between the SMTP server's acceptance and Tend's record)`);
    assert.ok(kills >= 5, `the workers were killed ${kills} times`);
  } finally {
    for (const w of workers) if (w && w.exitCode === null) {
      w.kill('SIGKILL');
      await once(w, 'exit');
    }
    sink.send({ type: 'stop' });
    await tend.close();
    // A plain connection: opening Tend's database would migrate the default schema.
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
});
