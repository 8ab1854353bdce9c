// When a rescoring counts a contact's numbers as moved (changes.ts): by a whole step from the value
// stored, not by crossing the edge of a bucket. A number that wobbles across a round value stays
// as stored; one that drifts is rewritten each time it has gone a whole step from what was
// written last.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMPARED_NUMBERS, numbersMoved } from '../../src/models/scores/changes.ts';
import { blankScore, type CustomerScore } from '../../src/models/scores/score.ts';

const customer = (pAlive: number, e365 = 2, clv = 100): CustomerScore => ({
  ...blankScore(),
  pAlive, churnRisk: 1 - pAlive, pOrder90d: pAlive * 0.5, expectedPurchases30d: e365 / 12, expectedPurchases90d: e365 / 4,
  expectedPurchases365d: e365, predictedClv: clv,
});

// The numbers as a stored row keeps them: 32-bit floats, NaN for none.
function stored(s: CustomerScore): Float32Array {
  return Float32Array.from([s.pAlive, s.pOrder90d, s.expectedPurchases30d, s.expectedPurchases90d, s.expectedPurchases365d, s.predictedClv].map((v) => v ?? NaN));
}

describe('a rescoring compares numbers with their stored values', () => {
  it('leaves a probability that wobbles across a round value, and rewrites one a percentage point away', () => {
    const row = stored(customer(0.5001));
    assert.equal(numbersMoved(row, 0, customer(0.4999)), false);
    assert.equal(numbersMoved(row, 0, customer(0.4951)), false);
    assert.equal(numbersMoved(row, 0, customer(0.4899)), true);
    assert.equal(numbersMoved(row, 0, customer(0.5102)), true);
  });

  it('rewrites a drifting probability each time it has gone a whole point from what was written last', () => {
    let row = stored(customer(0.6));
    const rewritten: number[] = [];
    for (let day = 1; day <= 20; day++) {
      const now = customer(0.6 - 0.003 * day);
      if (numbersMoved(row, 0, now)) {
        rewritten.push(day);
        row = stored(now);
      }
    }
    // 0.3 points a day: a whole point after four days, then four days after each rewrite.
    assert.deepEqual(rewritten, [4, 8, 12, 16, 20]);
  });

  it('counts expectations and lifetime value by 2 % of the value, or near zero by a fixed amount', () => {
    const row = stored(customer(0.5, 2, 100));
    assert.equal(numbersMoved(row, 0, customer(0.5, 2.04, 100)), false, '365 days: 2 % less a little');
    assert.equal(numbersMoved(row, 0, customer(0.5, 2.05, 100)), true, '365 days: 2.5 %');
    assert.equal(numbersMoved(row, 0, customer(0.5, 2, 102)), false, 'lifetime value: under 2 % of 125');
    assert.equal(numbersMoved(row, 0, customer(0.5, 2, 103)), true, 'lifetime value: over it');
    const small = stored(customer(0.5, 0.001, 0.1));
    assert.equal(numbersMoved(small, 0, customer(0.5, 0.004, 0.4)), false, 'near zero, within 0.005 orders and 0.50 of money');
    assert.equal(numbersMoved(small, 0, customer(0.5, 0.001, 0.7)), true, 'lifetime value 0.60 more');
  });

  it('counts a number that became known or unknown as moved', () => {
    const none = { ...customer(0.5), predictedClv: null };
    assert.equal(numbersMoved(stored(customer(0.5)), 0, none), true);
    assert.equal(numbersMoved(stored(none), 0, customer(0.5)), true);
    assert.equal(numbersMoved(stored(none), 0, none), false);
  });

  it('reads the row at its offset', () => {
    const rows = new Float32Array(2 * COMPARED_NUMBERS);
    rows.set(stored(customer(0.2)), 0);
    rows.set(stored(customer(0.8)), COMPARED_NUMBERS);
    assert.equal(numbersMoved(rows, COMPARED_NUMBERS, customer(0.8)), false);
    assert.equal(numbersMoved(rows, 0, customer(0.8)), true);
  });
});
