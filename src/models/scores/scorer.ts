/**
 * The scoring pipeline: contacts are read in pages (sql/score-page.ts), scored in memory
 * (score.ts) and written back in the same pages (sql/write-scores.ts), each page in its own
 * transaction. While one page is scored and written, the next is already being read, so the
 * database and Node work at the same time. A full run that stops half-way leaves every page it
 * finished complete and consistent; running it again finishes the rest.
 */
import type { Db } from '../../db/index.ts';
import { contactRanges } from './inputs.ts';
import { createScorer, type CustomerInput, type CustomerScore } from './score.ts';
import { churnBands, lifecycleStages, rfmCells, type ModelSettings, type StoredFit } from './schema.ts';
import { readContactsScorePage, readScorePage, inputsOf } from './pages.ts';
import type { ScorePage } from './sql/score-page.ts';
import { toPgArray } from './sql/arrays.ts';
import { deleteScoresAfterSql, deleteScoresSql, writeScoresSql, type WriteScoresResult } from './sql/write-scores.ts';

const DAY_MS = 86_400_000;

export type ScoreContext = { fit: StoredFit | null; settings: ModelSettings };

export type ScoreRunResult = {
  /** Contacts scored (customers and known prospects). */
  scored: number;
  customers: number;
  written: number;
  rfmChanges: number;
  churnChanges: number;
  stageChanges: number;
  /** The contacts whose scores were written or removed (rescoring only lists them). */
  contacts: number[];
  /** Milliseconds waiting for reads, scoring in memory, and writing (summed over parallel loops); and in all. */
  timings: { readMs: number; computeMs: number; writeMs: number; totalMs: number };
};

const position = <T extends string>(list: readonly T[]) => new Map<T | null, number>(list.map((v, i) => [v, i + 1]));
const cellCode = position(rfmCells);
const bandCode = position(churnBands);
const stageCode = position(lifecycleStages);
// Stored probabilities and expectations to 6 decimals and money to cents: shorter numbers for the
// database to parse, and nothing a marketer could see is lost.
const round6 = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);
const cents = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

/** The parameters of writeScoresSql for a batch of scores (see its comment for the packed code). */
function writeParams(workspaceId: string, scores: CustomerScore[], scoredAt: Date): unknown[] {
  const col = (f: (s: CustomerScore) => number | string | null) => toPgArray(scores.map(f));
  return [
    workspaceId,
    col((s) => s.contactId),
    col(
      (s) =>
        ((s.recencyScore ?? 0) * 100 + (s.frequencyScore ?? 0) * 10 + (s.monetaryScore ?? 0)) * 10_000 +
        (cellCode.get(s.rfmCell) ?? 0) * 100 + (bandCode.get(s.churnBand) ?? 0) * 10 + stageCode.get(s.lifecycleStage)!,
    ),
    col((s) => round6(s.pAlive)),
    col((s) => round6(s.expectedPurchases30d)),
    col((s) => round6(s.expectedPurchases90d)),
    col((s) => round6(s.expectedPurchases365d)),
    col((s) => (s.expectedNextOrderAt ? Math.round(s.expectedNextOrderAt.getTime() / DAY_MS) : null)),
    col((s) => cents(s.predictedClv)),
    col((s) => s.explanation),
    scoredAt,
    rfmCells,
    churnBands,
    lifecycleStages,
  ];
}

function emptyResult(): ScoreRunResult {
  return { scored: 0, customers: 0, written: 0, rfmChanges: 0, churnChanges: 0, stageChanges: 0, contacts: [], timings: { readMs: 0, computeMs: 0, writeMs: 0, totalMs: 0 } };
}

function add(result: ScoreRunResult, scores: CustomerScore[], w: WriteScoresResult): void {
  result.scored += scores.length;
  result.customers += scores.filter((s) => s.frequency !== null).length;
  result.written += w.written;
  result.rfmChanges += w.rfm_changes;
  result.churnChanges += w.churn_changes;
  result.stageChanges += w.stage_changes;
}

