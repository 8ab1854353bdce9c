import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { copyOut as copyOutOf } from './copy-out.ts';
import { ArrayParam, encodeArrayBinary } from './array-param.ts';
import { TypeOid, parseNumber, type Db, type Queryable, type QueryResult } from './types.ts';

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TypeOid.int8 || oid === TypeOid.numeric) return parseNumber;
    if (oid === TypeOid.date) return (v: string) => v;
    if (oid === TypeOid.int8Array || oid === TypeOid.numericArray) {
      const parseArray = pg.types.getTypeParser(oid as never) as (v: string) => (string | null)[];
      // A one-dimensional array of numbers is digits, signs, points and commas between braces
      // (NULL for a null): split it, which is several times faster than the general parser (the
      // ingest function returns two such arrays per call, one element per message).
      return (v: string) =>
        v.indexOf('{', 1) === -1
          ? v.length === 2 ? [] : v.slice(1, -1).split(',').map((x) => (x === 'NULL' ? null : Number(x)))
          : parseArray(v).map((x) => (x === null ? null : Number(x)));
    }
    return pg.types.getTypeParser(oid, format);
  },
};

/** Connects a pool to a Postgres server (`DATABASE_URL`). */
export async function openServer(url: string, options: { max?: number; schema?: string } = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    // A schema of its own lets several Tend installations (or test runs) share one database.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new Error(`database schema name "${options.schema}" must be lower-case letters, digits and _`);
  }
  const client = await pool.connect(); // fail fast with a clear error when the server is unreachable
  try {
    if (options.schema) await client.query(`create schema if not exists ${options.schema}`);
  } finally {
    client.release();
  }
  const query = async <T>(on: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> => {
    // node-postgres sends a Buffer parameter in binary format.
    const values = params.map((p) => (p instanceof ArrayParam ? encodeArrayBinary(p) : p));
    const res = await on.query(sql, values);
    return { rows: res.rows as T[], rowCount: res.rowCount ?? res.rows.length };
  };
  const copy = async (c: pg.PoolClient, target: string, data: string | Uint8Array): Promise<number> => {
    const stream = c.query(copyFromStdin(`copy ${target} from stdin${typeof data === 'string' ? '' : ' with (format binary)'}`));
    await pipeline(Readable.from([data]), stream);
    return stream.rowCount;
  };
  const copyOut = (c: pg.PoolClient, select: string): Promise<Uint8Array> => copyOutOf(c, `copy (${select}) to stdout with (format binary)`);
  let listener: pg.PoolClient | null = null;
  const handlers = new Map<string, Set<(payload: string) => void>>();
  return {
    kind: 'server',
    query: (sql, params) => query(pool, sql, params),
    async copyFrom(target, data) {
      const c = await pool.connect();
      try {
        return await copy(c, target, data);
      } finally {
        c.release();
      }
    },
    async copyTo(select) {
      const c = await pool.connect();
      try {
        return await copyOut(c, select);
      } finally {
        c.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn, options) {
      const c = await pool.connect();
      try {
        // Without parameters a query goes by the simple protocol, which takes several statements.
        await c.query(['begin', ...(options?.setup ?? [])].join('; '));
        const tx: Queryable = { query: (sql, params) => query(c, sql, params), copyFrom: (target, data) => copy(c, target, data), copyTo: (select) => copyOut(c, select) };
        const result = await fn(tx);
        await c.query('commit');
        return result;
      } catch (err) {
        await c.query('rollback').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    async listen(channel, onPayload) {
      // One dedicated connection carries every LISTEN of this process.
      if (!listener) {
        listener = await pool.connect();
        listener.on('notification', (n) => handlers.get(n.channel)?.forEach((h) => h(n.payload ?? '')));
      }
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await listener.query(`listen ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
      };
    },
    async close() {
      listener?.release();
      listener = null;
      await pool.end();
    },
  };
}
