import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from './helpers/db.ts';
import { boolArray, jsonbArray, migrate, sqlLiteral, textArray, timestamptzArray, type Db } from '../src/db/index.ts';
import { EventEmitter } from 'node:events';
import { readCopyBinary } from '../src/db/copy-binary.ts';
import { copyOut } from '../src/db/copy-out.ts';
import { splitStatements } from '../src/db/migrate.ts';

for (const target of testDatabases()) {
  describe(`database (${target.name})`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(() => db.close());

    it('applies migrations once and parses types the same way', async () => {
      assert.deepEqual(await migrate(db), []);
      const { rows } = await db.query<{ n: number; m: number; t: Date; j: { a: number } }>(
        `select 9007199254740991::bigint as n, 12.34::numeric as m, now() as t, '{"a":1}'::jsonb as j`,
      );
      assert.equal(rows[0]!.n, 9007199254740991);
      assert.equal(rows[0]!.m, 12.34);
      assert.ok(rows[0]!.t instanceof Date);
      assert.deepEqual(rows[0]!.j, { a: 1 });
      const arrays = await db.query<{ ids: number[]; amounts: number[] }>(`select array[1, 2]::bigint[] as ids, array[1.5]::numeric[] as amounts`);
      assert.deepEqual(arrays.rows[0], { ids: [1, 2], amounts: [1.5] });
    });

    it('takes array parameters of text, jsonb and timestamptz, nulls and hostile strings included', async () => {
      const texts = ['plain', null, 'quote " backslash \\ comma , braces {} NULL', '', 'ünïcødé ✓ 𝄞', undefined, 'NULL'];
      const json = [JSON.stringify({ a: 'x"y\\z', n: [1, 2.5, null], u: 'é𝄞' }), null, '[]', '"NULL"', JSON.stringify({ deep: { k: '{}' } })];
      const dates = [new Date('2026-10-01T12:34:56.789Z'), null, new Date('1969-07-20T20:17:40Z'), new Date('2000-01-01T00:00:00Z')];
      const flags = [true, null, false];
      const { rows } = await db.query<{ t: (string | null)[]; j: unknown[]; d: (Date | null)[]; b: (boolean | null)[]; n: number; e: number }>(
        `select $1::text[] as t, $2::jsonb[] as j, $3::timestamptz[] as d, $5::boolean[] as b, cardinality($1::text[]) as n, cardinality($4::text[]) as e`,
        [textArray(texts), jsonbArray(json), timestamptzArray(dates), textArray([]), boolArray(flags)],
      );
      assert.deepEqual(rows[0]!.b, flags);
      assert.deepEqual(rows[0]!.t, texts.map((t) => t ?? null));
      assert.deepEqual(rows[0]!.j, json.map((j) => (j === null ? null : JSON.parse(j))));
      assert.deepEqual(rows[0]!.d, dates);
      assert.equal(rows[0]!.n, texts.length);
      assert.equal(rows[0]!.e, 0);
      // Element by element through unnest, as the ingest function reads them.
      const zipped = await db.query<{ t: string | null; o: number }>(
        `select t, o::int from unnest($1::text[]) with ordinality as x(t, o) order by o`,
        [textArray(texts)],
      );
      assert.deepEqual(zipped.rows.map((r) => r.t), texts.map((t) => t ?? null));
      await assert.rejects(db.query(`select $1::jsonb[]`, [jsonbArray(['{not json'])]), /json/i);
      await assert.rejects(db.query(`select $1::timestamptz[]`, [timestamptzArray([new Date(Number.NaN)])]), /not a valid date/);
    });

    it('rolls back a failed transaction', async () => {
      await db.query(`create table if not exists tx_probe (k text primary key)`);
      await db.query(`delete from tx_probe where k = 'x'`);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query(`insert into tx_probe values ('x')`);
          throw new Error('boom');
        }),
        /boom/,
      );
      const { rows } = await db.query(`select * from tx_probe where k = 'x'`);
      assert.equal(rows.length, 0);
    });

    it('reads a query by COPY in binary format, with literals that hold quotes and backslashes', async () => {
      const hostile = `it's a \\ back'slash\\'; drop table x; --`;
      const sql = `select n::int2, n * 100000::int4, n * 3000000000::bigint, case when n = 2 then null else n / 4.0 end::float8, length(${sqlLiteral(hostile)})
                     from generate_series(1, 3) n where ${sqlLiteral(hostile)} = $h$${hostile}$h$ order by n`;
      const [small, int, big, float, length] = readCopyBinary(await db.copyTo!(sql), ['int', 'int', 'int', 'float8', 'int']);
      assert.deepEqual(small, [1, 2, 3]);
      assert.deepEqual(int, [100000, 200000, 300000]);
      assert.deepEqual(big, [3000000000, 6000000000, 9000000000]);
      assert.deepEqual(float, [0.25, null, 0.75]);
      assert.deepEqual(length, [hostile.length, hostile.length, hostile.length]);
      assert.deepEqual(readCopyBinary(await db.copyTo!(`select 1 where false`), ['int']), [[]]);
      assert.deepEqual(
        readCopyBinary(await db.copyTo!(`select date '1970-01-02', date '1969-12-31', '(3,7)'::tid, null::date`), ['date', 'date', 'tid', 'date']),
        [[1], [-1], [3 * 65_536 + 7], [null]],
      );
      assert.throws(() => sqlLiteral('a\0b'), /NUL/);
    });

    it('reads a COPY of many chunks whole, passes notices over, and stays usable after an error half-way', async () => {
      const rows = 200_000; // several megabytes: many socket reads, messages cut anywhere
      const [n, twice] = readCopyBinary(await db.copyTo!(`select i, i * 2::bigint from generate_series(1, ${rows}) i`), ['int', 'int']);
      assert.equal(n!.length, rows);
      assert.ok(n!.every((v, i) => v === i + 1) && twice!.every((v, i) => v === 2 * (i + 1)));
      await db.query(`create or replace function copy_probe_notice(i int) returns int language plpgsql as $$
                      begin if i % 1000 = 0 then raise notice 'row %', i; end if; return i; end $$`);
      const [noticed] = readCopyBinary(await db.copyTo!(`select copy_probe_notice(i) from generate_series(1, 5000) i`), ['int']);
      assert.deepEqual(noticed!.slice(-2), [4999, 5000]);
      await assert.rejects(db.copyTo!(`select 1 / (i - 150000) from generate_series(1, ${rows}) i`), /division by zero/);
      const { rows: after } = await db.query<{ ok: number }>(`select 1 as ok`);
      assert.deepEqual(after, [{ ok: 1 }]);
      assert.deepEqual(await db.transaction(async (tx) => readCopyBinary(await tx.copyTo!(`select 7`), ['int'])), [[7]]);
    });

    it('runs a transaction\'s setup statements first', async () => {
      const { rows } = await db.transaction(
        (tx) => tx.query<{ commit: string }>(`select current_setting('synchronous_commit') as commit`),
        { setup: [`set local synchronous_commit = off`, `create temp table if not exists setup_probe (k int) on commit drop`] },
      );
      assert.deepEqual(rows, [{ commit: 'off' }]);
      assert.equal((await db.query<{ s: string }>(`select current_setting('synchronous_commit') as s`)).rows[0]!.s, 'on');
    });

    it('delivers notifications', async () => {
      const got = new Promise<string>((resolve) => {
        void db.listen('tend_probe', resolve);
      });
      await new Promise((r) => setTimeout(r, 50));
      await db.query(`select pg_notify('tend_probe', 'hello')`);
      assert.equal(await got, 'hello');
    });
  });
}

