/**
 * From a page of new scores and what is stored for the same contacts to the rows to write: the
 * scores that changed (changes.ts), and the stored rows of contacts no longer scored. Then
 * writing them in one transaction per page, by COPY in binary format (db/copy-binary.ts):
 * - a page of which nothing is stored yet (a workspace's first scoring) goes straight into
 *   contact_scores, which costs the server half of what staging and inserting does; should a
 *   contact have been scored meanwhile (after an order), the page is written the other way;
 * - any other page goes into a staging table and is applied by sql/write-scores.ts, which also
 *   announces the changes of cell, band and stage.
 */
import type { Db, Queryable } from '../../db/index.ts';
import { CopyBinaryWriter } from '../../db/copy-binary.ts';
import { categoryCode, codeOf, COMPARED_NUMBERS, fingerprint, nextOrderMoved, numbersMoved } from './changes.ts';
import { blankScore, type CustomerInput, type CustomerScore, type Scorer } from './score.ts';
import type { ScorePage } from './sql/score-page.ts';
import { inputAt } from './pages.ts';
import { churnBands, lifecycleStages, rfmCells } from './schema.ts';
import { STATE_BYTES, writeState, type StoredScores } from './sql/stored-scores.ts';
import { applyScoresSql, batchTarget, createBatchSql, deleteScoresSql, scoresTarget, type ApplyScoresResult } from './sql/write-scores.ts';

// Probabilities and expectations to 6 decimals and money to cents: nothing a marketer could see
// is lost, and what is stored reads the same as before.
const round6 = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);
const cents = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

/**
 * A page's writes: the scores that changed, and the contacts whose stored scores go. Where some
 * of the page is stored (every rescoring), each changed row is encoded for the staging table as
 * it is found; where nothing is (a first scoring), the changed scores are kept, to be written
 * straight into contact_scores.
 */
export type ScoreBatch = {
  /** How many scores changed. */
  count: number;
  /** The changed rows as COPY data for the staging table ({@link batchTarget}), unless nothing is stored. */
  staging: CopyBinaryWriter | null;
  /** When nothing is stored: the changed scores, and per score its category code and fingerprint (changes.ts) and its contact's order version. */
  changed: CustomerScore[];
  codes: number[];
  fingerprints: number[];
  versions: (number | null)[];
  /** Whether no contact of the page had stored scores. */
  nothingStored: boolean;
  /** Contacts scored (customers and known prospects), and the customers among them. */
  scored: number;
  customers: number;
  /** Scored contacts whose stored scores stand (nothing moved beyond its tolerance). */
  unchanged: number;
  /** Contacts with stored scores that are no longer scored (merged away, erased, anonymous). */
  gone: number[];
};

/**
 * Scores a page's contacts and compares them with the stored scores (both sorted by contact id)
 * as of a day, keeping what changed. Each contact is scored into one reused object, and a changed
 * one is encoded for the staging table there and then: on a daily rescoring nine contacts in
 * ten keep their stored scores, and a million short-lived score objects kept the garbage
 * collector busier than the scoring itself. The page's order versions are stored with the
 * scores: a row whose version moved is rewritten even when no score did, so that its stored
 * order summary can be reused (pages.ts), as is a row without a stored summary (no packed state,
 * sql/stored-scores.ts). A stored row that is not among the scored contacts is `gone`.
 */
export function scoreChanges(page: ScorePage, score: Scorer, stored: StoredScores, asOfDay: number): ScoreBatch {
  const nothingStored = stored.id.length === 0;
  const batch: ScoreBatch = {
    count: 0, staging: nothingStored ? null : new CopyBinaryWriter(page.id.length * 60), changed: [], codes: [], fingerprints: [], versions: [],
    nothingStored, scored: page.id.length, customers: 0, unchanged: 0, gone: [],
  };
  const input: CustomerInput = { contactId: 0, x: null, firstDay: null, lastDay: null, lastGap: null, repeatSpend: null, spend: null };
  const s = blankScore();
  let k = 0;
  for (let i = 0; i < page.id.length; i++) {
    score.into(inputAt(page, i, input), s);
    if (s.frequency !== null) batch.customers++;
    const version = page.orders_version[i] ?? null;
    while (k < stored.id.length && stored.id[k]! < s.contactId) batch.gone.push(stored.id[k++]!);
    const code = categoryCode(s);
    const print = fingerprint(s, code);
    let previous: number | null = null;
    let previousCode: number | null = null;
    let previousTid: number | null = null;
    if (k < stored.id.length && stored.id[k] === s.contactId) {
      previous = stored.fingerprint[k] ?? null;
      previousTid = stored.tid[k] ?? null;
      const storedCode = stored.stored_code[k] ?? null; // categories not those of the fingerprint
      previousCode = storedCode ?? codeOf(previous!);
      const hasState = stored.purchase_days[k] != null;
      const sameVersion = (stored.orders_version[k] ?? null) === version;
      if (
        storedCode === null && hasState && previous === print && sameVersion && !nextOrderMoved(stored.next_day[k] ?? null, s.expectedNextOrderDay, asOfDay) &&
        !numbersMoved(stored.numbers, k * COMPARED_NUMBERS, s)
      ) {
        k++;
        batch.unchanged++;
        continue;
      }
      k++;
    }
    batch.count++;
    if (batch.staging) stagingRow(batch.staging, s, code, print, version, previous, previousCode, previousTid);
    else {
      batch.changed.push({ ...s });
      batch.codes.push(code);
      batch.fingerprints.push(print);
      batch.versions.push(version);
    }
  }
  while (k < stored.id.length) batch.gone.push(stored.id[k++]!);
  return batch;
}

