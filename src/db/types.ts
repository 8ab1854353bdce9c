/** Rows and a count, the same shape from the embedded database and from a Postgres server. */
export type QueryResult<T> = { rows: T[]; rowCount: number };

/** Anything that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /**
   * Bulk-loads rows into `target` (a table with an optional column list, from code, never from
   * input) with COPY: text format from a string (a line per row, tab-separated, `\N` for null),
   * binary format from bytes (copy-binary.ts writes them). Both implementations have it; it is
   * optional only so that a Queryable can be a plain wrapper. Resolves with the rows loaded.
   */
  copyFrom?(target: string, data: string | Uint8Array): Promise<number>;
  /**
   * The rows of a query (built from code, never from input: COPY takes no parameters, so values
   * go in as {@link sqlLiteral}s) in COPY's binary format, which copy-binary.ts reads.
   */
  copyTo?(select: string): Promise<Uint8Array>;
}

/** A number as an SQL integer literal; anything but a safe integer is refused. */
export function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return String(value);
}

/** A string as an SQL literal, whatever standard_conforming_strings says (as libpq's PQescapeLiteral). */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new RangeError('an SQL literal cannot hold a NUL character');
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}

/** Statements a transaction starts with (Db.transaction). */
export type TransactionOptions = { setup?: readonly string[] };

/**
 * Tend's one port to PostgreSQL. Two implementations: PGlite in process (the default, data in a
 * folder) and a `pg` pool against a server. Both parse values the same way: bigint and numeric as
 * JavaScript numbers, timestamps as Date, json as objects, so callers never see the difference.
 */
export interface Db extends Queryable {
  readonly kind: 'embedded' | 'server';
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. `setup`
   * statements (without parameters, such as SET LOCAL) run first, on a server in the same round
   * trip as BEGIN.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Subscribes to `pg_notify` on a channel; returns the unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// OIDs of the types whose default parsing differs between PGlite and node-postgres.
export const TypeOid = { int8: 20, numeric: 1700, timestamptz: 1184, timestamp: 1114, date: 1082, int8Array: 1016, numericArray: 1231 } as const;

/** int8 and numeric as numbers: Tend's ids stay far below 2^53 and money is rounded to cents. */
export function parseNumber(value: string): number {
  return Number(value);
}
