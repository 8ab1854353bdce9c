import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTend, type Tend } from '../../src/tend.ts';
import { openDatabase, type Db } from '../../src/db/index.ts';

/**
 * Two Tend processes on one database: each keeps the workspace's segments between ingested batches
 * (segments/service.ts) and must learn of a segment another process creates, renames or deletes.
 * On a Postgres server they are two connection pools on one schema; the embedded database has one
 * writer, so there they share it (and the announcement comes through the same LISTEN).
 */
const setups: { name: string; open: () => Promise<{ a: Db; b: Db; close: () => Promise<void> }> }[] = [
  {
    name: 'embedded',
    async open() {
      const db = await openDatabase({ url: null, dataDir: null });
      return { a: db, b: db, close: () => db.close() };
    },
  },
];
const url = process.env.TEST_DATABASE_URL;
if (url) {
  setups.push({
    name: 'server',
    async open() {
      const schema = `tend_test_${randomBytes(5).toString('hex')}`;
      const a = await openDatabase({ url, dataDir: null, poolSize: 4, schema });
      const b = await openDatabase({ url, dataDir: null, poolSize: 4, schema });
      return {
        a,
        b,
        async close() {
          await b.close();
          await a.query(`drop schema if exists ${schema} cascade`);
          await a.close();
        },
      };
    },
  });
}

for (const setup of setups) {
  describe(`segments kept current by several processes (${setup.name})`, () => {
    let dbs: Awaited<ReturnType<(typeof setups)[number]['open']>>;
    let first: Tend;
    let second: Tend;
    before(async () => {
      dbs = await setup.open();
      first = await createTend({ databaseUrl: null, dataDir: '' }, { db: dbs.a });
      second = await createTend({ databaseUrl: null, dataDir: '' }, { db: dbs.b });
    });
    after(async () => {
      await first.segmentUpdater.flush();
      await second.segmentUpdater.flush();
      await dbs.close();
    });

    /** Ingests a click by `userId` through the second process and says whether its segments saw it. */
    const clickIn = async (ws: string, userId: string, segmentId: number) => {
      await second.ingest.ingest(ws, [{ type: 'track', userId, event: 'Clicked', messageId: `${userId}-${randomBytes(4).toString('hex')}` }]);
      await second.segmentUpdater.flush();
      const { rows } = await dbs.a.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = $2`, [ws, userId]);
      return (await first.segments.ofContact(ws, rows[0]!.id)).some((s) => s.id === segmentId);
    };

    it('a segment created in one process is kept current by the others', async () => {
      const ws = (await first.workspaces.create({ name: 'processes' })).id;
      // The second process ingests first, so it has read (and kept) the workspace's segments: none.
      await second.ingest.ingest(ws, [{ type: 'track', userId: 'before', event: 'Clicked', messageId: 'p-0' }]);
      await second.segmentUpdater.flush();
      const created = await first.segments.create(ws, { name: 'Clickers', description: '', rule: { type: 'event', event: 'Clicked' } });
      assert.ok(created.ok);
      // The announcement reaches the second process within moments; until then a click may be missed.
      let n = 0;
      while (!(await clickIn(ws, `after-${n}`, created.value.id))) {
        assert.ok(++n < 50, 'the second process never learnt of the new segment');
        await new Promise((r) => setTimeout(r, 50));
      }
      const removed = await first.segments.remove(ws, created.value.id);
      assert.ok(removed.ok);
      // And of its removal: the second process stops maintaining it (its batches would fail otherwise).
      await second.ingest.ingest(ws, [{ type: 'track', userId: 'later', event: 'Clicked', messageId: 'p-z' }]);
      await second.segmentUpdater.flush();
    });
  });
}
