/**
 * What a rescoring compares its new scores with: per stored row, the fingerprint, the expected
 * next order day and the numbers compared with their stored values (changes.ts), and the order
 * summary the row was computed from with the contact's order version then (0024), which a
 * rescoring uses instead of aggregating the orders again (pages.ts). Read by contact-id range
 * (the primary key's order), like the page it belongs to.
 *
 * The rows come by COPY in binary format (Db.copyTo). All but the fingerprint are packed in one
 * field, `rescore_state` (0030), which Tend writes ({@link writeState}) and reads here: Postgres
 * sends each value of a COPY through its type's output function, and on a million rows eleven
 * separate values cost the server 0.4 s more than one field. A row without a state (written
 * before 0030, or by something else), or with one of an earlier format, reads as knowing no order
 * summary and no numbers: its contact's orders are aggregated and the row rewritten. Each row also comes with its address (ctid), where the
 * rescoring updates it (sql/write-scores.ts). COPY takes no parameters: the workspace id and the
 * name lists go in as literals (sqlLiteral), the ids as integers.
 *
 * The fingerprint's top bits say which RFM cell, churn band and stage the row was written with. A
 * row without a fingerprint (written before fingerprints existed, 0016, or whose names something
 * else changed, such as a journey step: a trigger drops the fingerprint then, 0026) has
 * `stored_code`, the categories as they are stored, so that the rescoring rewrites the row and
 * announces what it really changed from. (Postgres gives the bit operators one precedence, left
 * to right: hence the parentheses.)
 */
import { readCopyBinary, type CopyBinaryWriter, type CopyColumn } from '../../../db/copy-binary.ts';
import { sqlInteger, sqlLiteral, type Queryable } from '../../../db/index.ts';
import { churnBands, lifecycleStages, rfmCells } from '../schema.ts';
import { COMPARED_NUMBERS } from '../changes.ts';
import type { CustomerScore } from '../score.ts';

const list = (names: readonly string[]) => `array[${names.map(sqlLiteral).join(', ')}]::text[]`;
const [cells, bands, stages] = [list(rfmCells), list(churnBands), list(lifecycleStages)];

const select = (workspaceId: string, filter: string) => `
  select contact_id, fingerprint, rescore_state,
    case when fingerprint is null
    then (coalesce(recency_score, 0)::int << 16) | (coalesce(frequency_score, 0)::int << 13) | (coalesce(monetary_score, 0)::int << 10) |
         (coalesce(array_position(${cells}, rfm_cell), 0) << 6) | (coalesce(array_position(${bands}, churn_band), 0) << 3) |
         coalesce(array_position(${stages}, lifecycle_stage), 0)
    end as stored_code, ctid
  from contact_scores where workspace_id = ${sqlLiteral(workspaceId)} and ${filter} order by contact_id`;

const columns: CopyColumn[] = ['int', 'int', 'offset', 'int', 'tid'];

/**
 * The packed state's layout, in network byte order: a format byte (2), then the expected next
 * order day, the purchase days, the first and last purchase day and the gap before the last as
 * 32-bit integers (day numbers since 1970-01-01; -2^31 for none), then the spend on repeat days,
 * the spend in all and the contact's order version as 64-bit floats (NaN for none; the version is
 * a whole number below 2^53), then the numbers a rescoring compares with (changes.ts,
 * COMPARED_NUMBERS) as 32-bit floats (NaN for none: seven significant digits, where the steps
 * compared are a percentage point and 2 %). Format 1 had no numbers.
 */
const FORMAT = 2;
export const STATE_BYTES = 45 + 4 * COMPARED_NUMBERS;
const NO_INT = -(2 ** 31);
const state = Buffer.alloc(STATE_BYTES);

/**
 * Writes the packed state of a contact's scores, with the order version they were computed at, as
 * a bytea field: what the next rescoring reads of the row.
 */
