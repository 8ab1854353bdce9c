import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayNumber, summarizeTransactions } from '../../src/models/btyd/index.ts';
import { cdnowSampleTransactions, cdnowSummary } from './btyd-data.ts';

test('the CDNOW sample summarises to the published calibration summary', () => {
  const summary = summarizeTransactions(cdnowSampleTransactions(), '1997-09-30', 'weeks');
  const published = cdnowSummary();
  assert.equal(summary.customerIds.length, 2357);
  let repeaters = 0;
  for (let i = 0; i < published.id.length; i++) {
    const id = published.id[i]!;
    assert.equal(summary.customerIds[i], id);
    const at = `customer ${id}`;
    assert.equal(summary.x[i], published.x[i], at);
    // Printed to 2 decimals: compare within half a unit in the last place (plus rounding slack).
    assert.ok(Math.abs(summary.tx[i]! - published.tx[i]!) <= 0.0051, `${at} t_x ${summary.tx[i]}`);
    assert.ok(Math.abs(summary.T[i]! - published.T[i]!) <= 0.0051, `${at} T ${summary.T[i]}`);
    assert.ok(Math.abs(summary.zbar[i]! - published.zbar[i]!) <= 0.0051, `${at} zbar ${summary.zbar[i]}`);
    if (summary.x[i]! > 0) repeaters++;
  }
  assert.equal(repeaters, 946);
  // Customer 1: first purchase 1997-01-01, 272 days before the as-of date.
  assert.equal(summary.T[0], 272 / 7);
});

test('same-day orders merge, later orders are ignored, Dates are UTC days', () => {
  const s = summarizeTransactions(
    [
      { customerId: 'a', date: '2024-03-01', amount: 10 },
      { customerId: 'b', date: '2024-03-20', amount: 99 }, // after the as-of date: no customer b
      { customerId: 'a', date: new Date('2024-03-05T23:30:00Z'), amount: 5 },
      { customerId: 'a', date: '2024-03-05', amount: 7 }, // same day as the Date above
      { customerId: 'a', date: '2024-03-01', amount: 1 }, // part of the first purchase
      { customerId: 'c', date: '2024-03-10', amount: 3 },
      { customerId: 'a', date: '2024-03-08', amount: 6 },
      { customerId: 'a', date: '2024-03-12', amount: 2 },
    ],
    '2024-03-10',
    'days',
  );
  assert.deepEqual(s.customerIds, ['a', 'c']);
  assert.deepEqual(Array.from(s.x), [2, 0]);
  assert.deepEqual(Array.from(s.tx), [7, 0]);
  assert.deepEqual(Array.from(s.T), [9, 0]);
  assert.deepEqual(Array.from(s.zbar), [9, 0]); // (12 + 6) / 2
});

test('dates are validated', () => {
  assert.equal(dayNumber('1970-01-02'), 1);
  assert.equal(dayNumber(new Date('1970-01-02T12:00:00+05:00')), 1);
  assert.throws(() => dayNumber('2024-02-30'), RangeError);
  assert.throws(() => dayNumber('20240201'), RangeError);
  assert.throws(() => summarizeTransactions([{ customerId: 1, date: '2024-01-01', amount: NaN }], '2024-02-01'), RangeError);
});
