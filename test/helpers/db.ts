import { randomBytes } from 'node:crypto';
import { openDatabase, type Db } from '../../src/db/index.ts';

export type TestDatabase = { name: 'embedded' | 'server'; open: () => Promise<Db> };

/**
 * The databases every storage test runs on: always the embedded one (in memory), and the Postgres
 * server when TEST_DATABASE_URL is set. On the server each opening gets a schema of its own, dropped
 * on close, so runs never see each other's tables and the server is left as it was found.
 */
export function testDatabases(): TestDatabase[] {
  const list: TestDatabase[] = [{ name: 'embedded', open: () => openDatabase({ url: null, dataDir: null }) }];
  const url = process.env.TEST_DATABASE_URL;
  if (url) list.push({ name: 'server', open: () => openServerForTest(url) });
  return list;
}

async function openServerForTest(url: string): Promise<Db> {
  const schema = `tend_test_${randomBytes(5).toString('hex')}`;
  const db = await openDatabase({ url, dataDir: null, poolSize: 6, schema });
  const close = db.close.bind(db);
  return {
    ...db,
    async close() {
      await db.query(`drop schema if exists ${schema} cascade`);
      await close();
    },
  };
}