export function writeState(out: CopyBinaryWriter, s: CustomerScore, ordersVersion: number | null): CopyBinaryWriter {
  state[0] = FORMAT;
  state.writeInt32BE(s.expectedNextOrderDay ?? NO_INT, 1);
  state.writeInt32BE(s.purchaseDays, 5);
  state.writeInt32BE(s.firstOrderDay ?? NO_INT, 9);
  state.writeInt32BE(s.lastOrderDay ?? NO_INT, 13);
  state.writeInt32BE(s.lastGap ?? NO_INT, 17);
  state.writeDoubleBE(s.repeatSpend ?? NaN, 21);
  state.writeDoubleBE(s.spend ?? NaN, 29);
  state.writeDoubleBE(ordersVersion ?? NaN, 37);
  state.writeFloatBE(s.pAlive ?? NaN, 45);
  state.writeFloatBE(s.pOrder90d ?? NaN, 49);
  state.writeFloatBE(s.expectedPurchases30d ?? NaN, 53);
  state.writeFloatBE(s.expectedPurchases90d ?? NaN, 57);
  state.writeFloatBE(s.expectedPurchases365d ?? NaN, 61);
  state.writeFloatBE(s.predictedClv ?? NaN, 65);
  return out.text(state);
}

/** Stored rows as parallel arrays sorted by contact id; `stored_code` is set where there is no fingerprint. */
export type StoredScores = {
  id: number[]; fingerprint: (number | null)[]; next_day: (number | null)[]; stored_code: (number | null)[];
  /** The order summary of the row (null where it was written before 0024) and the order version it was read at. */
  purchase_days: (number | null)[]; first_day: (number | null)[]; last_day: (number | null)[]; last_gap: (number | null)[];
  repeat_spend: (number | null)[]; spend: (number | null)[]; orders_version: (number | null)[];
  /** Per row, COMPARED_NUMBERS numbers as stored (changes.ts; NaN for none, or where the row keeps no state). */
  numbers: Float32Array;
  /** Where the row lies (its ctid): the rescoring updates it there (sql/write-scores.ts). */
  tid: (number | null)[];
};

/** No stored rows. */
export const noneStored: StoredScores = {
  id: [], fingerprint: [], next_day: [], stored_code: [], purchase_days: [], first_day: [], last_day: [], last_gap: [], repeat_spend: [], spend: [], orders_version: [], tid: [],
  numbers: new Float32Array(0),
};

async function read(q: Queryable, sql: string): Promise<StoredScores> {
  if (!q.copyTo) throw new Error('reading stored scores needs a database connection that supports COPY');
  const data = await q.copyTo(sql);
  const [id, fingerprint, at, stored_code, tid] = readCopyBinary(data, columns);
  const n = id!.length;
  const fields = ['next_day', 'purchase_days', 'first_day', 'last_day', 'last_gap', 'repeat_spend', 'spend', 'orders_version'] as const;
  const out = Object.fromEntries(fields.map((f) => [f, new Array<number | null>(n)])) as Record<(typeof fields)[number], (number | null)[]>;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const int = (o: number) => {
    const v = view.getInt32(o);
    return v === NO_INT ? null : v;
  };
  const float = (o: number) => {
    const v = view.getFloat64(o);
    return Number.isNaN(v) ? null : v;
  };
  const numbers = new Float32Array(n * COMPARED_NUMBERS).fill(NaN);
  for (let r = 0; r < n; r++) {
    const o = at![r];
    // No state, or one of another format (its length precedes it): nothing is known.
    if (o == null || view.getInt32(o - 4) !== STATE_BYTES || data[o] !== FORMAT) {
      for (const f of fields) out[f][r] = null;
      continue;
    }
    out.next_day[r] = int(o + 1);
    out.purchase_days[r] = view.getInt32(o + 5);
    out.first_day[r] = int(o + 9);
    out.last_day[r] = int(o + 13);
    out.last_gap[r] = int(o + 17);
    out.repeat_spend[r] = float(o + 21);
    out.spend[r] = float(o + 29);
    out.orders_version[r] = float(o + 37);
    for (let i = 0; i < COMPARED_NUMBERS; i++) numbers[r * COMPARED_NUMBERS + i] = view.getFloat32(o + 45 + 4 * i);
  }
  return { id: id as number[], fingerprint: fingerprint!, stored_code: stored_code!, tid: tid!, ...out, numbers };
}

/** The stored scores of the contacts with ids in (after, upTo]. */
export const readStoredRange = (q: Queryable, workspaceId: string, after: number, upTo: number): Promise<StoredScores> =>
  read(q, select(workspaceId, `contact_id > ${sqlInteger(after)} and contact_id <= ${sqlInteger(upTo)}`));

/** The stored scores of the given contacts. */
export const readStoredById = (q: Queryable, workspaceId: string, contactIds: readonly number[]): Promise<StoredScores> =>
  read(q, select(workspaceId, `contact_id = any('{${contactIds.map(sqlInteger).join(',')}}'::bigint[])`));
