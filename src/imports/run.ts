import type { Db, Queryable } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { createIngestService, type IngestService } from '../events/index.ts';
import { createWorkspaceService, type WorkspaceService } from '../workspaces/index.ts';
import { readCsv } from './csv.ts';
import { createJob, finishJob, updateJobProgress, MAX_STORED_ERRORS, type ImportJob } from './jobs.ts';
import { importKinds } from './kinds/index.ts';
import { readHeader, toRow, type Refusal } from './rows.ts';
import type { ImportContext, ImportKindName, ImportMode, Row, RowError } from './types.ts';

export type ImportDeps = {
  db: Db;
  clock: Clock;
  ingest: IngestService;
  workspaces: WorkspaceService;
  /** Told when rows were written, so what is derived from them (segments, scores) can catch up. */
  onImported?: (workspaceId: string, kind: ImportKindName) => Promise<void>;
};

export type ImportOptions = {
  workspaceId: string;
  kind: ImportKindName;
  /** The file's bytes, read as they arrive (a file stream, an HTTP request body). */
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  mode?: ImportMode;
  /** Where the file came from, for the job record (e.g. "file orders.csv"). */
  source?: string;
  /** Rows per transaction in `rows` mode (and per write in `all` mode). */
  batchSize?: number;
  /** Called after every batch with the counts so far. */
  onProgress?: (counts: { total: number; accepted: number; rejected: number }) => void;
  /** Called for every rejected row, in line order (the job keeps only the first 1,000). */
  onError?: (error: RowError) => void;
};

type Batch = { rows: Row<unknown>[]; errors: RowError[] };

class Rollback extends Error {}

/**
 * Imports one CSV file and records the run in import_jobs. The file is streamed: rows are validated
 * as they are read and written in batches, one batch in the database while the next is parsed, so
 * memory stays flat whatever the file's size.
 *
 * `rows` mode: every batch is its own transaction; rejected rows are reported and the rest kept. A
 * batch the database refuses for a reason about its data (a constraint, a trigger) is split in
 * halves until the refused rows are found, and only those are reported; a deadlock is retried; any
 * other failure (the connection lost) stops the import with the line it stopped at, and since every
 * write is an upsert, running the file again completes it.
 * `all` mode: the whole file is one transaction, rolled back when any row is rejected; every
 * rejected row is still reported.
 */
