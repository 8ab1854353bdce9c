// The CSV reader and the formats' documentation, without a database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createCsvParser, csvLine, readCsv, type CsvRecord } from '../../src/imports/csv.ts';
import { parseTimestamp } from '../../src/imports/fields.ts';
import { importKinds } from '../../src/imports/index.ts';
import { chunks } from './helpers.ts';

async function read(text: string, size = 1 << 20): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const records of readCsv(chunks(text, size))) out.push(...records);
  return out;
}

describe('the CSV reader', () => {
  it('reads quoted cells, mixed line ends and blank lines, giving the line each record starts on', async () => {
    const text = '\ufeffa,b\r\n1,"x\r\ny"\r\n\n"q""uote",5" screen\r"last",\n';
    assert.deepEqual(await read(text), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', 'x\r\ny'] },
      { line: 5, fields: ['q"uote', '5" screen'] },
      { line: 6, fields: ['last', ''] },
    ]);
  });

  it('reports a malformed record and resumes on the next line', async () => {
    assert.deepEqual(await read('a,b\n"x"y,1\n2,3\n"open,4\n5,6\n'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: 'a quoted field must be followed by a comma or the end of the line (found "y")' },
      { line: 3, fields: ['2', '3'] },
      { line: 4, error: 'a quoted field opened on line 4 is never closed; the rest of the file, from line 4, could not be read' },
    ]);
  });

  it('bounds a record, and with it memory, when a quote is left open', () => {
    const p = createCsvParser(10);
    assert.deepEqual([...p.push('"0123456789abc",1\n2,3\n'), ...p.end()], [
      { line: 1, error: 'the row is longer than 10 characters (is a quote left open?)' },
      { line: 2, fields: ['2', '3'] },
    ]);
  });

  it('gives the same records however the bytes are split (property)', async () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const pieces = ['a', 'ł', '🌱', ',', '"', '""', '\n', '\r\n', '\r', ' ', 'x,y'];
    for (let run = 0; run < 200; run++) {
      let text = '';
      for (let i = rnd(60); i > 0; i--) text += pieces[rnd(pieces.length)];
      const whole = await read(text);
      assert.deepEqual(await read(text, 1 + rnd(5)), whole, JSON.stringify(text));
    }
  });

  it('writes cells that read back as they were', async () => {
    const values = ['plain', 'with, comma', 'say "hi"', 'two\nlines', ' padded ', '', '=1+1'];
    const records = await read(csvLine(values));
    assert.deepEqual(records, [{ line: 1, fields: values }]);
  });
});

describe('dates in CSV files', () => {
  it('reads ISO date-times, dates and YYYYMMDD, and refuses days that do not exist', () => {
    const iso = (s: string) => parseTimestamp(s)?.toISOString() ?? null;
    assert.equal(iso('19970101'), '1997-01-01T00:00:00.000Z');
    assert.equal(iso('2026-03-01'), '2026-03-01T00:00:00.000Z');
    assert.equal(iso('2026-03-01T14:30:00+01:00'), '2026-03-01T13:30:00.000Z');
    assert.equal(iso('2026-03-01T14:30:00.25Z'), '2026-03-01T14:30:00.250Z');
    assert.equal(iso('2026-03-01 14:30'), '2026-03-01T14:30:00.000Z');
    assert.equal(iso('2026-03-01T14:30:00+0530'), '2026-03-01T09:00:00.000Z');
    for (const bad of ['20260230', '2026-02-30', '2026-13-01', '2026-03-01T24:00:00Z', 'yesterday', '1/3/2026', '18991231', '2026-03-01T14:30:00+01']) {
      assert.equal(iso(bad), null, bad);
    }
  });
});

describe('docs/csv-formats.md', () => {
  it('lists every column of every format as the code defines it', () => {
    const doc = readFileSync(new URL('../../docs/csv-formats.md', import.meta.url), 'utf8');
    for (const [name, kind] of Object.entries(importKinds)) {
      const section = doc.split(`\n### ${name}\n`)[1]?.split('\n### ')[0] ?? '';
      const rows = [...section.matchAll(/^\| `([^`]+)` \| ([^|]+) \| (yes|no) \| ([^|]+) \|$/gm)].map((m) => [m[1], m[2]!.trim(), m[3] === 'yes', m[4]!.trim()]);
      assert.deepEqual(rows, kind.columns.map((c) => [c.name, c.type, c.required, c.description]), name);
    }
  });
});
