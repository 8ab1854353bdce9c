// The customer models as a user of the HTTP API meets them: orders arrive over the tracking API,
// the models are fitted on demand, scores and predictions are read back, and a new order rescores
// its customer without a refit. Also the scheduled refit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, basic, type TestServer } from '../helpers/server.ts';
import { VirtualClock, DAY_MS } from '../../src/core/clock.ts';
import { loadSimulatedOrders, startModelScheduler } from '../../src/models/scores/index.ts';

const NOW = '2026-06-15T12:00:00Z';

for (const target of testDatabases()) {
  describe(`customer models over HTTP (${target.name})`, () => {
    let server: TestServer;
    let ws: { id: string; writeKey: string; adminToken: string };
    let zoe: number;
    const clock = new VirtualClock(NOW);
    const track = (body: unknown) =>
      fetch(`${server.url}/v1/track`, { method: 'POST', headers: { authorization: basic(ws.writeKey), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${ws.adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, text, body: (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null) as T };
    };

    before(async () => {
      server = await startTestServer(target, { clock });
      ws = await server.workspace();
      const options = { customers: 3000, bgnbd: { r: 0.243, alpha: 30.9, a: 0.793, b: 2.426 }, spend: { p: 6.25, q: 3.74, gamma: 15.44 }, asOf: '2026-06-14', ageDays: { min: 100, max: 700 }, seed: 5 };
      await loadSimulatedOrders(server.tend.db, ws.id, options, clock.now());
      const res = await track({ userId: 'zoe', event: 'Order Completed', timestamp: new Date(clock.now().getTime() - 500 * DAY_MS).toISOString(), properties: { order_id: 'zoe-1', total: 80 } });
      assert.equal(res.status, 200);
      await server.tend.scoreUpdater.flush();
      zoe = (await api<{ id: number }>('/api/contacts/by-user/zoe')).body.id;
    });
    after(() => server.close());

    it('fits on demand and lists the fit', async () => {
      const fit = await api<{ customers: number; bgnbd: { r: number; alpha: number }; gammaGamma: { p: number }; scored: { contacts: number }; seconds: { fit: number } }>('/api/models/fit', { method: 'POST', body: {} });
      assert.equal(fit.status, 200, fit.text);
      assert.equal(fit.body.customers, 3001);
      assert.equal(fit.body.scored.contacts, 3001);
      assert.ok(fit.body.bgnbd.r > 0.15 && fit.body.bgnbd.r < 0.35, `r = ${fit.body.bgnbd.r}`);
      assert.ok(fit.body.seconds.fit > 0);
      const list = await api<{ fits: { asOf: string; timeUnit: string; bgnbd: { r: number } }[] }>('/api/models');
      assert.equal(list.body.fits.length, 1);
      assert.deepEqual([list.body.fits[0]!.asOf, list.body.fits[0]!.timeUnit, list.body.fits[0]!.bgnbd.r], ['2026-06-15', 'days', fit.body.bgnbd.r]);
    });

    it("shows a contact's scores with the explanation", async () => {
      const s = await api<{ lifecycleStage: string; rfmCell: string; pAlive: number; explanation: string; stageHistory: { from: string | null; to: string }[] }>(`/api/contacts/${zoe}/scores`);
      assert.equal(s.status, 200);
      assert.equal(s.body.lifecycleStage, 'lapsed');
      assert.equal(s.body.pAlive, 1); // one order: BG/NBD cannot tell yet
      assert.match(s.body.explanation, /^bought once, 16 months ago; less than 1% chance|^bought once, 16 months ago; \d+% chance/);
      // Her first order arrived before any fit: she was first scored by the fit, which announces nothing.
      assert.deepEqual(s.body.stageHistory, []);
      assert.equal((await api(`/api/contacts/999999999/scores`)).status, 404);
    });

    it('rescores a customer when an order arrives over the tracking API', async () => {
      const res = await track({ userId: 'zoe', event: 'Order Completed', timestamp: clock.now().toISOString(), properties: { order_id: 'zoe-2', total: 95 } });
      assert.equal(res.status, 200);
      await server.tend.scoreUpdater.flush();
      const s = await api<{ lifecycleStage: string; explanation: string; stageHistory: { from: string | null; to: string }[] }>(`/api/contacts/${zoe}/scores`);
      assert.equal(s.body.lifecycleStage, 'won_back');
      assert.match(s.body.explanation, /^usually buys every 16 months; last order today; \d+% likely to still be a customer/);
      assert.deepEqual(s.body.stageHistory.map((h) => [h.from, h.to]), [['lapsed', 'won_back']]);
      assert.equal((await api<{ fits: unknown[] }>('/api/models')).body.fits.length, 1); // no refit
    });

    it('pages and streams predictions', async () => {
      const page = await api<{ predictions: { user_id: string; frequency: number; p_alive: number; rfm_cell: string; lifecycle_stage: string }[]; next: number }>('/api/predictions?limit=10');
      assert.equal(page.status, 200);
      assert.equal(page.body.predictions.length, 10);
      const next = await api<{ predictions: { user_id: string }[] }>(`/api/predictions?limit=10&after=${page.body.next}`);
      assert.notEqual(next.body.predictions[0]!.user_id, page.body.predictions[0]!.user_id);
      const csv = await api('/api/predictions?format=csv');
      const lines = csv.text.trim().split('\n');
      assert.equal(lines[0], 'user_id,frequency,recency,T,p_alive,churn_risk,expected_purchases_90d,expected_next_order_at,predicted_clv,rfm_cell,lifecycle_stage');
      assert.equal(lines.length, 3002);
      const jsonl = await api('/api/predictions?format=jsonl&asOf=2026-01-01');
      const first = JSON.parse(jsonl.text.split('\n')[0]!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(first), ['user_id', 'frequency', 'recency', 'T', 'p_alive', 'churn_risk', 'expected_purchases_90d', 'expected_next_order_at', 'predicted_clv', 'rfm_cell', 'lifecycle_stage']);
    });

    it('validates and stores model settings', async () => {
      const ok = await api<{ churnBands: { high: number } }>('/api/models/settings', { method: 'PATCH', body: { churnBands: { medium: 0.1, high: 0.3, veryHigh: 0.6 } } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await api<{ churnBands: { high: number }; timeUnit: string }>('/api/models/settings')).body.churnBands.high, 0.3);
      const bad = await api<{ error: string; field: string }>('/api/models/settings', { method: 'PATCH', body: { churnBands: { medium: 0.5, high: 0.3, veryHigh: 0.6 } } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.field, /^body\.churnBands/);
      const unknown = await api<{ error: string }>('/api/models/settings', { method: 'PATCH', body: { lifecycle: { newCustomerDays: 'soon' } } });
      assert.equal(unknown.status, 400);
      const spec = await api<{ paths: Record<string, unknown> }>('/api/openapi.json');
      for (const path of ['/api/models/fit', '/api/models', '/api/contacts/{id}/scores', '/api/predictions']) assert.ok(spec.body.paths[path], path);
    });

    it('refits on a schedule once the latest fit is a day old', async () => {
      const scheduler = startModelScheduler({ db: server.tend.db, clock, models: server.tend.models, intervalMs: DAY_MS });
      try {
        await scheduler.runOnce();
        assert.equal((await api<{ fits: unknown[] }>('/api/models')).body.fits.length, 1);
        clock.advance(DAY_MS + 1000);
        await scheduler.runOnce();
        const fits = (await api<{ fits: { asOf: string }[] }>('/api/models')).body.fits;
        assert.deepEqual(fits.map((f) => f.asOf), ['2026-06-16', '2026-06-15']);
      } finally {
        await scheduler.stop();
      }
    });
  });
}
