// A rescoring writes only the rows whose scores moved beyond their tolerance (changes.ts). What it
// leaves must still be right: every stored number within its tolerance of a fresh scoring, every
// category exact, and every change of cell, band or stage announced once, exactly those.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock, DAY_MS } from '../../src/core/clock.ts';
import { dayOf, loadSimulatedOrders, utcDate } from '../../src/models/scores/index.ts';
import { createScorer, type CustomerScore } from '../../src/models/scores/score.ts';
import { inputsOf, readRescorePage, readScorePage } from '../../src/models/scores/pages.ts';
import { noneStored, readStoredRange } from '../../src/models/scores/sql/stored-scores.ts';
import { latestFit, loadSettings } from '../../src/models/scores/store.ts';
import { scoreChanges, writeBatch } from '../../src/models/scores/writer.ts';

type Row = {
  contact_id: number; rfm_cell: string | null; churn_band: string | null; lifecycle_stage: string; recency_score: number | null; monetary_score: number | null;
  p_alive: number | null; churn_risk: number | null; p_order_90d: number | null; expected_purchases_30d: number | null; expected_purchases_90d: number | null;
  expected_purchases_365d: number | null; predicted_clv: number | null; next_day: number | null; purchase_days: number; last_day: number | null; scored_at: Date;
  fingerprint: number | null;
};
const kinds = { 'RFM Cell Changed': 'rfm_cell', 'Churn Risk Changed': 'churn_band', 'Lifecycle Stage Changed': 'lifecycle_stage' } as const;

