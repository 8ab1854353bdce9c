// The array literals scoring reads back: the digit-by-digit parser must give exactly what Number
// gives for every form Postgres prints (integers, bigints, decimals, shortest-round-trip floats,
// exponents, NULL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNumbers, toPgArray } from '../../src/models/scores/sql/arrays.ts';

test('parseNumbers reads what Number reads', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const values: (number | null)[] = [0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 123.45, -0.5, 1e-7, 1e21, 1.7976931348623157e308, null];
  for (let i = 0; i < 20_000; i++) {
    const kind = i % 5;
    if (kind === 0) values.push(Math.floor(random() * 2 ** 53));
    else if (kind === 1) values.push(Math.round(random() * 1e7) / 100);
    else if (kind === 2) values.push((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
    else if (kind === 3) values.push(null);
    else values.push(Math.floor(random() * 1e6) - 5e5);
  }
  const literal = toPgArray(values);
  const expected = literal.slice(1, -1).split(',').map((s) => (s === 'NULL' ? null : Number(s)));
  const parsed = parseNumbers(literal);
  assert.equal(parsed.length, values.length);
  expected.forEach((v, i) => assert.ok(Object.is(parsed[i], v), `${v} read as ${parsed[i]}`));
  assert.deepEqual(parseNumbers('{-0,-12}'), [-0, -12]);
  assert.deepEqual(parseNumbers('{}'), []);
  assert.deepEqual(parseNumbers('{NULL}'), [null]);
  assert.deepEqual(parseNumbers('{1e+20,-3.50,0.000001,40.699999999999996}'), [1e20, -3.5, 0.000001, 40.699999999999996]);
});