/**
 * Scores every contact of a workspace as of a day (YYYY-MM-DD). With `parallel` > 1 the contacts
 * are split into that many id ranges, each read, scored and written by its own loop (and
 * connection), so that the database's work of writing uses more than one core.
 */
export async function scoreWorkspace(
  db: Db,
  workspaceId: string,
  ctx: ScoreContext,
  options: { asOf: string; scoredAt: Date; pageSize?: number; parallel?: number; onProgress?: (scored: number) => void },
): Promise<ScoreRunResult> {
  const started = performance.now();
  const score = createScorer({ asOf: options.asOf, fit: ctx.fit, settings: ctx.settings });
  const result = emptyResult();
  const ranges = await contactRanges(db, workspaceId, Math.max(1, options.parallel ?? 1));
  await Promise.all(ranges.map((range) => scoreRange(db, workspaceId, range, score, result, options)));
  const last = ranges.length > 0 ? ranges[ranges.length - 1]!.upTo : 0;
  await db.query(deleteScoresAfterSql, [workspaceId, last]);
  result.timings.totalMs = performance.now() - started;
  return result;
}

// One range of a full run: reads page k + 1 while page k is scored and written.
async function scoreRange(
  db: Db,
  workspaceId: string,
  range: { after: number; upTo: number },
  score: (c: CustomerInput) => CustomerScore,
  result: ScoreRunResult,
  options: { asOf: string; scoredAt: Date; pageSize?: number; onProgress?: (scored: number) => void },
): Promise<void> {
  const pageSize = options.pageSize ?? 10_000;
  const read = (after: number) => readScorePage(db, workspaceId, options.asOf, after, pageSize, range.upTo);
  let t = performance.now();
  let pending: Promise<ScorePage> | null = read(range.after);
  while (pending) {
    const page: ScorePage = await pending;
    result.timings.readMs += performance.now() - t;
    if (page.page_size === 0 || page.last_id === null) break;
    t = performance.now();
    pending = page.page_size === pageSize ? read(page.last_id) : null;
    const scores = inputsOf(page).map(score);
    result.timings.computeMs += performance.now() - t;
    t = performance.now();
    const w = await db.transaction(async (tx) => {
      const r = await tx.query<WriteScoresResult>(writeScoresSql, writeParams(workspaceId, scores, options.scoredAt));
      if (page.unscored.length > 0) await tx.query(deleteScoresSql, [workspaceId, page.unscored]);
      return r.rows[0]!;
    });
    add(result, scores, w);
    result.timings.writeMs += performance.now() - t;
    options.onProgress?.(result.scored);
    t = performance.now();
  }
}

/**
 * Rescores some contacts (after they ordered) with the stored fit, as of a day; contacts no longer
 * scored (merged away) lose their row.
 */
export async function scoreContacts(db: Db, workspaceId: string, contactIds: readonly number[], ctx: ScoreContext, options: { asOf: string; scoredAt: Date }): Promise<ScoreRunResult> {
  const started = performance.now();
  const result = emptyResult();
  if (contactIds.length === 0) return result;
  const score = createScorer({ asOf: options.asOf, fit: ctx.fit, settings: ctx.settings });
  const page = await readContactsScorePage(db, workspaceId, options.asOf, contactIds);
  const scores = inputsOf(page).map(score);
  // Contacts asked for but not scored: merged away, anonymous without orders, or erased.
  const scoredIds = new Set(scores.map((s) => s.contactId));
  const gone = contactIds.filter((id) => !scoredIds.has(id));
  const w = await db.transaction(async (tx) => {
    const r = await tx.query<WriteScoresResult>(writeScoresSql, writeParams(workspaceId, scores, options.scoredAt));
    if (gone.length > 0) await tx.query(deleteScoresSql, [workspaceId, gone]);
    return r.rows[0]!;
  });
  result.contacts = [...scoredIds, ...gone];
  add(result, scores, w);
  result.timings.totalMs = performance.now() - started;
  return result;
}
