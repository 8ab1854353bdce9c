// Segment speed on a large shop: full recomputation of 20 typical care-model segments, the time
// from an event to the updated membership of its contact, and — as the limit — one hand-written
// query that computes the same members in a single pass, all on the Postgres server.
//   npm run bench -- segments [--contacts 1000000] [--events 10000000] [--samples 200] [--keep] [--reuse SCHEMA]
// --keep leaves the loaded shop in its schema; --reuse SCHEMA runs again on a shop kept earlier
// (loading ten million events takes minutes).
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../src/db/index.ts';
import { createTend } from '../src/tend.ts';
import { VirtualClock } from '../src/core/clock.ts';
import { SegmentRule } from '../src/segments/index.ts';
import { fmt, quantile, serverUrl } from './lib/stats.ts';
import { careModelSegments, loadShop, NOW, singlePassQuery } from './lib/segments-shop.ts';

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      contacts: { type: 'string', default: '1000000' }, events: { type: 'string', default: '10000000' }, samples: { type: 'string', default: '200' },
      keep: { type: 'boolean' }, reuse: { type: 'string' },
    },
  });
  const contacts = Number(values.contacts);
  const events = Number(values.events);
  const schema = values.reuse ?? `bench_segments_${randomBytes(4).toString('hex')}`;
  const url = serverUrl();
  const db = await openDatabase({ url, dataDir: null, schema, poolSize: 4 });
  const clock = new VirtualClock(NOW);
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db, clock });
  try {
    if (values.reuse) {
      const { rows } = await db.query<{ contacts: number; events: number }>(
        `select (select count(*) from contacts where workspace_id = 'bench')::int as contacts, (select count(*) from events where workspace_id = 'bench')::int as events`,
      );
      if (rows[0]!.contacts === 0) throw new Error(`schema ${schema} holds no benchmark shop`);
      await db.query(`delete from segment_memberships where workspace_id = 'bench'`);
      await db.query(`delete from segments where workspace_id = 'bench'`);
      // What an earlier run's latency samples added: their events, orders and carts.
      await db.query(`delete from events where workspace_id = 'bench' and (message_id like 'bench-%' or message_id like 'segment:%')`);
      await db.query(`delete from order_items where workspace_id = 'bench' and order_id like 'bench-o%'`);
      await db.query(`delete from orders where workspace_id = 'bench' and order_id like 'bench-o%'`);
      await db.query(`delete from cart_items where workspace_id = 'bench' and cart_id like 'bench-%'`);
      await db.query(`delete from carts where workspace_id = 'bench' and cart_id like 'bench-%'`);
      console.log(`segments: reusing the shop in schema ${schema}: ${fmt(rows[0]!.contacts)} contacts, ${fmt(rows[0]!.events)} events`);
    } else {
      console.log(`segments: loading a shop of ${fmt(contacts)} contacts and ${fmt(events)} events into schema ${schema} …`);
      const loadStarted = performance.now();
      await loadShop(db, contacts, events);
      console.log(`  loaded in ${fmt((performance.now() - loadStarted) / 1000, 1)} s`);
    }

    // 1. Full recomputation of all 20 segments (each created, then recomputed from scratch).
    const ids: number[] = [];
    for (const s of careModelSegments) {
      const created = await tend.segments.create('bench', { name: s.name, description: '', rule: SegmentRule.parse(s.rule(ids)) });
      if (!created.ok) throw new Error(`${s.name}: ${created.problem.message}`);
      ids.push(created.value.id);
    }
    const started = performance.now();
    const results = await tend.segments.recomputeAll('bench');
    const fullSeconds = (performance.now() - started) / 1000;
    for (const r of results) console.log(`  ${r.name.padEnd(44)} ${fmt(r.members).padStart(9)} members  ${fmt(r.ms).padStart(6)} ms`);
    console.log(`full recompute of ${results.length} segments: ${fmt(fullSeconds, 1)} s (target < 60 s): ${fullSeconds < 60 ? 'met' : 'NOT met'}`);

    // 2. The limit: one hand-written query computing the same 20 memberships in one pass.
    const q = singlePassQuery();
    const t0 = performance.now();
    const { rows } = await db.query<Record<string, number>>(q.sql, ['bench', new Date(NOW), ...q.params]);
    const handSeconds = (performance.now() - t0) / 1000;
    const mismatches = results.flatMap((r, i) => (rows[0]![`s${i}`] === r.members ? [] : [`${r.name}: Tend ${r.members}, hand-written ${rows[0]![`s${i}`]}`]));
    console.log(`hand-written single-pass query for the same 20 segments: ${fmt(handSeconds, 1)} s; Tend / hand-written: ${fmt(fullSeconds / handSeconds, 2)}×`);
    console.log(mismatches.length === 0 ? '  member counts agree for every segment' : `  member counts DIFFER:\n  ${mismatches.join('\n  ')}`);

    // 3. Event → updated membership of the affected contact, one event at a time.
    const latencies: number[] = [];
    const samples = Number(values.samples);
    for (let i = 0; i < samples; i++) {
      const user = `u${1 + ((i * 7_919) % contacts)}`;
      const event =
        i % 3 === 0
          ? { type: 'track', userId: user, event: 'Product Added', properties: { sku: 'SKU-7', cart_id: `bench-${i}` } }
          : i % 3 === 1
            ? { type: 'page', userId: user, name: 'Home', properties: { path: '/' } }
            : { type: 'track', userId: user, event: 'Order Completed', properties: { order_id: `bench-o${i}`, total: 120, products: [{ sku: 'SKU-3', price: 120, quantity: 1 }] } };
      const t = performance.now();
      await tend.ingest.ingest('bench', [{ ...event, messageId: `bench-${schema}-${i}`, timestamp: new Date(Date.parse(NOW) - 1000).toISOString() }]);
      await tend.segmentUpdater.flush();
      latencies.push(performance.now() - t);
    }
    const p99 = quantile(latencies, 0.99);
    console.log(`event → updated membership (${samples} events, ingest + re-evaluation of 20 segments): p50 ${fmt(quantile(latencies, 0.5), 1)} ms, p99 ${fmt(p99, 1)} ms (target p99 < 50 ms): ${p99 < 50 ? 'met' : 'NOT met'}`);
  } finally {
    if (!values.keep && !values.reuse) await db.query(`drop schema ${schema} cascade`);
    else console.log(`the shop stays in schema ${schema}: run again with --reuse ${schema}; drop it with: drop schema ${schema} cascade`);
    await tend.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
