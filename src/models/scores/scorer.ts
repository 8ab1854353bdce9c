/**
 * The scoring pipeline: contacts are read in pages with what is stored for them (pages.ts),
 * scored in memory (score.ts), compared with the stored scores (changes.ts), and only what
 * changed is written back (writer.ts), each page in its own transaction. While one page is scored,
 * the next is being read and the previous one written, so the database and Node work at the same
 * time. A full run that stops half-way leaves every page it finished complete and consistent;
 * running it again finishes the rest.
 */
import type { Db } from '../../db/index.ts';
import { contactRanges, dayOf } from './inputs.ts';
import { createScorer, type CustomerInput, type CustomerScore } from './score.ts';
import type { ModelSettings, StoredFit } from './schema.ts';
import { inputsOf, readRescoreContacts, readRescorePage } from './pages.ts';
import type { ScorePage } from './sql/score-page.ts';
import type { StoredScores } from './sql/stored-scores.ts';
import { deleteScoresAfterSql, recordRunSql, type ApplyScoresResult } from './sql/write-scores.ts';
import { changedScores, writeBatch, type ScoreBatch } from './writer.ts';

export type ScoreContext = { fit: StoredFit | null; settings: ModelSettings };

export type ScoreRunResult = {
  /** Contacts scored (customers and known prospects). */
  scored: number;
  customers: number;
  /** Rows written: new scores, and scores that moved beyond their tolerance (changes.ts). */
  written: number;
  /** Contacts whose stored scores stand: nothing moved beyond its tolerance. */
  unchanged: number;
  rfmChanges: number;
  churnChanges: number;
  stageChanges: number;
  /** The contacts whose scores were written or removed (rescoring only lists them). */
  contacts: number[];
  /** Milliseconds waiting for reads, scoring and comparing in memory, and writing (summed over parallel loops); and in all. */
  timings: { readMs: number; computeMs: number; writeMs: number; totalMs: number };
};

function emptyResult(): ScoreRunResult {
  return { scored: 0, customers: 0, written: 0, unchanged: 0, rfmChanges: 0, churnChanges: 0, stageChanges: 0, contacts: [], timings: { readMs: 0, computeMs: 0, writeMs: 0, totalMs: 0 } };
}

function add(result: ScoreRunResult, scores: CustomerScore[], batch: ScoreBatch, w: ApplyScoresResult): void {
  result.scored += scores.length;
  for (const s of scores) if (s.frequency !== null) result.customers++;
  result.written += w.written;
  result.unchanged += batch.unchanged;
  result.rfmChanges += w.rfm_changes;
  result.churnChanges += w.churn_changes;
  result.stageChanges += w.stage_changes;
}

/**
 * Scores every contact of a workspace as of a day (YYYY-MM-DD). With `parallel` > 1 the contacts
 * are split into that many id ranges, each read, scored and written by its own loop (and
 * connection), so that the database's work uses more than one core.
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
  await db.query(recordRunSql, [workspaceId, options.asOf, options.scoredAt]);
  result.timings.totalMs = performance.now() - started;
  return result;
}

type Rescore = { page: ScorePage; stored: StoredScores };

// One range of a full run, as a pipeline: while page k is scored, page k + 1 is being read and
// page k - 1 written (each on a connection of its own), so that the loop waits for neither the
// reads nor the writes as long as the cores have room.
async function scoreRange(
  db: Db,
  workspaceId: string,
  range: { after: number; upTo: number },
  score: (c: CustomerInput) => CustomerScore,
  result: ScoreRunResult,
  options: { asOf: string; scoredAt: Date; pageSize?: number; onProgress?: (scored: number) => void },
): Promise<void> {
  const pageSize = options.pageSize ?? 10_000;
  const asOfDay = dayOf(options.asOf);
  const read = (after: number) => readRescorePage(db, workspaceId, options.asOf, after, pageSize, range.upTo);
  const write = async (scores: CustomerScore[], batch: ScoreBatch, pageRange: { after: number; upTo: number }) => {
    const t = performance.now();
    add(result, scores, batch, await writeBatch(db, workspaceId, batch, options.scoredAt, pageRange, { asynchronousCommit: true }));
    result.timings.writeMs += performance.now() - t;
    options.onProgress?.(result.scored);
  };
  let after = range.after;
  let writing: Promise<void> = Promise.resolve();
  let pending: Promise<Rescore> | null = read(after);
  try {
    while (pending) {
      let t = performance.now();
      const { page, stored }: Rescore = await pending;
      result.timings.readMs += performance.now() - t;
      if (page.page_size === 0 || page.last_id === null) break;
      t = performance.now();
      const pageRange = { after, upTo: page.last_id };
      after = page.last_id;
      pending = page.page_size === pageSize ? read(after) : null;
      const scores = inputsOf(page).map(score);
      const batch = changedScores(scores, stored, asOfDay);
      result.timings.computeMs += performance.now() - t;
      await writing;
      writing = write(scores, batch, pageRange);
    }
  } finally {
    // A failed read leaves the last write to finish (or fail) before the run reports the failure.
    await writing.catch(() => {});
  }
  await writing;
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
  const { page, stored } = await readRescoreContacts(db, workspaceId, options.asOf, contactIds);
  const scores = inputsOf(page).map(score);
  const batch = changedScores(scores, stored, dayOf(options.asOf));
  let lo = Infinity;
  let hi = -Infinity;
  for (const id of contactIds) {
    lo = Math.min(lo, id);
    hi = Math.max(hi, id);
  }
  const range = { after: lo - 1, upTo: hi };
  add(result, scores, batch, await writeBatch(db, workspaceId, batch, options.scoredAt, range));
  // Contacts asked for but not scored: merged away, anonymous without orders, or erased.
  const scoredIds = new Set(scores.map((s) => s.contactId));
  result.contacts = [...scoredIds, ...contactIds.filter((id) => !scoredIds.has(id))];
  result.timings.totalMs = performance.now() - started;
  return result;
}