export async function runImport(deps: ImportDeps, options: ImportOptions): Promise<ImportJob> {
  const kind = importKinds[options.kind];
  const mode = options.mode ?? 'rows';
  const batchSize = options.batchSize ?? (options.kind === 'events' ? 1000 : 5000);
  const now = deps.clock.now();
  const job = await createJob(deps.db, options.workspaceId, { kind: options.kind, source: options.source ?? 'upload', mode }, now);
  const counts = { total: 0, accepted: 0, rejected: 0 };
  const kept: RowError[] = [];
  let batches = 0;
  let stoppedAt: number | null = null;

  const report = (e: RowError) => {
    counts.rejected++;
    if (kept.length < MAX_STORED_ERRORS) kept.push(e);
    options.onError?.(e);
  };

  async function write(ctx: ImportContext, rows: Row<unknown>[]): Promise<RowError[]> {
    if (rows.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await kind.write(ctx, rows);
      } catch (err) {
        if (mode === 'all') throw err;
        const code = sqlState(err);
        if (code?.startsWith('40') && attempt < 4) {
          await new Promise((r) => setTimeout(r, 50 * attempt)); // deadlock or serialization failure: try again
          continue;
        }
        // 22 data exception, 23 integrity constraint, 54 limit exceeded, P0 raised by a trigger.
        if (!code || !/^(22|23|54|P0)/.test(code)) throw err;
        if (rows.length === 1) return [{ line: rows[0]!.line, column: '', message: `the database refused this row: ${(err as Error).message}` }];
        const half = Math.ceil(rows.length / 2);
        return [...(await write(ctx, rows.slice(0, half))), ...(await write(ctx, rows.slice(half)))];
      }
    }
  }

  async function pump(ctx: ImportContext): Promise<Refusal | null> {
    let columns: string[] | null = null;
    let batch: Batch = { rows: [], errors: [] };
    let inflight: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | null = null;
    const flush = async () => {
      const b = batch;
      batch = { rows: [], errors: [] };
      await inflight;
      if (failure) throw failure.error;
      inflight = write(ctx, b.rows).then(
        async (dbErrors) => {
          counts.accepted += b.rows.length - dbErrors.length;
          // Validation errors of the batch and the database's, in line order.
          for (const e of [...b.errors, ...dbErrors].sort((x, y) => x.line - y.line)) report(e);
          options.onProgress?.({ ...counts });
          if (mode === 'rows' && ++batches % 10 === 0) await updateJobProgress(deps.db, options.workspaceId, { id: job.id, rowsTotal: counts.total, rowsAccepted: counts.accepted, rowsRejected: counts.rejected });
        },
        (error: unknown) => {
          stoppedAt = b.rows[0]?.line ?? null;
          failure = { error };
        },
      );
    };
    for await (const records of readCsv(options.input)) {
      for (const record of records) {
        if (!columns) {
          const header = readHeader(kind, record);
          if (!header.ok) return header.refusal;
          columns = header.columns;
          continue;
        }
        counts.total++;
        const row = toRow(kind, columns, record);
        if ('message' in row) batch.errors.push(row);
        else batch.rows.push(row);
        if (batch.rows.length + batch.errors.length >= batchSize) await flush();
      }
    }
    if (!columns) {
      const empty = readHeader(kind, undefined);
      return empty.ok ? null : empty.refusal;
    }
    await flush();
    await inflight;
    if (failure) throw (failure as { error: unknown }).error;
    return null;
  }

  let refusal: Refusal | null = null;
  try {
    const workspace = await deps.workspaces.get(options.workspaceId);
    if (!workspace) throw new Error(`unknown workspace ${options.workspaceId}`);
    const base = { workspaceId: options.workspaceId, settings: workspace.settings, now };
    if (mode === 'rows') refusal = await pump({ ...base, db: deps.db, ingest: deps.ingest });
    else {
      try {
        refusal = await deps.db.transaction(async (tx) => {
          const db = boundTo(deps.db, tx);
          const ingest = createIngestService({ db, clock: deps.clock, workspaces: createWorkspaceService({ db }) });
          const r = await pump({ ...base, db, ingest });
          if (r || counts.rejected > 0) throw new Rollback(); // all or nothing: nothing is kept
          return r;
        });
      } catch (err) {
        if (!(err instanceof Rollback)) throw err;
      }
    }
    if (refusal) Object.assign(job, { status: 'failed', message: refusal.message, errors: [{ line: 1, column: refusal.column, message: refusal.message }] });
    else if (mode === 'all' && counts.rejected > 0) {
      const message = `${counts.rejected.toLocaleString('en')} of ${counts.total.toLocaleString('en')} rows rejected; nothing was imported (all or nothing)`;
      Object.assign(job, { status: 'failed', message, errors: kept });
      counts.accepted = 0;
    } else Object.assign(job, { status: 'completed', message: counts.total === 0 ? 'the file has a header line but no rows' : null, errors: kept });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const where = stoppedAt !== null ? ` at line ${stoppedAt}` : '';
    const outcome = mode === 'rows' ? 'rows before it were imported, and importing the file again is safe (imported rows are updated, not duplicated)' : 'nothing was imported';
    Object.assign(job, { status: 'failed', message: `the import stopped${where}: ${reason}; ${outcome}`, errors: kept });
    if (mode === 'all') counts.accepted = 0;
  }
  Object.assign(job, { rowsTotal: counts.total, rowsAccepted: counts.accepted, rowsRejected: counts.rejected, finishedAt: deps.clock.now() });
  await finishJob(deps.db, options.workspaceId, job);
  if (counts.accepted > 0) await deps.onImported?.(options.workspaceId, options.kind);
  return job;
}

/** A Db whose every query and "transaction" runs inside one open transaction (the `all` mode). */
function boundTo(db: Db, tx: Queryable): Db {
  return {
    kind: db.kind,
    query: <T>(sql: string, params?: readonly unknown[]) => tx.query<T>(sql, params),
    exec: async (sql) => {
      await tx.query(sql);
    },
    transaction: async (fn, options) => {
      for (const sql of options?.setup ?? []) await tx.query(sql);
      return fn(tx);
    },
    listen: () => Promise.reject(new Error('LISTEN is not available inside an import transaction')),
    close: async () => {},
  };
}

function sqlState(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}
