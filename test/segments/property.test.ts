import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { memberQuery, SegmentRule } from '../../src/segments/index.ts';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const DAY = 86_400_000;

/** A small seeded generator (mulberry32). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}
type Rng = ReturnType<typeof rng>;

const names = ['Page Viewed', 'Product Added', 'Order Completed', 'Message Opened', 'Signed Up'];
const skus = ['A', 'B', 'C'];
const windows = ['1d', '7d', '30d', '90d', '1y'];

function randomLeaf(r: Rng, earlier: number[]): unknown {
  const op = r.pick(['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const);
  switch (r.int(10)) {
    case 0: return { type: 'trait', trait: 'plan', op: r.pick(['eq', 'neq', 'exists', 'not_exists', 'contains']), value: r.pick(['pro', 'basic', 'ro']) };
    case 1: return { type: 'trait', trait: 'age', op, value: 20 + r.int(50) };
    case 2: return { type: 'event', event: r.pick(names), within: r.next() < 0.6 ? r.pick(windows) : undefined, count: r.next() < 0.5 ? { op, value: r.int(4) } : undefined };
    case 3: return { type: 'event', event: 'Product Added', where: [{ path: 'sku', op: 'eq', value: r.pick(skus) }], within: r.pick(windows) };
    case 4: return { type: 'event_time', event: r.pick(names), which: r.pick(['first', 'last']), op: r.pick(['within_last', 'more_than_ago']), value: r.pick(windows) };
    case 5: return { type: 'orders', metric: r.pick(['count', 'total', 'average']), op, value: r.pick([0, 1, 2, 50, 120]), within: r.next() < 0.3 ? r.pick(windows) : undefined };
    case 6: return { type: 'orders', metric: r.pick(['first_order_at', 'last_order_at']), op: r.pick(['within_last', 'more_than_ago']), value: r.pick(windows) };
    case 7: return { type: 'bought', sku: r.pick(skus), within: r.next() < 0.5 ? r.pick(windows) : undefined };
    case 8: return { type: 'engagement', action: 'opened', within: r.pick(windows), count: r.next() < 0.3 ? { op: 'eq', value: 0 } : undefined };
    default: return earlier.length > 0 && r.next() < 0.6 ? { type: 'segment', segmentId: r.pick(earlier) } : { type: 'random', seed: 's', from: r.int(50), to: 50 + r.int(51) };
  }
}

function randomRule(r: Rng, depth: number, earlier: number[]): unknown {
  if (depth === 0 || r.next() < 0.4) return randomLeaf(r, earlier);
  const kind = r.pick(['and', 'or', 'not'] as const);
  if (kind === 'not') return { type: 'not', rule: randomRule(r, depth - 1, earlier) };
  return { type: kind, rules: Array.from({ length: 2 + r.int(2) }, () => randomRule(r, depth - 1, earlier)) };
}

/** Random shop history: identifies, anonymous visits later identified, events and orders over 400 days. */
function randomHistory(r: Rng, users: number, events: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let n = 0;
  const at = () => new Date(NOW - r.int(400 * DAY)).toISOString();
  for (let u = 0; u < users; u++) {
    out.push({ type: 'identify', messageId: `m${n++}`, userId: `u${u}`, timestamp: at(), traits: r.next() < 0.8 ? { plan: r.pick(['pro', 'basic', 'Pro Max']), age: 18 + r.int(60) } : {} });
  }
  for (let i = 0; i < events; i++) {
    const u = r.int(users);
    const anonymous = r.next() < 0.1;
    const who = anonymous ? { anonymousId: `anon-${u}` } : { userId: `u${u}` };
    const name = r.pick(names);
    const properties: Record<string, unknown> =
      name === 'Order Completed'
        ? { order_id: `o${i}`, total: 10 + r.int(150), products: [{ sku: r.pick(skus), quantity: 1 + r.int(2), price: 10 }] }
        : name === 'Product Added'
          ? { sku: r.pick(skus) }
          : name === 'Message Opened' ? { channel: r.pick(['email', 'sms']) } : {};
    out.push({ type: 'track', messageId: `m${n++}`, ...who, event: name, timestamp: at(), properties });
    // Some anonymous visitors identify later, merging their profile.
    if (anonymous && r.next() < 0.5) out.push({ type: 'identify', messageId: `m${n++}`, anonymousId: `anon-${u}`, userId: `u${u}`, timestamp: at() });
  }
  return out;
}

for (const target of testDatabases()) {
  describe(`segment membership: incremental = full recomputation (${target.name})`, () => {
    let tend: Tend;
    const clock = new VirtualClock(new Date(NOW));
    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    });
    after(() => tend.close());

    const iterations = target.name === 'embedded' ? 6 : 10;
    for (let seed = 1; seed <= iterations; seed++) {
      it(`random rules and histories, seed ${seed}`, async () => {
        const r = rng(seed * 7919);
        const ws = (await tend.workspaces.createWithKeys(`prop-${seed}`)).workspace.id;
        await tend.db.query(`insert into products (workspace_id, sku, name, created_at, updated_at) select $1, s, s, now(), now() from unnest($2::text[]) s`, [ws, skus]);
        const ids: number[] = [];
        const rules: SegmentRule[] = [];
        for (let k = 0; k < 8; k++) {
          const rule = SegmentRule.parse(randomRule(r, 3, ids));
          const created = await tend.segments.create(ws, { name: `s${k}`, description: '', rule });
          assert.ok(created.ok, JSON.stringify(created));
          ids.push(created.value.id);
          rules.push(rule);
        }
        // Incremental: the history arrives in batches; the updater re-evaluates touched contacts.
        const history = randomHistory(r, 25, 250);
        for (let i = 0; i < history.length; i += 40) {
          const res = await tend.ingest.ingest(ws, history.slice(i, i + 40));
          assert.deepEqual(res.rejected, []);
          await tend.segmentUpdater.flush();
        }
        for (let k = 0; k < ids.length; k++) {
          const incremental = (
            await tend.db.query<{ contact_id: number }>(
              `select contact_id from segment_memberships where workspace_id = $1 and segment_id = $2 and exited_at is null order by 1`,
              [ws, ids[k]],
            )
          ).rows.map((x) => x.contact_id);
          const q = memberQuery(rules[k]!, ws, clock.now(), 'set');
          const full = (await tend.db.query<{ id: number }>(`${q.sql} order by 1`, q.params)).rows.map((x) => x.id);
          assert.deepEqual(incremental, full, `segment s${k} ${JSON.stringify(rules[k])}`);
        }
        // And a scheduled recompute at the same moment finds nothing to change.
        for (const res of await tend.segments.recomputeAll(ws)) assert.deepEqual([res.entered, res.exited], [0, 0], res.name);
      });
    }
  });
}