/**
 * A row of the staging table ({@link batchTarget}); `previous…` are those of the stored row it
 * replaces (null for a new row).
 */
function stagingRow(
  out: CopyBinaryWriter, s: CustomerScore, code: number, print: number, version: number | null,
  previous: number | null, previousCode: number | null, previousTid: number | null,
): void {
  out.row(17, STATE_BYTES).int8(s.contactId).int8(previous).int4(previousCode).int4(code)
    .float8(round6(s.pAlive)).float8(round6(s.expectedPurchases30d)).float8(round6(s.expectedPurchases90d)).float8(round6(s.expectedPurchases365d))
    .int4(s.expectedNextOrderDay).float8(cents(s.predictedClv)).float8(round6(s.pOrder90d))
    .int4(s.purchaseDays).int4(s.firstOrderDay).int4(s.lastOrderDay).int8(print);
  writeState(out, s, version).tid(previousTid);
}

/** The batch as rows of the staging table. */
function stagingRows(b: ScoreBatch): Uint8Array {
  if (b.staging) return b.staging.finish();
  const out = new CopyBinaryWriter(b.changed.length * 200);
  b.changed.forEach((s, i) => stagingRow(out, s, b.codes[i]!, b.fingerprints[i]!, b.versions[i] ?? null, null, null, null));
  return out.finish();
}

const utf8 = <T extends string>(list: readonly T[]) => new Map<T | null, Uint8Array>(list.map((v) => [v, Buffer.from(v)]));
const cellBytes = utf8(rfmCells);
const bandBytes = utf8(churnBands);
const stageBytes = utf8(lifecycleStages);

/** The batch as rows of contact_scores itself ({@link scoresTarget}). */
function tableRows(b: ScoreBatch, workspaceId: string, scoredAt: Date): Uint8Array {
  const out = new CopyBinaryWriter(b.changed.length * 260);
  const ws = Buffer.from(workspaceId);
  const at = scoredAt.getTime();
  for (let i = 0; i < b.changed.length; i++) {
    const s = b.changed[i]!;
    const alive = round6(s.pAlive);
    out.row(22, ws.length + 64 + STATE_BYTES).text(ws).int8(s.contactId).int2(s.recencyScore).int2(s.frequencyScore).int2(s.monetaryScore)
      .text(cellBytes.get(s.rfmCell) ?? null).float8(alive).float8(alive === null ? null : 1 - alive).text(bandBytes.get(s.churnBand) ?? null)
      .float8(round6(s.expectedPurchases30d)).float8(round6(s.expectedPurchases90d)).float8(round6(s.expectedPurchases365d))
      .date(s.expectedNextOrderDay).float8(cents(s.predictedClv))
      .text(stageBytes.get(s.lifecycleStage)!).float8(round6(s.pOrder90d)).int4(s.purchaseDays).date(s.firstOrderDay).date(s.lastOrderDay)
      .int8(b.fingerprints[i]!).timestamptz(at);
    writeState(out, s, b.versions[i] ?? null);
  }
  return out.finish();
}

// A full run's pages do not wait for their commit to reach the disk: scores are derived data, a
// crash may lose the last pages a run committed (never half of one), and the next run writes them
// again (and announces what they changed then). A contact rescored after an order waits, as
// everything else does.
const asynchronousCommit = `set local synchronous_commit = off`;

const none: ApplyScoresResult = { written: 0, rfm_changes: 0, churn_changes: 0, stage_changes: 0 };
type Transactional = Pick<Db, 'transaction'>;

function copier(tx: Queryable): NonNullable<Queryable['copyFrom']> {
  if (!tx.copyFrom) throw new Error('writing scores needs a database connection that supports COPY');
  return tx.copyFrom.bind(tx);
}

/**
 * Writes a batch whose contacts lie in the ids (after, upTo], in one transaction: the changed
 * scores, the events of what changed, and the removal of the scores that go. A full run's pages
 * commit asynchronously (below).
 */
export async function writeBatch(
  db: Transactional,
  workspaceId: string,
  batch: ScoreBatch,
  scoredAt: Date,
  range: { after: number; upTo: number },
  options: { asynchronousCommit?: boolean } = {},
): Promise<ApplyScoresResult> {
  if (batch.count === 0 && batch.gone.length === 0) return none;
  if (batch.nothingStored && batch.count > 0) {
    try {
      const written = await db.transaction((tx) => copier(tx)(scoresTarget, tableRows(batch, workspaceId, scoredAt)), {
        setup: options.asynchronousCommit ? [asynchronousCommit] : [],
      });
      return { ...none, written };
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== '23505') throw err; // not a contact scored meanwhile
    }
  }
  // The staging table is created (when the connection has none yet) with BEGIN, in one round trip:
  // a page's write is a few statements, each of which waits for both cores to be free.
  const setup = [...(options.asynchronousCommit ? [asynchronousCommit] : []), ...(batch.count > 0 ? [createBatchSql] : [])];
  return db.transaction(async (tx) => {
    let result = none;
    if (batch.count > 0) {
      await copier(tx)(batchTarget, stagingRows(batch));
      result = (await tx.query<ApplyScoresResult>(applyScoresSql, [workspaceId, scoredAt, rfmCells, churnBands, lifecycleStages, range.after, range.upTo])).rows[0]!;
    }
    if (batch.gone.length > 0) await tx.query(deleteScoresSql, [workspaceId, batch.gone]);
    return result;
  }, { setup });
}
