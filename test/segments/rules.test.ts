import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { memberQuery, SegmentRule } from '../../src/segments/index.ts';
import { loadFixture, NOW } from './fixture.ts';

type Case = [string, unknown, string[]];
const cases: Case[] = [
  ['trait equals', { type: 'trait', trait: 'plan', op: 'eq', value: 'pro' }, ['alice']],
  ['trait contains (case-insensitive)', { type: 'trait', trait: 'plan', op: 'contains', value: 'pro' }, ['alice', 'dave']],
  ['trait number', { type: 'trait', trait: 'age', op: 'gte', value: 40 }, ['bob']],
  ['trait in', { type: 'trait', trait: 'plan', op: 'in', value: ['basic', 'pro'] }, ['alice', 'bob']],
  ['trait exists', { type: 'trait', trait: 'birthday', op: 'exists' }, ['alice', 'bob', 'dave', 'erin']],
  ['not trait exists', { type: 'not', rule: { type: 'trait', trait: 'plan', op: 'exists' } }, ['anon-carol', 'erin']],
  ['trait not equal includes missing', { type: 'trait', trait: 'plan', op: 'neq', value: 'pro' }, ['anon-carol', 'bob', 'dave', 'erin']],
  ['number comparison ignores text values', { type: 'trait', trait: 'score', op: 'gt', value: 0 }, []],
  ['built-in field', { type: 'trait', trait: '$email', op: 'exists' }, ['alice', 'bob']],
  ['built-in time', { type: 'trait', trait: '$first_seen_at', op: 'within_last', value: '60d' }, ['anon-carol', 'erin']],
  ['date trait before', { type: 'trait', trait: 'birthday', op: 'before', value: '1989-01-01' }, ['bob']],
  ['visited in the last 90 days', { type: 'event', eventType: 'page', within: '90d' }, ['alice']],
  ['no visit in the last 90 days', { type: 'event', eventType: 'page', within: '90d', count: { op: 'eq', value: 0 } }, ['anon-carol', 'bob', 'dave', 'erin']],
  ['event at least 3 times', { type: 'event', event: 'Order Completed', count: { op: 'gte', value: 3 } }, ['alice']],
  ['event fewer than 2 times', { type: 'event', event: 'Order Completed', count: { op: 'lt', value: 2 } }, ['anon-carol', 'bob', 'dave', 'erin']],
  ['event within an hour', { type: 'event', event: 'Product Added', within: '1h' }, ['anon-carol']],
  ['event with property filter', { type: 'event', event: 'Product Added', where: [{ path: 'sku', op: 'eq', value: 'KETTLE' }] }, ['anon-carol']],
  ['event property filter misses', { type: 'event', event: 'Product Added', where: [{ path: 'sku', op: 'eq', value: 'FILTER-1' }] }, []],
  ['last visit more than 90 days ago', { type: 'event_time', eventType: 'page', which: 'last', op: 'more_than_ago', value: '90d' }, ['bob']],
  ['first event after a date', { type: 'event_time', which: 'first', op: 'after', value: '2026-04-01' }, ['anon-carol', 'erin']],
  ['has ordered', { type: 'orders', metric: 'count', op: 'gte', value: 1 }, ['alice', 'dave']],
  ['spent more than 100', { type: 'orders', metric: 'total', op: 'gt', value: 100 }, ['alice']],
  ['spent less than 100 (including nothing)', { type: 'orders', metric: 'total', op: 'lt', value: 100 }, ['anon-carol', 'bob', 'dave', 'erin']],
  ['average order value', { type: 'orders', metric: 'average', op: 'gte', value: 50 }, ['alice', 'dave']],
  ['ordered within 30 days', { type: 'orders', metric: 'last_order_at', op: 'within_last', value: '30d' }, ['alice']],
  ['first order before', { type: 'orders', metric: 'first_order_at', op: 'before', value: '2026-02-01' }, ['alice']],
  ['orders in a window', { type: 'orders', metric: 'count', op: 'gte', value: 2, within: '180d' }, ['alice']],
  ['bought a product', { type: 'bought', sku: 'FILTER-1' }, ['alice']],
  ['bought in a category', { type: 'bought', category: 'Kitchen' }, ['alice', 'dave']],
  ['bought in a category recently', { type: 'bought', category: 'Kitchen', within: '90d' }, ['alice']],
  ['birthday today in their own zone', { type: 'date', field: 'birthday', match: 'anniversary' }, ['alice', 'erin']],
  ['first purchase + 3 months is today', { type: 'date', field: '$first_order_at', match: 'on', offset: '+3mo' }, ['dave']],
  ['warranty ends in 30 days', { type: 'date', field: 'warranty_end', match: 'on', offset: '-30d' }, ['erin']],
  ['opened an email in 30 days', { type: 'engagement', action: 'opened', within: '30d' }, ['alice']],
  ['opened an SMS', { type: 'engagement', action: 'opened', channel: 'sms' }, []],
  ['reachable by email', { type: 'reachable', channel: 'email' }, ['alice']],
  ['reachable by email, topic not refused', { type: 'reachable', channel: 'email', topic: 'offers' }, ['alice']],
  ['and / not', { type: 'and', rules: [{ type: 'trait', trait: 'plan', op: 'exists' }, { type: 'not', rule: { type: 'orders', metric: 'count', op: 'gte', value: 1 } }] }, ['bob']],
  ['or', { type: 'or', rules: [{ type: 'bought', sku: 'FILTER-1' }, { type: 'event', event: 'Product Added' }] }, ['alice', 'anon-carol']],
  ['random: everyone', { type: 'random', from: 0, to: 100 }, ['alice', 'anon-carol', 'bob', 'dave', 'erin']],
  ['random: nobody', { type: 'random', from: 0, to: 0 }, []],
  ['score text', { type: 'score', field: 'rfm_cell', op: 'eq', value: 'Champions' }, ['alice']],
  ['score number', { type: 'score', field: 'p_alive', op: 'lt', value: 0.5 }, ['bob']],
];

