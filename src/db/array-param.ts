/**
 * A one-dimensional array parameter (`text[]`, `jsonb[]`, `timestamptz[]` or `boolean[]`), which each database
 * port sends in the form that costs it least: a Postgres server receives it in binary (each
 * element's bytes behind its length, nothing to escape on either side), the embedded database as
 * an array literal. A jsonb element is given as its JSON text.
 *
 * Why not one JSON document: on PostgreSQL 15 `jsonb_in` builds every string of a document
 * character by character, and a batch sent as one document is parsed whole (keys, ids, times),
 * then taken apart again into columns. Parallel arrays leave only the JSON values themselves
 * (an event's properties, say) to parse.
 */
export type ArrayElementType = 'text' | 'jsonb' | 'timestamptz' | 'bool';

export class ArrayParam {
  readonly type: ArrayElementType;
  readonly values: readonly (string | Date | boolean | null | undefined)[];
  constructor(type: ArrayElementType, values: readonly (string | Date | boolean | null | undefined)[]) {
    this.type = type;
    this.values = values;
  }
}

/** `text[]` from strings; null and undefined are SQL nulls. */
export const textArray = (values: readonly (string | null | undefined)[]) => new ArrayParam('text', values);
/** `jsonb[]` from JSON texts (JSON.stringify's output); null and undefined are SQL nulls. */
export const jsonbArray = (values: readonly (string | null | undefined)[]) => new ArrayParam('jsonb', values);
/** `timestamptz[]` from dates; null and undefined are SQL nulls. */
export const timestamptzArray = (values: readonly (Date | null | undefined)[]) => new ArrayParam('timestamptz', values);
/** `boolean[]`; null and undefined are SQL nulls. */
export const boolArray = (values: readonly (boolean | null | undefined)[]) => new ArrayParam('bool', values);

const ELEMENT_OID: Record<ArrayElementType, number> = { text: 25, jsonb: 3802, timestamptz: 1184, bool: 16 };
// Postgres counts timestamps in microseconds from 2000-01-01.
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

function elementText(type: ArrayElementType, value: string | Date | boolean, index: number): string {
  if (type === 'bool') {
    if (typeof value !== 'boolean') throw new TypeError(`array element ${index} is not a boolean`);
    return value ? 't' : 'f';
  }
  if (type === 'timestamptz') {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`array element ${index} is not a valid date`);
    return value.toISOString();
  }
  if (typeof value !== 'string') throw new TypeError(`array element ${index} is not a string`);
  return value;
}

/** The array in PostgreSQL's binary format (what `array_send` writes and `array_recv` reads). */
export function encodeArrayBinary(param: ArrayParam): Buffer {
  const { type, values } = param;
  let bound = 20;
  for (const v of values) bound += 4 + (typeof v === 'string' ? 3 * v.length + 1 : 8);
  const out = Buffer.allocUnsafe(bound);
  let hasNull = 0;
  let at = 20;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      out.writeInt32BE(-1, at);
      at += 4;
      hasNull = 1;
      continue;
    }
    if (type === 'bool') {
      if (typeof v !== 'boolean') throw new TypeError(`array element ${i} is not a boolean`);
      out.writeInt32BE(1, at);
      out[at + 4] = v ? 1 : 0;
      at += 5;
      continue;
    }
    if (type === 'timestamptz') {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw new TypeError(`array element ${i} is not a valid date`);
      out.writeInt32BE(8, at);
      out.writeBigInt64BE(BigInt(v.getTime() - PG_EPOCH_MS) * 1000n, at + 4);
      at += 12;
      continue;
    }
    if (typeof v !== 'string') throw new TypeError(`array element ${i} is not a string`);
    let start = at + 4;
    if (type === 'jsonb') out[start++] = 1; // jsonb's binary format: a version byte, then the JSON text
    const end = start + out.write(v, start, 'utf8');
    out.writeInt32BE(end - at - 4, at);
    at = end;
  }
  out.writeInt32BE(values.length === 0 ? 0 : 1, 0); // dimensions
  out.writeInt32BE(hasNull, 4);
  out.writeInt32BE(ELEMENT_OID[type], 8);
  if (values.length === 0) return out.subarray(0, 12);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  return out.subarray(0, at);
}

/** The array as an array literal (`{"a","b",NULL}`), every element quoted. */
export function encodeArrayLiteral(param: ArrayParam): string {
  const parts = param.values.map((v, i) =>
    v === null || v === undefined ? 'NULL' : `"${elementText(param.type, v, i).replace(/["\\]/g, '\\$&')}"`,
  );
  return `{${parts.join(',')}}`;
}
