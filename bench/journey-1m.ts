// One journey step for a million contacts, on the Postgres server. Contacts with email consent
// enter a journey (wait 1 day → send an email → end); the benchmark lets the virtual clock pass the
// day and times the runner taking every contact through the send step (the policy gate with the
// default frequency caps, the message recorded for delivery, the run moved on). Delivery itself
// is `npm run bench -- send`. Done at 10,000, 100,000 and 1,000,000 contacts waiting, and within
// each run the cost of the first and the last tenth of the batches, to show whether the cost of a
// step stays flat as the number of contacts waiting grows.
//   npm run bench -- journey-1m [--sizes 10000,100000,1000000] [--batch N] [--keep]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/index.ts';
import { createTend } from '../src/tend.ts';
import { VirtualClock, DAY_MS } from '../src/core/clock.ts';
import { enrol } from '../src/journeys/enrol.ts';
import { compileDefinition } from '../src/journeys/decide.ts';
import { fmt, serverUrl } from './lib/stats.ts';
import pg from 'pg';

const definition = {
  name: 'Replenishment reminder',
  trigger: { type: 'api' },
  steps: [
    { id: 'wait', type: 'wait', duration: '1d' },
    { id: 'remind', type: 'send', channel: 'email', content: { email: { subject: '{{ contact.first_name }}, your filters are due', html: '<p>Hi {{ contact.first_name }}</p>' } } },
  ],
};

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string', default: '10000,100000,1000000' }, batch: { type: 'string', default: '500' }, keep: { type: 'boolean' } } });
  const sizes = values.sizes.split(',').map(Number);
  const batch = Number(values.batch);
  const schema = `bench_journey_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ url: serverUrl(), dataDir: null, schema, poolSize: 4 });
  const clock = new VirtualClock('2026-06-01T08:00:00Z');
  const tend = await createTend({ databaseUrl: serverUrl(), dataDir: '' }, { db, clock });
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  try {
    const ws = (await tend.workspaces.createWithKeys('bench-journey')).workspace.id;
    const results: string[] = [];
    for (const size of sizes) {
      const created = await tend.journeys.create(ws, { ...definition, name: `${definition.name} (${fmt(size)})` });
      if (!created.ok) throw new Error(created.problem.message);
      const published = await tend.journeys.publish(ws, created.value.id);
      if (!published.ok) throw new Error(published.problem.message);
      const journeyId = created.value.id;
      const compiled = compileDefinition((await tend.journeys.version(ws, journeyId, 1))!);

      // Contacts of their own for each size, so every run starts with exactly `size` waiting.
      const now = clock.now();
      const t0 = performance.now();
      const { rows: first } = await db.query<{ id: number | null }>(`select max(id) as id from contacts where workspace_id = $1`, [ws]);
      const from = (first[0]!.id ?? 0) + 1;
      await db.query(
        `insert into contacts (workspace_id, id, user_id, email, traits, timezone, first_seen_at, last_seen_at, created_at, updated_at)
         select $1, i, 'u' || i, 'customer' || i || '@example.com', jsonb_build_object('first_name', 'Customer ' || i), 'Europe/Warsaw', $2, $2, $2, $2
           from generate_series($3::bigint, $4::bigint) as i`,
        [ws, now, from, from + size - 1],
      );
      await db.query(
        `insert into contact_consents (workspace_id, contact_id, channel, topic, granted, updated_at)
         select $1, i, 'email', '*', true, $2 from generate_series($3::bigint, $4::bigint) as i`,
        [ws, now, from, from + size - 1],
      );
      const loadSeconds = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      for (let i = 0; i < size; i += 10_000) {
        const entries = Array.from({ length: Math.min(10_000, size - i) }, (_, k) => ({ contactId: from + i + k, entryKey: `bench:${from + i + k}`, trigger: { name: 'API Enrolment', properties: {}, source: 'api' } }));
        await db.transaction((tx) => enrol(tx, { workspaceId: ws, id: journeyId, version: 1, compiled }, entries, now));
      }
      const enrolSeconds = (performance.now() - t1) / 1000;
      const t2 = performance.now();
      while ((await tend.runner.tick(batch)) > 0);
      const parkSeconds = (performance.now() - t2) / 1000;
      await db.query('analyze journey_runs');

      // The day passes: every contact's wait ends, and the send step runs for all of them.
      clock.advance(DAY_MS);
      const load = loadavg()[0]!;
      const times: number[] = [];
      const t3 = performance.now();
      for (;;) {
        const b0 = performance.now();
        const n = await tend.runner.tick(batch);
        if (n === 0) break;
        times.push(((performance.now() - b0) * 1000) / n);
      }
      const stepSeconds = (performance.now() - t3) / 1000;
      const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from messages where workspace_id = $1 and journey_id = $2`, [ws, journeyId]);
      const tenth = Math.max(1, Math.floor(times.length / 10));
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const line =
        `${fmt(size).padStart(9)} contacts: send step ${stepSeconds.toFixed(1)} s (${fmt(size / stepSeconds)} contacts/s, ${fmt((stepSeconds * 1e6) / size)} µs each); ` +
        `first tenth of batches ${fmt(mean(times.slice(0, tenth)))} µs/contact, last tenth ${fmt(mean(times.slice(-tenth)))} µs/contact; ` +
        `${fmt(rows[0]!.n)} messages recorded; load ${load.toFixed(1)}`;
      console.log(line);
      console.log(`           (set-up: contacts ${loadSeconds.toFixed(1)} s, enrolment ${enrolSeconds.toFixed(1)} s = ${fmt(size / enrolSeconds)}/s, first step (the wait) ${parkSeconds.toFixed(1)} s = ${fmt(size / parkSeconds)}/s)`);
      results.push(line);
    }
    console.log(`peak RSS ${fmt(peak / 2 ** 20)} MiB`);
  } finally {
    clearInterval(sampler);
    await tend.close();
    if (!values.keep) {
      // A plain connection: opening Tend's database would migrate the default schema.
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  }
}
