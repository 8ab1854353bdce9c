/**
 * The Gamma-Gamma fit on a worker thread, beside the BG/NBD fit on the calling one. On a million
 * customers each takes a few hundred milliseconds of one core, and while a workspace's models are
 * fitted the other core has nothing else to do. Small data is fitted on the calling thread:
 * starting a thread would cost more than it saves.
 */
import { Worker } from 'node:worker_threads';
import { fitGammaGamma, type GammaGammaFit, type GammaGammaFitOptions } from './gammagamma.ts';

export type SpendInputs = { x: Float64Array; zbar: Float64Array };

/**
 * Fits Gamma-Gamma, and once more from where it stopped when it did not converge: summed over
 * hundreds of thousands of customers the gradient carries rounding noise that can stop the line
 * search just short of the tolerance, and a restart (with a fresh Hessian estimate) finishes the
 * job.
 */
export function fitSpend(data: SpendInputs, options: GammaGammaFitOptions = {}): GammaGammaFit {
  const fit = fitGammaGamma(data, options);
  return fit.converged ? fit : fitGammaGamma(data, { ...options, initial: fit });
}

/** Customers from which the fit goes to a thread of its own. */
const THREAD_FROM = 100_000;

/**
 * Starts {@link fitSpend} on a worker thread (from `threadFrom` customers) and returns at once;
 * the promise settles with the fit, or with the error it threw.
 */
export function fitSpendAside(data: SpendInputs, options: { threadFrom?: number } = {}): Promise<GammaGammaFit> {
  if (data.x.length < (options.threadFrom ?? THREAD_FROM)) return Promise.resolve().then(() => fitSpend(data));
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./gammagamma-worker.ts', import.meta.url), { workerData: data });
    worker.once('message', (fit: GammaGammaFit) => resolve(fit));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the Gamma-Gamma fit's thread stopped (exit code ${code})`)));
  });
}