for (const target of testDatabases()) {
  describe(`segment rules (${target.name})`, () => {
    let tend: Tend;
    let ws: string;
    const clock = new VirtualClock(NOW);
    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      ws = (await tend.workspaces.createWithKeys('segments')).workspace.id;
      await loadFixture(tend, ws);
      await tend.db.query(
        `insert into contact_scores (workspace_id, contact_id, rfm_cell, p_alive, scored_at)
         select $1, id, case user_id when 'alice' then 'Champions' else 'Lost' end, case user_id when 'alice' then 0.9 else 0.1 end, now()
           from contacts where workspace_id = $1 and user_id in ('alice', 'bob')`,
        [ws],
      );
    });
    after(() => tend.close());

    const names = async (ids: number[]) => {
      const { rows } = await tend.db.query<{ n: string }>(
        `select coalesce(c.user_id, (select min(alias_id) from contact_aliases a where a.workspace_id = c.workspace_id and a.contact_id = c.id)) as n
           from contacts c where c.workspace_id = $1 and c.id = any($2::bigint[]) order by 1`,
        [ws, ids],
      );
      return rows.map((r) => r.n);
    };
    const members = async (rule: SegmentRule, mode: 'set' | 'contact') => {
      const all = (await tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1`, [ws])).rows.map((r) => r.id);
      const q = memberQuery(rule, ws, clock.now(), mode, mode === 'contact' ? all : undefined);
      return names((await tend.db.query<{ id: number }>(q.sql, q.params)).rows.map((r) => r.id));
    };

    for (const [title, raw, expected] of cases) {
      it(title, async () => {
        const rule = SegmentRule.parse(raw);
        assert.deepEqual(await members(rule, 'set'), expected, 'set mode (full recompute)');
        assert.deepEqual(await members(rule, 'contact'), expected, 'contact mode (incremental)');
      });
    }

    it('a 29 February birthday falls on 28 February in other years', async () => {
      clock.set('2027-02-28T12:00:00Z');
      try {
        assert.deepEqual(await members(SegmentRule.parse({ type: 'date', field: 'birthday', match: 'anniversary' }), 'set'), ['bob']);
      } finally {
        clock.set(NOW);
      }
    });

    it('membership of another segment', async () => {
      const pro = await tend.segments.create(ws, { name: 'Pro', description: '', rule: { type: 'trait', trait: 'plan', op: 'eq', value: 'pro' } });
      assert.ok(pro.ok);
      const rule = SegmentRule.parse({ type: 'segment', segmentId: pro.value.id });
      assert.deepEqual(await members(rule, 'set'), ['alice']);
      assert.deepEqual(await members(rule, 'contact'), ['alice']);
    });

    it('refuses rules that cannot be compiled, naming the problem', async () => {
      const bad = await tend.segments.preview(ws, SegmentRule.parse({ type: 'trait', trait: 'birthday', op: 'before', value: '90d' }));
      assert.equal(bad.ok, false);
      assert.match(!bad.ok ? bad.problem.message : '', /duration/);
      const missing = await tend.segments.preview(ws, SegmentRule.parse({ type: 'segment', segmentId: 999999 }));
      assert.equal(missing.ok, false);
      assert.equal(SegmentRule.safeParse({ type: 'event', within: 'ninety days' }).success, false);
      assert.equal(SegmentRule.safeParse({ type: 'nope' }).success, false);
    });
  });
}
