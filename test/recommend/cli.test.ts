// `tend recommend …` as a user runs it: a real process on the embedded database in a temporary
// folder, after `tend demo generate`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTend } from '../helpers/cli.ts';


const tend = runTend;

describe('tend recommend (embedded database)', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tend-cli-recommend-'));
    env = { TEND_DATA_DIR: join(dir, 'data'), TEND_ADMIN_TOKEN: '' };
    const r = await tend(['demo', 'generate', '--customers', '150', '--months', '8', '--seed', '3'], env);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says what to do when there is nothing to evaluate', async () => {
    const empty = { ...env, TEND_DATA_DIR: join(dir, 'empty') };
    const r = await tend(['recommend', 'evaluate'], empty);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no completed orders to evaluate on \(try `tend demo generate` first\)/);
  });

  it('prints the evaluation with the popularity baseline', async () => {
    const r = await tend(['recommend', 'evaluate', '--test-days', '60'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Trained on orders before \d{4}-\d\d-\d\d: [\d,]+ customers, \d+ products\. Tested on the 60 days after it\.$/m);
    for (const method of ['popularity', 'item-kNN \\(cosine\\)', 'EASE', 'for you \\(replenishment \\+ EASE\\)']) {
      assert.match(r.stdout, new RegExp(`^  ${method} +\\d\\.\\d{3} +\\d\\.\\d{3} +\\d\\.\\d{3}$`, 'm'));
    }
    assert.match(r.stdout, /^recall@10 on new products: EASE \d\.\d{3}, popularity \d\.\d{3}/m);
  });

  it('fits, then lists replenishment as JSON and recommendations as text', async () => {
    const fit = await tend(['recommend', 'fit'], env);
    assert.equal(fit.code, 0, fit.stderr);
    assert.match(fit.stdout, /^Recommender \(EASE \+ bought together\): \d+ products, [\d,]+ customers, λ = [\d.]+/m);
    const rep = await tend(['recommend', 'replenishment', '--json'], env);
    assert.equal(rep.code, 0, rep.stderr);
    const body = JSON.parse(rep.stdout) as { products: Array<{ sku: string; intervalDays: number; source: string; reason: string }> };
    assert.ok(body.products.length > 0);
    for (const p of body.products) assert.ok(p.intervalDays > 0 && ['learned', 'lifetime', 'category'].includes(p.source) && p.reason.length > 0);
    const together = await tend(['recommend', 'together', body.products[0]!.sku, '--limit', '3'], env);
    assert.equal(together.code, 0, together.stderr);
    assert.match(together.stdout, /^Bought together with .+:\n {3}1\. /);
    const bad = await tend(['recommend', 'for', 'nobody-at-all'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no contact has the user id nobody-at-all/);
  });
});
