import type { Queryable } from '../db/index.ts';
import type { ImportKindName, ImportMode, RowError } from './types.ts';

/** How many rejected rows a job keeps; the count of rejected rows is always exact. */
export const MAX_STORED_ERRORS = 1000;

/** One run of an import, as recorded in import_jobs. */
export type ImportJob = {
  id: number;
  kind: ImportKindName;
  source: string;
  mode: ImportMode;
  status: 'running' | 'completed' | 'failed';
  rowsTotal: number;
  rowsAccepted: number;
  rowsRejected: number;
  /** The first rejected rows (at most 1,000), in line order. */
  errors: RowError[];
  message: string | null;
  startedAt: Date;
  finishedAt: Date | null;
};

type Row = {
  id: number; kind: ImportKindName; source: string; mode: ImportMode; status: ImportJob['status']; rows_total: number; rows_accepted: number;
  rows_rejected: number; errors: RowError[]; message: string | null; started_at: Date; finished_at: Date | null;
};
const toJob = (r: Row): ImportJob => ({
  id: r.id, kind: r.kind, source: r.source, mode: r.mode, status: r.status, rowsTotal: r.rows_total, rowsAccepted: r.rows_accepted,
  rowsRejected: r.rows_rejected, errors: r.errors, message: r.message, startedAt: r.started_at, finishedAt: r.finished_at,
});
const COLUMNS = `id, kind, source, mode, status, rows_total, rows_accepted, rows_rejected, errors, message, started_at, finished_at`;

/** Records the start of an import and returns its job. */
export async function createJob(db: Queryable, workspaceId: string, job: { kind: ImportKindName; source: string; mode: ImportMode }, at: Date): Promise<ImportJob> {
  const { rows } = await db.query<Row>(
    `insert into import_jobs (workspace_id, kind, source, mode, status, started_at) values ($1, $2, $3, $4, 'running', $5) returning ${COLUMNS}`,
    [workspaceId, job.kind, job.source.slice(0, 500), job.mode, at],
  );
  return toJob(rows[0]!);
}

/** Counts so far of a running job, so GET /api/imports/:id shows progress. */
export async function updateJobProgress(db: Queryable, workspaceId: string, job: Pick<ImportJob, 'id' | 'rowsTotal' | 'rowsAccepted' | 'rowsRejected'>): Promise<void> {
  await db.query(
    `update import_jobs set rows_total = $3, rows_accepted = $4, rows_rejected = $5 where workspace_id = $1 and id = $2 and status = 'running'`,
    [workspaceId, job.id, job.rowsTotal, job.rowsAccepted, job.rowsRejected],
  );
}

/** Records how a job ended. */
export async function finishJob(db: Queryable, workspaceId: string, job: ImportJob): Promise<void> {
  await db.query(
    `update import_jobs set status = $3, rows_total = $4, rows_accepted = $5, rows_rejected = $6, errors = $7, message = $8, finished_at = $9
      where workspace_id = $1 and id = $2`,
    [workspaceId, job.id, job.status, job.rowsTotal, job.rowsAccepted, job.rowsRejected, JSON.stringify(job.errors.slice(0, MAX_STORED_ERRORS)), job.message, job.finishedAt],
  );
}

export async function getJob(db: Queryable, workspaceId: string, id: number): Promise<ImportJob | null> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from import_jobs where workspace_id = $1 and id = $2`, [workspaceId, id]);
  return rows[0] ? toJob(rows[0]) : null;
}

/** Jobs newest first, paging by id; without their error lists (GET /api/imports/:id has them). */
export async function listJobs(db: Queryable, workspaceId: string, options: { limit?: number; before?: number } = {}): Promise<Omit<ImportJob, 'errors'>[]> {
  const { rows } = await db.query<Row>(
    `select ${COLUMNS.replace('errors, ', `'[]'::jsonb as errors, `)} from import_jobs
      where workspace_id = $1 and id < $2 order by id desc limit $3`,
    [workspaceId, options.before ?? Number.MAX_SAFE_INTEGER, Math.min(Math.max(options.limit ?? 50, 1), 500)],
  );
  return rows.map((r) => {
    const { errors: _errors, ...job } = toJob(r);
    return job;
  });
}
