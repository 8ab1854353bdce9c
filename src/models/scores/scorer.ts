/**
 * The scoring pipeline: contacts are read in pages with what is stored for them (pages.ts),
 * scored in memory (score.ts), compared with the stored scores (changes.ts), and only what
 * changed is written back (writer.ts), each page in its own transaction. While one page is scored,
 * the next is being read and the previous one written, so the database and Node work at the same
 * time. A full run that stops half-way leaves every page it finished complete and consistent;
 * running it again finishes the rest.
 */
import type { Db } from '../../db/index.ts';
import { contactRanges, dayOf, utcDate } from './inputs.ts';
import { createScorer, type Scorer } from './score.ts';
import type { ModelSettings, StoredFit } from './schema.ts';
import { readRescoreContacts, readRescorePage, type InputsPlan } from './pages.ts';
import { parseNumbers } from './sql/arrays.ts';
import { orderedBetweenSql, snapshotXminSql, versionsChangedSinceSql, type OrderVersions } from './sql/customer-days.ts';
import type { ScorePage } from './sql/score-page.ts';
import type { StoredScores } from './sql/stored-scores.ts';
import { deleteScoresAfterSql, lowerRunAsOfSql, recordRunSql, type ApplyScoresResult } from './sql/write-scores.ts';
import { scoreChanges, writeBatch, type ScoreBatch } from './writer.ts';

export type ScoreContext = { fit: StoredFit | null; settings: ModelSettings };

export type ScoreRunResult = {
  /** Contacts scored (customers and known prospects). */
  scored: number;
  customers: number;
  /** Customers whose orders were aggregated; the others' stored order summaries still held (pages.ts). */
  aggregated: number;
  /** Rows written: new scores, and scores that moved beyond their tolerance (changes.ts). */
  written: number;
  /** Contacts whose stored scores stand: nothing moved beyond its tolerance. */
  unchanged: number;
  /** Changed rows left to a writer that rescored the same contacts meanwhile (after an order, or another run). */
  superseded: number;
  rfmChanges: number;
  churnChanges: number;
  stageChanges: number;
  /** The contacts whose scores were written or removed (rescoring only lists them). */
  contacts: number[];
  /** Milliseconds waiting for reads, scoring and comparing in memory, and writing (summed over parallel loops); and in all. */
  timings: { readMs: number; computeMs: number; writeMs: number; totalMs: number };
};

function emptyResult(): ScoreRunResult {
  return { scored: 0, customers: 0, aggregated: 0, written: 0, unchanged: 0, superseded: 0, rfmChanges: 0, churnChanges: 0, stageChanges: 0, contacts: [], timings: { readMs: 0, computeMs: 0, writeMs: 0, totalMs: 0 } };
}

function add(result: ScoreRunResult, batch: ScoreBatch, w: ApplyScoresResult): void {
  result.scored += batch.scored;
  result.customers += batch.customers;
  result.written += w.written;
  result.unchanged += batch.unchanged;
  result.superseded += batch.count - w.written;
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
  // The mark first: everything the run reads is read after it (inputsPlan says what it is for).
  const mark = (await db.query<{ xmin: string }>(snapshotXminSql)).rows[0]!.xmin;
  const plan = await inputsPlan(db, workspaceId, options.asOf, options.scoredAt);
  const ranges = await contactRanges(db, workspaceId, Math.max(1, options.parallel ?? 1));
  await Promise.all(ranges.map((range) => scoreRange(db, workspaceId, range, score, plan, result, options)));
  const last = ranges.length > 0 ? ranges[ranges.length - 1]!.upTo : 0;
  await db.query(deleteScoresAfterSql, [workspaceId, last]);
  // A run that left rows to another writer records no mark (inputsPlan says why).
  await db.query(recordRunSql, [workspaceId, options.asOf, options.scoredAt, result.superseded === 0 ? mark : null]);
  result.timings.totalMs = performance.now() - started;
  return result;
}

/**
 * Beyond this many contacts with orders since the last run (on a new day, or written since its
 * mark), aggregating everybody, or reading everybody's order version, costs less than picking
 * them out.
 */
const MAX_ORDERED_SINCE = 100_000;

/**
 * Whether a full run may reuse the order summaries stored with the scores (pages.ts). The stored
 * summaries are as of the latest full run's as-of day or later (score_runs; rows rescored after
 * an order are as of their day), so they hold for a run as of that day or later, for every
 * contact whose orders were not written since (their order version says) and who has no order on
 * a day in between. A run as of an earlier day (a back-test) or of a day before today aggregates
 * everybody, and first lowers the recorded as-of day, so that should it stop half-way, the next
 * run knows that some summaries are as of that earlier day.
 *
 * Whose orders were written since is known without reading everybody's order version (0029).
 * Each full run records a mark, the oldest transaction running when it began; the next run reads
 * only the versions bumped by a transaction at or above it (`changed`), and takes everybody
 * else's to be the one stored with their scores. That holds because:
 * - a transaction below the mark had finished before the run read anything, so the run saw its
 *   orders; and it rewrote the row of every contact whose version had moved since the row was
 *   written (the run before had marked it changed, or, for the first run with a mark, read every
 *   version), with the version it read and a summary aggregated after reading it;
 * - that rewrite moved the row, so a writer that read the row before it (a contact rescored after
 *   an order, with an older summary) finds it gone and leaves it (sql/write-scores.ts);
 * - a run whose own rewrite found its row gone (`superseded`: someone else wrote it after the
 *   run's read) cannot tell whether what that writer stored is as recent, and records no mark:
 *   the next run then reads every version, as the first run did.
 * A version bumped above the mark is read by the next run, whose stored version then differs.
 */
