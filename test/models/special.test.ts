import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digamma, gammaSign, hyp2f1, lgamma } from '../../src/models/btyd/special.ts';

function close(actual: number, expected: number, rel: number, what = ''): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(err <= rel, `${what}: ${actual} vs ${expected} (relative error ${err.toExponential(2)})`);
}

// Reference values computed with 30-digit arithmetic (mpmath).
test('lgamma matches high-precision values', () => {
  const cases: [number, number][] = [
    [1e-5, 11.512919692895826],
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247001],
    [1.5, -0.12078223763524522],
    [2.5, 0.2846828704729192],
    [10, 12.801827480081469],
    [30.7, 73.63438504676965],
    [1000.5, 5908.674175848678],
    [-0.5, 1.2655121234846454],
    [-2.3, 0.36956666345500805],
  ];
  for (const [x, v] of cases) close(lgamma(x), v, 1e-13, `lgamma(${x})`);
  assert.ok(Math.abs(lgamma(1)) < 1e-15 && Math.abs(lgamma(2)) < 1e-15);
  assert.equal(lgamma(0), Infinity);
  assert.equal(lgamma(-3), Infinity);
  assert.deepEqual([gammaSign(2.5), gammaSign(-0.5), gammaSign(-1.5), gammaSign(-2)], [1, -1, 1, 0]);
});

test('digamma matches high-precision values', () => {
  const cases: [number, number][] = [
    [1e-5, -100000.57719921567],
    [0.1, -10.423754940411076],
    [0.5, -1.9635100260214235],
    [1, -0.5772156649015329],
    [2.5, 0.7031566406452432],
    [10, 2.251752589066721],
    [30.7, 3.4078876007507035],
    [1000.5, 6.907755320648796],
    [-0.5, 0.03648997397857652],
    [-2.3, 3.3173231575618227],
  ];
  for (const [x, v] of cases) close(digamma(x), v, 1e-13, `digamma(${x})`);
  assert.ok(Number.isNaN(digamma(0)));
});

test('hyp2f1 matches closed forms on the series, Pfaff and connection branches', () => {
  for (const z of [0.1, 0.5, 0.74, 0.76, 0.9, 0.99, 0.999999]) {
    // 2F1(1, 1; 2; z) = -ln(1 - z) / z: c - a - b = 0, the interpolated connection formula.
    close(hyp2f1(1, 1, 2, z), -Math.log1p(-z) / z, 1e-10, `2F1(1,1;2;${z})`);
    // 2F1(1/2, 1/2; 3/2; s^2) = asin(s) / s: c - a - b = 1/2.
    const s = Math.sqrt(z);
    close(hyp2f1(0.5, 0.5, 1.5, z), Math.asin(s) / s, 1e-13, `2F1(.5,.5;1.5;${z})`);
    // 2F1(a, b; b; z) = (1 - z)^-a
    close(hyp2f1(0.7, 2.2, 2.2, z), Math.pow(1 - z, -0.7), 1e-12, `2F1(.7,b;b;${z})`);
  }
  for (const z of [-0.5, -3, -50]) close(hyp2f1(1, 1, 2, z), Math.log1p(-z) / -z, 1e-10, `2F1(1,1;2;${z})`);
  // Polynomial case and Gauss's theorem at z = 1.
  close(hyp2f1(-3, 2, 1.5, 0.9), -0.045028571428571425, 1e-12, 'terminating');
  close(hyp2f1(0.3, 0.4, 2.1, 1), Math.exp(lgamma(2.1) + lgamma(1.4) - lgamma(1.8) - lgamma(1.7)), 1e-13, 'z = 1');
});

test('hyp2f1 matches high-precision values for BG/NBD-like arguments', () => {
  const cases: [number, number, number, number, number][] = [
    [5.243, 7.426, 7.219, 0.95, 11531996.614103826],
    [2.3, 1.7, 0.6, -20, -0.0012901760766087216],
    [0.79, -0.2, 3.2, 0.9999, 0.9367097817422999],
    [1.5, 2.5, 4.0, 0.9, 5.4931375169820695],
    [0.2, 0.3, 0.5000001, 0.9, 1.2856838678627647],
    [2.5, 3.5, 1.2, 0.8, 7093.869792776191],
    [0.3, 0.7, 0.2, 0.95, 14.61162003405697],
    [10.5, 20.3, 40.1, 0.97, 7340.920609326959],
  ];
  for (const [a, b, c, z, v] of cases) close(hyp2f1(a, b, c, z), v, 1e-10, `2F1(${a},${b};${c};${z})`);
});
