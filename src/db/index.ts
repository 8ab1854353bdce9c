import { openEmbedded } from './embedded.ts';
import { openServer } from './server.ts';
import { migrate } from './migrate.ts';
import type { Db } from './types.ts';

export type { Db, Queryable, QueryResult } from './types.ts';
export { sqlInteger, sqlLiteral } from './types.ts';
export { textArray, jsonbArray, timestamptzArray, boolArray } from './array-param.ts';
export { migrate } from './migrate.ts';

export type DatabaseConfig = { url: string | null; dataDir: string | null; poolSize?: number; schema?: string };

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: DatabaseConfig): Promise<Db> {
  const db = config.url ? await openServer(config.url, { max: config.poolSize, schema: config.schema }) : await openEmbedded(config.dataDir);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
