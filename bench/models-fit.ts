// Benchmark of the customer-base models at scale: simulates 1,000,000 customers from the BG/NBD
// process, then times the maximum-likelihood fit and the scoring of every customer (P(alive) and
// expected purchases over the next 90 days) separately.
//   npx node bench/models-fit.ts [--customers N]    or    npm run bench -- models-fit [--customers N]
// Two data shapes: summaries built from a daily transaction log (t_x and T in whole days, the
// normal case in Tend, where many customers share a pattern) and continuous times (the worst
// case for the pattern compression). The daily estimates sit a few percent from the truth
// because merging same-day purchases drops some purchases of the most frequent buyers.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fitBgNbd, scoreBgNbd, simulateBgNbd, type BgNbdParams } from '../src/models/btyd/index.ts';

/** Timings of one scenario, in seconds. */
export interface ModelsFitScenario {
  name: string;
  customers: number;
  simulateSeconds: number;
  fitSeconds: number;
  scoreSeconds: number;
  iterations: number;
  converged: boolean;
  fitted: BgNbdParams;
}

/** Everything {@link measure} measured. */
export interface ModelsFitResult {
  scenarios: ModelsFitScenario[];
  /** Peak resident set size of the process, in MiB. */
  peakRssMiB: number;
}

// The CDNOW estimates (weeks): a realistic mix of one-off buyers, lapsed and loyal customers.
const TRUTH: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

const seconds = (start: number): number => (performance.now() - start) / 1000;

/** Runs the benchmark and returns its figures; `customers` defaults to 1,000,000. */
export function measure(options: { customers?: number; log?: (line: string) => void } = {}): ModelsFitResult {
  const customers = options.customers ?? 1_000_000;
  const log = options.log ?? (() => {});
  const scenarios: ModelsFitScenario[] = [];
  for (const [name, timeStep] of [['daily', 1 / 7], ['continuous', undefined]] as const) {
    let start = performance.now();
    // Customers acquired over a year, observed for one more: ages of 1 to 2 years in weeks.
    const data = simulateBgNbd(TRUTH, { customers, T: { min: 52, max: 104 }, seed: 2024, timeStep });
    const simulateSeconds = seconds(start);
    start = performance.now();
    const fit = fitBgNbd(data);
    const fitSeconds = seconds(start);
    start = performance.now();
    const scores = scoreBgNbd(fit, data, 90 / 7);
    const scoreSeconds = seconds(start);
    if (!Number.isFinite(scores.expectedPurchases[customers - 1]!)) throw new Error('scoring produced a non-finite value');
    const { r, alpha, a, b } = fit;
    const scenario = { name, customers, simulateSeconds, fitSeconds, scoreSeconds, iterations: fit.iterations, converged: fit.converged, fitted: { r, alpha, a, b } };
    scenarios.push(scenario);
    log(
      `${name}: ${customers} customers, fit ${fitSeconds.toFixed(2)} s (${fit.iterations} iterations), ` +
        `score ${scoreSeconds.toFixed(2)} s, simulate ${simulateSeconds.toFixed(2)} s; ` +
        `r=${r.toFixed(3)} alpha=${alpha.toFixed(3)} a=${a.toFixed(3)} b=${b.toFixed(3)}`,
    );
  }
  // maxRSS is reported in kilobytes.
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  log(`peak RSS ${peakRssMiB.toFixed(0)} MiB`);
  return { scenarios, peakRssMiB };
}

/** Entry point for bench/run.ts and the command line: prints the figures and returns them. */
export async function run(argv: string[] = []): Promise<ModelsFitResult> {
  const { values } = parseArgs({ args: argv, options: { customers: { type: 'string' } } });
  const customers = values.customers === undefined ? undefined : Number(values.customers);
  if (customers !== undefined && !(Number.isInteger(customers) && customers > 0)) {
    throw new RangeError('--customers must be a positive integer');
  }
  return measure({ customers, log: (line) => console.log(line) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