for (const target of testDatabases()) {
  describe(`rescoring writes what changed (${target.name})`, () => {
    let tend: Tend;
    let ws: string;
    const clock = new VirtualClock('2026-06-15T06:00:00Z');

    const stored = async (): Promise<Map<number, Row>> => {
      const { rows } = await tend.db.query<Row>(
        `select contact_id, rfm_cell, churn_band, lifecycle_stage, recency_score, monetary_score, p_alive, churn_risk, p_order_90d,
                expected_purchases_30d, expected_purchases_90d, expected_purchases_365d, predicted_clv,
                expected_next_order_at - date '1970-01-01' as next_day, purchase_days, last_order_date - date '1970-01-01' as last_day, scored_at, fingerprint
           from contact_scores where workspace_id = $1`,
        [ws],
      );
      return new Map(rows.map((r) => [r.contact_id, r]));
    };
    // Every contact scored afresh as of today, the way a full run computes them.
    const fresh = async (): Promise<Map<number, CustomerScore>> => {
      const asOf = utcDate(clock.now());
      const score = createScorer({ asOf, fit: await latestFit(tend.db, ws), settings: await loadSettings(tend.db, ws) });
      return new Map(inputsOf(await readScorePage(tend.db, ws, asOf, 0, 100_000)).map((c) => [c.contactId, score(c)]));
    };
    const announced = async (at: Date) =>
      (await tend.db.query<{ contact_id: number; name: keyof typeof kinds; properties: { from: string; to: string } }>(
        `select contact_id, name, properties from events where workspace_id = $1 and name = any($2::text[]) and occurred_at = $3`,
        [ws, Object.keys(kinds), at],
      )).rows.map((e) => `${e.contact_id} ${e.name} ${e.properties.from} > ${e.properties.to}`).sort();

    /** What a scoring left must be within the documented steps of a fresh scoring, categories exact. */
    function assertWithinTolerance(rows: Map<number, Row>, scores: Map<number, CustomerScore>) {
      assert.equal(rows.size, scores.size);
      const asOfDay = dayOf(utcDate(clock.now()));
      const logStep = (a: number | null, b: number | null, scale: number, what: string) => {
        assert.equal(a === null, b === null, what);
        if (a !== null && b !== null) assert.ok(Math.abs(Math.log1p(a / scale) - Math.log1p(b / scale)) < Math.log(1.02) + 1e-5, `${what}: stored ${a}, now ${b}`);
      };
      for (const [id, s] of scores) {
        const r = rows.get(id);
        assert.ok(r, `contact ${id} has scores`);
        const at = `contact ${id}`;
        assert.deepEqual([r.rfm_cell, r.churn_band, r.lifecycle_stage, r.recency_score, r.monetary_score, r.purchase_days, r.last_day], [s.rfmCell, s.churnBand, s.lifecycleStage, s.recencyScore, s.monetaryScore, s.purchaseDays, s.lastOrderDay], at);
        for (const [a, b] of [[r.p_alive, s.pAlive], [r.p_order_90d, s.pOrder90d]] as const) {
          assert.equal(a === null, b === null, at);
          if (a !== null && b !== null) assert.ok(Math.abs(a - b) < 0.01 + 1e-6, `${at}: probability stored ${a}, now ${b}`);
        }
        if (r.p_alive !== null) assert.ok(Math.abs(r.churn_risk! - (1 - r.p_alive)) < 1e-9, at);
        logStep(r.expected_purchases_30d, s.expectedPurchases30d, 0.25, `${at} 30 days`);
        logStep(r.expected_purchases_90d, s.expectedPurchases90d, 0.25, `${at} 90 days`);
        logStep(r.expected_purchases_365d, s.expectedPurchases365d, 0.25, `${at} 365 days`);
        logStep(r.predicted_clv, s.predictedClv, 25, `${at} lifetime value`);
        assert.equal(r.next_day === null, s.expectedNextOrderDay === null, at);
        if (r.next_day !== null) assert.ok(Math.abs(r.next_day - s.expectedNextOrderDay!) <= Math.max(1, 0.05 * (s.expectedNextOrderDay! - asOfDay)), `${at}: next order ${r.next_day}, now ${s.expectedNextOrderDay}`);
      }
    }

    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      ws = (await tend.workspaces.createWithKeys('rescoring')).workspace.id;
      const options = { customers: 1500, bgnbd: { r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 }, spend: { p: 6.25, q: 3.74, gamma: 15.44 }, asOf: '2026-06-14', ageDays: { min: 60, max: 700 }, seed: 11 };
      await loadSimulatedOrders(tend.db, ws, options, clock.now());
      const { scored } = await tend.models.fit(ws);
      assert.equal(scored!.written, 1500); // a first scoring writes every row, straight into the table
    });
    after(() => tend.close());

    it('scoring again at once writes nothing and announces nothing', async () => {
      const before = await stored();
      const run = await tend.models.score(ws);
      assert.deepEqual([run.written, run.unchanged, run.scored], [0, 1500, 1500]);
      assert.deepEqual(await stored(), before);
    });

    for (const days of [1, 6, 30]) {
      it(`${days} day(s) later: only rows that moved are written, every row is still right, every change is announced once`, async () => {
        const previous = await stored();
        clock.advance(days * DAY_MS);
        const run = await tend.models.score(ws);
        const rows = await stored();
        assert.equal(run.written + run.unchanged, run.scored);
        assert.ok(run.written > 0 && run.unchanged > 0, `written ${run.written}, unchanged ${run.unchanged}`);
        if (days === 1) assert.ok(run.written < run.scored / 2, `a day later ${run.written} of ${run.scored} rows written`);
        // Rows left as they were keep their time; the written ones carry this run's.
        assert.equal([...rows.values()].filter((r) => r.scored_at.getTime() === clock.now().getTime()).length, run.written);
        assertWithinTolerance(rows, await fresh());
        // The events of this run are exactly the category changes between the two tables.
        const expected: string[] = [];
        for (const [id, r] of rows) {
          const p = previous.get(id)!;
          for (const [name, column] of Object.entries(kinds)) {
            if (p[column] !== null && r[column] !== null && p[column] !== r[column]) expected.push(`${id} ${name} ${p[column]} > ${r[column]}`);
          }
        }
        assert.deepEqual(await announced(clock.now()), expected.sort());
        assert.equal(run.stageChanges + run.rfmChanges + run.churnChanges, expected.length);
        // The same run again: nothing more.
        const again = await tend.models.score(ws);
        assert.equal(again.written, 0);
        assert.deepEqual(await announced(clock.now()), expected.sort());
      });
    }

    // The order summary stored with each row (in its columns and packed, as the next rescoring
    // reads it), against the orders aggregated afresh as of today.
    const assertSummariesHold = async () => {
      const asOf = utcDate(clock.now());
      const expected = new Map(inputsOf(await readScorePage(tend.db, ws, asOf, 0, 100_000)).map((c) => [c.contactId, c]));
      const { rows } = await tend.db.query<{ id: number; days: number; first: number | null; last: number | null }>(
        `select contact_id as id, purchase_days as days, first_order_date - date '1970-01-01' as first, last_order_date - date '1970-01-01' as last
           from contact_scores where workspace_id = $1`,
        [ws],
      );
      const packed = await readStoredRange(tend.db, ws, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(rows.length, expected.size);
      assert.equal(packed.id.length, expected.size);
      const want = (id: number) => {
        const c = expected.get(id)!;
        return c.x === null ? [0, null, null, null, null, null] : [c.x + 1, c.firstDay, c.lastDay, c.lastGap, c.repeatSpend, c.spend];
      };
      for (const r of rows) assert.deepEqual([r.days, r.first, r.last], want(r.id).slice(0, 3), `contact ${r.id}`);
      packed.id.forEach((id, i) => {
        const state = [packed.purchase_days[i], packed.first_day[i], packed.last_day[i], packed.last_gap[i], packed.repeat_spend[i], packed.spend[i]];
        assert.deepEqual(state, want(id), `contact ${id}, packed`);
      });
    };

    it('reuses the stored order summaries: aggregates only the customers whose orders changed, and stays exact', async () => {
      await tend.models.score(ws);
      const customers = (await tend.db.query<{ id: number }>(
        `select contact_id as id from orders where workspace_id = $1 and status = 'completed' group by contact_id having count(*) >= 2 order by contact_id limit 8`, [ws],
      )).rows.map((r) => r.id);
      const [added, refunded, repriced, deleted, backdated, movedFrom, movedTo, future] = customers as [number, number, number, number, number, number, number, number];
      const orderOf = async (id: number) => (await tend.db.query<{ order_id: string }>(`select order_id from orders where workspace_id = $1 and contact_id = $2 and status = 'completed' order by ordered_at desc limit 1`, [ws, id])).rows[0]!.order_id;
      const insert = (id: number, orderId: string, at: Date) =>
        tend.db.query(`insert into orders (workspace_id, order_id, contact_id, total, ordered_at, created_at, updated_at) values ($1, $2, $3, 42.5, $4, $4, $4)`, [ws, orderId, id, at]);
      // Every way orders change, straight in the table (the trigger sees every writer alike).
      await insert(added, 'reuse-added', clock.now());
      await tend.db.query(`update orders set status = 'refunded' where workspace_id = $1 and order_id = $2`, [ws, await orderOf(refunded)]);
      await tend.db.query(`update orders set total = total + 10 where workspace_id = $1 and order_id = $2`, [ws, await orderOf(repriced)]);
      await tend.db.query(`delete from orders where workspace_id = $1 and order_id = $2`, [ws, await orderOf(deleted)]);
      await insert(backdated, 'reuse-backdated', new Date(clock.now().getTime() - 200 * DAY_MS));
      await tend.db.query(`update orders set contact_id = $3 where workspace_id = $1 and order_id = $2`, [ws, await orderOf(movedFrom), movedTo]);
      // An order dated tomorrow: today's scoring leaves it out; tomorrow's must count it, although
      // no order of that customer is written in between.
      await insert(future, 'reuse-future', new Date(clock.now().getTime() + DAY_MS));
      const today = await tend.models.score(ws);
      assert.equal(today.aggregated, 8, 'the eight customers whose orders were written');
      await assertSummariesHold();
      clock.advance(DAY_MS);
      const tomorrow = await tend.models.score(ws);
      assert.equal(tomorrow.aggregated, 1, 'the customer with an order on the new day');
      await assertSummariesHold();
      assertWithinTolerance(await stored(), await fresh());
    });

    it('a back-test aggregates everybody, and the next run catches up on the days it left out', async () => {
      const backTest = await tend.models.score(ws, { asOf: utcDate(new Date(clock.now().getTime() - 40 * DAY_MS)) });
      assert.ok(backTest.aggregated > 1000, `a back-test aggregated ${backTest.aggregated}`);
      const today = await tend.models.score(ws);
      assert.ok(today.aggregated > 0);
      await assertSummariesHold();
      assertWithinTolerance(await stored(), await fresh());
    });

    const mark = async () => (await tend.db.query<{ mark: string | null }>(`select snapshot_xmin::text as mark from score_runs where workspace_id = $1`, [ws])).rows[0]!.mark;
    const aCustomer = async () => (await tend.db.query<{ id: number }>(`select contact_id as id from customer_order_versions where workspace_id = $1 order by contact_id limit 1`, [ws])).rows[0]!.id;

    it('reads only the order versions bumped since the last run began, and every version when that run recorded no mark', async () => {
      await tend.models.score(ws);
      assert.notEqual(await mark(), null, 'a run records the mark it began at');
      // A version moved by something other than the orders' trigger: no transaction is recorded with
      // it, so only a run that reads every version sees it.
      await tend.db.query(`update customer_order_versions set version = version + 1 where workspace_id = $1 and contact_id = $2`, [ws, await aCustomer()]);
      assert.equal((await tend.models.score(ws)).aggregated, 0, 'with a mark, only the versions bumped since it are read');
      await tend.db.query(`update score_runs set snapshot_xmin = null where workspace_id = $1`, [ws]);
      assert.equal((await tend.models.score(ws)).aggregated, 1, 'without one, every version is read');
      assert.equal((await tend.models.score(ws)).aggregated, 0, 'and the row is stored with it');
    });

    it('records no mark when a row it rewrites was written meanwhile by a later scoring', async () => {
      const id = await aCustomer();
      // Scored later than this run (as after an order), with a fingerprint this run will not match.
      await tend.db.query(`update contact_scores set fingerprint = 0, scored_at = $3 where workspace_id = $1 and contact_id = $2`, [ws, id, new Date(clock.now().getTime() + DAY_MS)]);
      const run = await tend.models.score(ws);
      assert.deepEqual([run.written, run.superseded], [0, 1]);
      assert.equal(await mark(), null, 'the next run reads every version');
      clock.advance(2 * DAY_MS);
      assert.ok((await tend.models.score(ws)).written > 0);
      assert.notEqual(await mark(), null);
      assert.notEqual((await stored()).get(id)!.fingerprint, 0, 'the row is rewritten once the run is the later one');
    });

    it('rewrites a row stored without its packed state (or with one of another format) once, aggregating its orders', async () => {
      await tend.models.score(ws);
      const ids = (await tend.db.query<{ id: number }>(`select contact_id as id from contact_scores where workspace_id = $1 and purchase_days > 0 order by contact_id limit 3`, [ws])).rows.map((r) => r.id);
      await tend.db.query(`update contact_scores set rescore_state = null where workspace_id = $1 and contact_id = any($2::bigint[])`, [ws, ids.slice(0, 2)]);
      await tend.db.query(`update contact_scores set rescore_state = '\\x02' where workspace_id = $1 and contact_id = $2`, [ws, ids[2]]);
      const run = await tend.models.score(ws);
      assert.deepEqual([run.written, run.aggregated], [3, 3]);
      await assertSummariesHold();
      assert.equal((await tend.models.score(ws)).written, 0);
    });

    if (target.name === 'server') {
      it('counts the orders of a transaction that was still open when the last run began', async () => {
        const id = await aCustomer();
        await tend.db.transaction(async (tx) => {
          await tx.query(`insert into orders (workspace_id, order_id, contact_id, total, ordered_at, created_at, updated_at) values ($1, 'open-during-run', $2, 99, $3, $3, $3)`, [ws, id, clock.now()]);
          await tend.models.score(ws); // on other connections: the order is not there yet
        });
        assert.equal((await tend.models.score(ws)).aggregated, 1);
        await assertSummariesHold();
      });
    }

    it('rewrites a row stored before fingerprints once, announcing what it changed from', async () => {
      const rows = await stored();
      const [id, row] = [...rows].find(([, r]) => r.lifecycle_stage !== 'active' && r.rfm_cell !== 'Lost' && r.churn_band !== null && r.churn_band !== 'very_high')!;
      await tend.db.query(
        `update contact_scores set fingerprint = null, lifecycle_stage = 'active', rfm_cell = 'Lost', churn_band = 'very_high' where workspace_id = $1 and contact_id = $2`,
        [ws, id],
      );
      clock.advance(60_000);
      const run = await tend.models.score(ws);
      assert.equal(run.written, 1);
      assert.deepEqual(await announced(clock.now()), [
        `${id} Churn Risk Changed very_high > ${row.churn_band}`,
        `${id} Lifecycle Stage Changed active > ${row.lifecycle_stage}`,
        `${id} RFM Cell Changed Lost > ${row.rfm_cell}`,
      ]);
      const now = (await stored()).get(id)!;
      assert.deepEqual([now.lifecycle_stage, now.fingerprint], [row.lifecycle_stage, row.fingerprint]);
    });

    it('rewrites a stage set by something else (a journey step), announcing it as what it changed from', async () => {
      const rows = await stored();
      const [id, row] = [...rows].find(([, r]) => r.lifecycle_stage !== 'won_back')!;
      await tend.db.query(`update contact_scores set lifecycle_stage = 'won_back' where workspace_id = $1 and contact_id = $2`, [ws, id]);
      assert.equal((await stored()).get(id)!.fingerprint, null, 'the fingerprint no longer says which stage the row holds: it goes');
      clock.advance(60_000);
      const run = await tend.models.score(ws);
      assert.equal(run.written, 1);
      assert.deepEqual(await announced(clock.now()), [`${id} Lifecycle Stage Changed won_back > ${row.lifecycle_stage}`]);
      assert.deepEqual((await stored()).get(id)!.lifecycle_stage, row.lifecycle_stage);
    });

    it('leaves a row scored meanwhile to the newer scoring, even on a page written straight into the table', async () => {
      const rows = await stored();
      const id = [...rows.keys()][0]!;
      const score = createScorer({ asOf: utcDate(clock.now()), fit: await latestFit(tend.db, ws), settings: await loadSettings(tend.db, ws) });
      const page = await readScorePage(tend.db, ws, utcDate(clock.now()), id - 1, 1);
      // As if nothing were stored: the page goes to COPY straight into contact_scores, meets the
      // stored row, and is written the other way, where the stored (later) row wins.
      const batch = scoreChanges(page, score, noneStored, dayOf(utcDate(clock.now())));
      assert.ok(batch.nothingStored);
      const result = await writeBatch(tend.db, ws, batch, new Date(clock.now().getTime() - DAY_MS), { after: id - 1, upTo: id });
      assert.equal(result.written, 0);
      assert.deepEqual((await stored()).get(id), rows.get(id));
    });

    it('leaves rows updated after the rescoring read them, and writes them once read again', async () => {
      clock.advance(7 * DAY_MS);
      const asOf = utcDate(clock.now());
      const score = createScorer({ asOf, fit: await latestFit(tend.db, ws), settings: await loadSettings(tend.db, ws) });
      const first = Math.min(...(await stored()).keys());
      const readPage = () => readRescorePage(tend.db, ws, asOf, first - 1, 200, Number.MAX_SAFE_INTEGER, { kind: 'stored', orderedSince: new Set(), changed: null });
      const { page, stored: read } = await readPage();
      const batch = scoreChanges(page, score, read, dayOf(asOf));
      assert.ok(batch.count > 0, `a week later ${batch.count} of ${page.id.length} rows changed`);
      // Another writer touches the page's rows after the read, their fingerprints the same.
      await tend.db.query(`update contact_scores set scored_at = scored_at where workspace_id = $1 and contact_id > $2 and contact_id <= $3`, [ws, first - 1, page.last_id]);
      const before = await stored();
      const range = { after: first - 1, upTo: page.last_id! };
      assert.equal((await writeBatch(tend.db, ws, batch, clock.now(), range)).written, 0);
      assert.deepEqual(await stored(), before, 'rows updated since the read are left for the next run');
      // Read again, the same changes are written.
      const again = await readPage();
      const next = scoreChanges(again.page, score, again.stored, dayOf(asOf));
      assert.equal(next.count, batch.count);
      assert.equal((await writeBatch(tend.db, ws, next, clock.now(), range)).written, batch.count);
    });

    it('removes the scores of a contact merged into another', async () => {
      const order = { type: 'track', anonymousId: 'anon-1', event: 'Order Completed', messageId: 'anon-order', timestamp: clock.now().toISOString(), properties: { order_id: 'anon-order', total: 30 } };
      assert.equal((await tend.ingest.ingest(ws, [order])).rejected.length, 0);
      await tend.scoreUpdater.flush();
      const anon = (await tend.db.query<{ id: number }>(`select contact_id as id from orders where workspace_id = $1 and order_id = 'anon-order'`, [ws])).rows[0]!.id;
      assert.ok((await stored()).has(anon), 'the anonymous buyer is scored after the order');
      const identify = { type: 'identify', anonymousId: 'anon-1', userId: 'sim-3', messageId: 'anon-identify', timestamp: clock.now().toISOString() };
      assert.equal((await tend.ingest.ingest(ws, [identify])).rejected.length, 0);
      assert.ok((await tend.db.query(`select 1 from contacts where workspace_id = $1 and id = $2 and merged_into is not null`, [ws, anon])).rows.length === 1);
      const run = await tend.models.score(ws);
      const rows = await stored();
      assert.equal(rows.has(anon), false);
      assert.equal(rows.size, run.scored);
    });
  });
}