async function inputsPlan(db: Db, workspaceId: string, asOf: string, scoredAt: Date): Promise<InputsPlan> {
  const { rows } = await db.query<{ as_of: string; mark: string | null }>(
    `select as_of::text as as_of, snapshot_xmin::text as mark from score_runs where workspace_id = $1`, [workspaceId],
  );
  const last = rows[0]?.as_of;
  if (last !== undefined && last <= asOf && asOf >= utcDate(scoredAt)) {
    const ids = await db.query<{ id: string }>(orderedBetweenSql, [workspaceId, last, asOf, MAX_ORDERED_SINCE + 1]);
    const orderedSince = new Set(parseNumbers(ids.rows[0]!.id) as number[]);
    if (orderedSince.size <= MAX_ORDERED_SINCE) return { kind: 'stored', orderedSince, changed: await changedSince(db, workspaceId, rows[0]!.mark) };
  }
  await db.query(lowerRunAsOfSql, [workspaceId, asOf]);
  return { kind: 'aggregate' };
}

/** The order versions bumped at or above a mark (sorted by contact id); null without a mark or when there are too many. */
async function changedSince(db: Db, workspaceId: string, mark: string | null): Promise<OrderVersions | null> {
  if (mark === null) return null;
  const { rows } = await db.query<{ id: string; version: string }>(versionsChangedSinceSql, [workspaceId, mark, MAX_ORDERED_SINCE + 1]);
  const id = parseNumbers(rows[0]!.id) as number[];
  return id.length > MAX_ORDERED_SINCE ? null : { id, version: parseNumbers(rows[0]!.version) as number[] };
}

type Rescore = { page: ScorePage; stored: StoredScores; aggregated: number };

// One range of a full run, as a pipeline: while page k is scored, page k + 1 is being read and
// page k - 1 written (each on a connection of its own), so that the loop waits for neither the
// reads nor the writes as long as the cores have room.
async function scoreRange(
  db: Db,
  workspaceId: string,
  range: { after: number; upTo: number },
  score: Scorer,
  plan: InputsPlan,
  result: ScoreRunResult,
  options: { asOf: string; scoredAt: Date; pageSize?: number; onProgress?: (scored: number) => void },
): Promise<void> {
  const pageSize = options.pageSize ?? 10_000;
  const asOfDay = dayOf(options.asOf);
  const read = (after: number) => readRescorePage(db, workspaceId, options.asOf, after, pageSize, range.upTo, plan);
  const write = async (batch: ScoreBatch, pageRange: { after: number; upTo: number }) => {
    const t = performance.now();
    add(result, batch, await writeBatch(db, workspaceId, batch, options.scoredAt, pageRange, { asynchronousCommit: true }));
    result.timings.writeMs += performance.now() - t;
    options.onProgress?.(result.scored);
  };
  let after = range.after;
  let writing: Promise<void> = Promise.resolve();
  let pending: Promise<Rescore> | null = read(after);
  try {
    while (pending) {
      let t = performance.now();
      const { page, stored, aggregated }: Rescore = await pending;
      result.timings.readMs += performance.now() - t;
      result.aggregated += aggregated;
      if (page.page_size === 0 || page.last_id === null) break;
      t = performance.now();
      const pageRange = { after, upTo: page.last_id };
      after = page.last_id;
      pending = page.page_size === pageSize ? read(after) : null;
      const batch = scoreChanges(page, score, stored, asOfDay);
      result.timings.computeMs += performance.now() - t;
      await writing;
      writing = write(batch, pageRange);
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
  const batch = scoreChanges(page, score, stored, dayOf(options.asOf));
  result.aggregated = batch.customers;
  let lo = Infinity;
  let hi = -Infinity;
  for (const id of contactIds) {
    lo = Math.min(lo, id);
    hi = Math.max(hi, id);
  }
  const range = { after: lo - 1, upTo: hi };
  add(result, batch, await writeBatch(db, workspaceId, batch, options.scoredAt, range));
  // Contacts asked for but not scored: merged away, anonymous without orders, or erased.
  const scoredIds = new Set(page.id);
  result.contacts = [...scoredIds, ...contactIds.filter((id) => !scoredIds.has(id))];
  result.timings.totalMs = performance.now() - started;
  return result;
}
