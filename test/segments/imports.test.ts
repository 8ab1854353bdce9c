import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { runImport } from '../../src/imports/index.ts';

for (const target of testDatabases()) {
  describe(`segments after an import (${target.name})`, () => {
    let tend: Tend;
    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open() });
    });
    after(() => tend.close());

    it('are recomputed when orders are imported', async () => {
      const ws = (await tend.workspaces.createWithKeys('imports')).workspace.id;
      const created = await tend.segments.create(ws, { name: 'Buyers', description: '', rule: { type: 'orders', metric: 'count', op: 'gte', value: 1 } });
      assert.ok(created.ok);
      assert.equal(created.value.memberCount, 0);
      const csv = 'order_id,user_id,ordered_at,total\no1,u1,2026-01-05,10\no2,u2,2026-01-06,20\n';
      const job = await runImport(tend, { workspaceId: ws, kind: 'orders', input: [csv] });
      assert.equal(job.rowsAccepted, 2);
      assert.equal((await tend.segments.get(ws, created.value.id))!.memberCount, 2);
    });
  });
}
