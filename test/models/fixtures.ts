// Helpers for the customer-score tests: the CDNOW sample as an orders CSV in Tend's import format,
// made at test time from the reference data in test/fixtures/btyd.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Tend } from '../../src/tend.ts';
import { runImport } from '../../src/imports/index.ts';

const SAMPLE = new URL('../fixtures/btyd/CDNOW_sample.txt', import.meta.url);

/**
 * The CDNOW 1/10 sample (whitespace-separated master_id, sample_id, YYYYMMDD, number of CDs,
 * dollar value) as `order_id,user_id,ordered_at,total`: one order per line, user_id the sample id
 * (1..2357), ordered_at the YYYYMMDD day as given (the import reads it as that UTC day).
 */
export function cdnowOrdersCsv(): string {
  const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const out = ['order_id,user_id,ordered_at,total'];
  lines.forEach((line, i) => {
    const [, sampleId, day, , dollars] = line.trim().split(/\s+/);
    out.push(`cdnow-${i + 1},${Number(sampleId)},${day},${dollars}`);
  });
  return out.join('\n') + '\n';
}

/** Writes the CDNOW orders CSV to a file (for the CLI). */
export function writeCdnowCsv(path: string): void {
  writeFileSync(path, cdnowOrdersCsv());
}

/** Imports the CDNOW sample into a workspace through the normal order import. */
export async function importCdnow(tend: Tend, workspaceId: string): Promise<void> {
  const csv = cdnowOrdersCsv();
  const job = await runImport(tend, { workspaceId, kind: 'orders', input: [csv] });
  if (job.status !== 'completed' || job.rowsRejected > 0) throw new Error(`CDNOW import failed: ${JSON.stringify(job)}`);
}

/** The published estimates (Fader, Hardie & Lee 2005) and how many decimals the papers print. */
export const published = {
  bgnbd: { r: [0.243, 3], alpha: [4.414, 3], a: [0.793, 3], b: [2.426, 3], logLikelihood: [-9582.4, 1] },
  gammaGamma: { p: [6.25, 2], q: [3.74, 2], gamma: [15.44, 2] },
} as const;

/** Does `value` round to `expected` at `decimals` decimals? */
export function roundsTo(value: number, expected: number, decimals: number): boolean {
  return Math.abs(value - expected) <= 0.5 * 10 ** -decimals + 1e-12;
}
