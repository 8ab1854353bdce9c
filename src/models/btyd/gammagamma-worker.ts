/** The worker thread of gammagamma-aside.ts: fits its data and posts the fit back. */
import { parentPort, workerData } from 'node:worker_threads';
import { fitSpend, type SpendInputs } from './gammagamma-aside.ts';

parentPort!.postMessage(fitSpend(workerData as SpendInputs));
