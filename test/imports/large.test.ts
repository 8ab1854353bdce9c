import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { runImport } from '../../src/imports/index.ts';
import { openFixture, type ImportFixture } from './helpers.ts';

const ROWS = 100_000;

/** An orders file generated as it is read: 100,000 orders of 20,000 customers over two years. */
async function* ordersCsv(rows: number): AsyncGenerator<Buffer> {
  yield Buffer.from('order_id,user_id,ordered_at,total,currency\n');
  const start = Date.parse('2024-01-01T00:00:00Z');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const day = new Date(start + ((i * 7919) % 730) * 86_400_000).toISOString().slice(0, 10);
    chunk += `L${i},cust-${(i * 31) % 20_000},${day},${((i % 9000) / 100 + 5).toFixed(2)},EUR\n`;
    if (chunk.length > 64_000) {
      yield Buffer.from(chunk);
      chunk = '';
    }
  }
  yield Buffer.from(chunk);
}

for (const target of testDatabases()) {
  describe(`a large CSV import (${target.name})`, () => {
    let f: ImportFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(() => f.close());

    it(`imports ${ROWS.toLocaleString('en')} orders`, async () => {
      const ws = await f.workspace();
      const started = performance.now();
      const job = await runImport(f.tend, { workspaceId: ws, kind: 'orders', input: ordersCsv(ROWS) });
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual([job.status, job.rowsTotal, job.rowsAccepted, job.rowsRejected], ['completed', ROWS, ROWS, 0]);
      const [counts] = await f.rows<{ orders: number; contacts: number }>(
        `select (select count(*)::int from orders where workspace_id = $1) as orders, (select count(*)::int from contacts where workspace_id = $1) as contacts`,
        [ws],
      );
      assert.deepEqual(counts, { orders: ROWS, contacts: 20_000 });
      process.stderr.write(`  ${target.name}: ${ROWS.toLocaleString('en')} orders in ${seconds.toFixed(1)} s = ${Math.round(ROWS / seconds).toLocaleString('en')} rows/s\n`);
    });
  });
}
