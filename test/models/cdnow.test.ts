// The published CDNOW results reproduced through Tend's own pipeline: the sample imported with the
// normal order import, summarised in the database, fitted and stored, and printed by the CLI.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { expectedPurchases, pAlive } from '../../src/models/btyd/index.ts';
import { importCdnow, published, roundsTo, writeCdnowCsv } from './fixtures.ts';

type Estimates = { bgnbd: object | null; gammaGamma: object | null };

function assertPublished(fit: Estimates) {
  const bg = fit.bgnbd as Record<string, number> | null;
  const gg = fit.gammaGamma as Record<string, number> | null;
  assert.ok(bg && gg);
  for (const [name, [expected, decimals]] of Object.entries(published.bgnbd)) {
    assert.ok(roundsTo(bg[name]!, expected, decimals), `BG/NBD ${name} = ${bg[name]} (published ${expected})`);
  }
  for (const [name, [expected, decimals]] of Object.entries(published.gammaGamma)) {
    assert.ok(roundsTo(gg[name]!, expected, decimals), `Gamma-Gamma ${name} = ${gg[name]} (published ${expected})`);
  }
}

for (const target of testDatabases()) {
  describe(`CDNOW through the database (${target.name})`, () => {
    let tend: Tend;
    let ws: string;
    const clock = new VirtualClock('2026-06-01T12:00:00Z');

    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      ws = (await tend.workspaces.createWithKeys('cdnow')).workspace.id;
      await importCdnow(tend, ws);
    });
    after(() => tend.close());

    it('fits the published BG/NBD and Gamma-Gamma estimates as of 1997-09-30 in weeks', async () => {
      const { fit, scored } = await tend.models.fit(ws, { asOf: '1997-09-30', timeUnit: 'weeks' });
      assert.equal(fit.customers, 2357);
      assert.equal(fit.repeatCustomers, 946);
      assert.equal(fit.gammaGamma?.customers, 946);
      assertPublished(fit);
      assert.equal(scored?.scored, 2357);
      // Stored: the latest fit reads back the same parameters.
      const stored = await tend.models.latestFit(ws);
      assert.equal(stored?.asOf, '1997-09-30');
      assert.equal(stored?.timeUnit, 'weeks');
      assertPublished(stored!);
    });

    it('scores the published example customer (x = 2, t_x = 30.43, T = 38.86) as the model does', async () => {
      const fit = (await tend.models.latestFit(ws))!;
      const { predictions } = await tend.models.predictions(ws, { asOf: '1997-09-30', limit: 1000 });
      const c = predictions.find((p) => p.frequency === 2 && Math.abs(p.recency - 30.43) < 0.005 && Math.abs(p.T - 38.86) < 0.005);
      assert.ok(c, 'a customer with x = 2, t_x = 30.43, T = 38.86');
      assert.ok(Math.abs(c.p_alive! - pAlive(fit.bgnbd!, 2, c.recency, c.T)) < 1e-12);
      assert.ok(Math.abs(c.expected_purchases_90d! - expectedPurchases(fit.bgnbd!, 90 / 7, 2, c.recency, c.T)) < 1e-9);
      // The paper's figure for this customer: 1.226 purchases expected in the next 39 weeks.
      assert.ok(Math.abs(expectedPurchases(fit.bgnbd!, 39, 2, c.recency, c.T) - 1.226) < 0.0015);
      const scores = await tend.models.scoresOf(ws, c.contact_id);
      assert.match(scores!.explanation!, /usually buys every \d+ (days|months); last order \d+ (days|months) ago; \d+% likely to still be a customer/);
    });

    it('exports one prediction per customer', async () => {
      let rows = 0;
      for await (const page of await tend.models.allPredictions(ws, { asOf: '1997-09-30' })) rows += page.length;
      assert.equal(rows, 2357);
    });
  });
}

// The same through the command line, on a fresh database of each kind.
for (const target of testDatabases()) {
  it(`tend models fit --as-of 1997-09-30 --time-unit weeks --json prints the published estimates (${target.name})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-cdnow-'));
    const env: NodeJS.ProcessEnv = { ...process.env, TEND_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', TEND_DATABASE_SCHEMA: '' };
    let schema: string | null = null;
    if (target.name === 'server') {
      schema = `tend_cli_${randomBytes(5).toString('hex')}`;
      env.DATABASE_URL = process.env.TEST_DATABASE_URL;
      env.TEND_DATABASE_SCHEMA = schema;
    }
    const tend = (args: string[]) => spawnSync(process.execPath, ['bin/tend.js', ...args], { env, encoding: 'utf8', cwd: new URL('../../', import.meta.url).pathname });
    try {
      const csv = join(dir, 'cdnow-orders.csv');
      writeCdnowCsv(csv);
      const imported = tend(['import', 'orders', csv]);
      assert.equal(imported.status, 0, imported.stderr);
      const run = tend(['models', 'fit', '--as-of', '1997-09-30', '--time-unit', 'weeks', '--json']);
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { customers: number; bgnbd: Record<string, number>; gammaGamma: Record<string, number>; seconds: { fit: number } };
      assert.equal(out.customers, 2357);
      assertPublished(out);
      assert.ok(out.seconds.fit > 0);
      const text = tend(['models', 'show']);
      assert.match(text.stdout, /BG\/NBD r = 0\.243 alpha = 4\.414 a = 0\.793 b = 2\.426 LL = -9582\.4/);
      const exported = tend(['predictions', 'export', '--as-of', '1997-09-30']);
      assert.equal(exported.status, 0, exported.stderr);
      const lines = exported.stdout.trim().split('\n');
      assert.equal(lines[0], 'user_id,frequency,recency,T,p_alive,churn_risk,expected_purchases_90d,expected_next_order_at,predicted_clv,rfm_cell,lifecycle_stage');
      assert.equal(lines.length, 2358);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (schema) {
        const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    }
  });
}