describe('splitStatements', () => {
  it('keeps dollar-quoted bodies whole and drops comment lines', () => {
    const parts = splitStatements(`-- c\ncreate table a (x int);\ncreate function f() returns int as $$\nselect 1;\n$$ language sql;\n`);
    assert.equal(parts.length, 2);
    assert.match(parts[1]!, /select 1;/);
  });
});

describe('COPY TO STDOUT on a server connection', () => {
  // The server's messages: a type byte and a length that counts itself, then the payload.
  const message = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(payload.length + 4, 1);
    return Buffer.concat([head, payload]);
  };
  const rows = [Buffer.from('first row'), Buffer.alloc(300, 7), Buffer.from('x')];
  const copy = Buffer.concat([
    message('H', Buffer.from([1, 0, 0])),
    message('d', rows[0]!),
    message('N', Buffer.from('a notice\0')),
    message('d', rows[1]!),
    message('d', rows[2]!),
    message('c', Buffer.alloc(0)),
  ]);
  const after = Buffer.concat([message('C', Buffer.from('COPY 3\0')), message('Z', Buffer.from('I'))]);

  // A client whose connection gets the bytes in the given pieces; returns what the copy read and what the client was handed back.
  async function run(pieces: Buffer[]) {
    const stream = new EventEmitter();
    const handedBack: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => handedBack.push(chunk));
    let submitted: { handleReadyForQuery(): void; handleError(err: Error): void } | null = null;
    const client = { query: (q: { submit(c: unknown): void }) => { submitted = q as never; q.submit({ stream, query: () => {} }); } };
    const done = copyOut(client as never, 'copy (select 1) to stdout');
    for (const piece of pieces) stream.emit('data', piece);
    submitted!.handleReadyForQuery();
    return { data: Buffer.from(await done), handedBack: Buffer.concat(handedBack) };
  }

  it('keeps the rows and hands back what follows the data, however the bytes are cut', async () => {
    const all = Buffer.concat([copy, after]);
    for (let cut = 0; cut <= all.length; cut++) {
      const { data, handedBack } = await run([all.subarray(0, cut), all.subarray(cut)]);
      assert.deepEqual(data, Buffer.concat(rows), `cut at ${cut}`);
      assert.deepEqual(handedBack, after, `cut at ${cut}`);
    }
    const bytes = [...all].map((b) => Buffer.from([b]));
    assert.deepEqual(await run(bytes), { data: Buffer.concat(rows), handedBack: after });
  });

  it('hands an error back whole, header and all', async () => {
    const error = message('E', Buffer.from('SERROR\0Mdivision by zero\0\0'));
    const all = Buffer.concat([copy.subarray(0, copy.length - 5), error, message('Z', Buffer.from('I'))]);
    for (const cut of [copy.length - 5, copy.length - 3, copy.length - 1]) {
      const { handedBack } = await run([all.subarray(0, cut), all.subarray(cut)]);
      assert.deepEqual(handedBack, all.subarray(copy.length - 5), `cut at ${cut}`);
    }
  });
});
