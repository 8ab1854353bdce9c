import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { ArrayParam, encodeArrayLiteral } from './array-param.ts';
import { TypeOid, parseNumber, type Db, type Queryable, type QueryResult } from './types.ts';

/**
 * Opens the embedded database (PGlite) in `dataDir`, or in memory when `dataDir` is null.
 * PGlite has a single connection: it queues queries and runs a transaction exclusively, which is
 * why a server process holding the folder is the only writer (see cli/lock.ts).
 */
export async function openEmbedded(dataDir: string | null): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? undefined, {
    parsers: {
      [TypeOid.int8]: parseNumber,
      [TypeOid.numeric]: parseNumber,
      [TypeOid.date]: (v: string) => v,
    },
  });
  const wrap = (q: { query: PGlite['query'] }): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const values = params.map((p) => (p instanceof ArrayParam ? encodeArrayLiteral(p) : p));
      const res = await q.query<T>(sql, values);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    },
    // PGlite has no COPY … FROM STDIN; it reads the data of COPY … FROM '/dev/blob' from a Blob.
    async copyFrom(target: string, data: string | Uint8Array): Promise<number> {
      const format = typeof data === 'string' ? '' : ' with (format binary)';
      const res = await q.query(`copy ${target} from '/dev/blob'${format}`, [], { blob: new Blob([data as BlobPart]) });
      return res.affectedRows ?? 0;
    },
    // …and writes COPY … TO '/dev/blob' into a Blob.
    async copyTo(select: string): Promise<Uint8Array> {
      const res = await q.query(`copy (${select}) to '/dev/blob' with (format binary)`);
      if (!res.blob) throw new Error('COPY TO returned no data');
      return new Uint8Array(await res.blob.arrayBuffer());
    },
  });
  const base = wrap(pg);
  return {
    kind: 'embedded',
    query: base.query,
    copyFrom: base.copyFrom,
    copyTo: base.copyTo,
    async exec(sql) {
      await pg.exec(sql);
    },
    transaction(fn, options) {
      return pg.transaction(async (tx) => {
        for (const sql of options?.setup ?? []) await tx.query(sql);
        return fn(wrap(tx));
      });
    },
    listen(channel, onPayload) {
      return pg.listen(channel, onPayload).then((unsub) => () => unsub());
    },
    close: () => pg.close(),
  };
}
