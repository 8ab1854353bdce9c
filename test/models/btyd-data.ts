// Loads the public CDNOW reference data (test/fixtures/btyd/README.md) for the model tests.
import { readFileSync } from 'node:fs';
import type { Transaction } from '../../src/models/btyd/index.ts';

const DIR = new URL('../fixtures/btyd/', import.meta.url);

function read(name: string): string {
  return readFileSync(new URL(name, DIR), 'utf8');
}

/** The 1/10 CDNOW sample as transactions, keyed by sample_id (1..2357). */
export function cdnowSampleTransactions(): Transaction[] {
  return read('CDNOW_sample.txt')
    .trim()
    .split('\n')
    .map((line) => {
      const [, sampleId, date, , dollars] = line.trim().split(/\s+/);
      const d = date!;
      return { customerId: Number(sampleId), date: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`, amount: Number(dollars) };
    });
}

/** The published calibration summary: ID, x, t_x, T (weeks) and zbar, as printed (2 decimals). */
export function cdnowSummary(): { id: number[]; x: number[]; tx: number[]; T: number[]; zbar: number[] } {
  const rows = read('cdnow_customers_summary_with_transactions.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  return {
    id: rows.map((r) => r[0]!),
    x: rows.map((r) => r[1]!),
    tx: rows.map((r) => r[2]!),
    T: rows.map((r) => r[3]!),
    zbar: rows.map((r) => r[4]!),
  };
}

/** The BG/BB donations data: frequency, recency, periods and the number of donors per pattern. */
export function donations(): { x: number[]; tx: number[]; n: number[]; weights: number[] } {
  const rows = read('donations.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  return {
    x: rows.map((r) => r[0]!),
    tx: rows.map((r) => r[1]!),
    n: rows.map((r) => r[2]!),
    weights: rows.map((r) => r[3]!),
  };
}
