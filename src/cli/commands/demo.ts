import { parseArgs } from 'node:util';
import type { Tend } from '../../tend.ts';
import { demoCatalog, demoMessages, type DemoOptions } from '../../demo/index.ts';
import { upsertProducts } from '../../catalog/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { createProgress } from '../progress.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';

/**
 * Creates the demo shop through the same ingestion path as real data: the catalog, then every
 * event in time order, in batches of 500 as a Segment client would send them.
 */
export async function generateDemo(tend: Tend, options: DemoOptions, ctx: Pick<CliContext, 'err'>, workspaceId = DEFAULT_WORKSPACE_ID, signal?: AbortSignal) {
  const products = demoCatalog(options.seed);
  await tend.db.transaction((tx) => upsertProducts(tx, workspaceId, products, tend.clock.now()));
  const progress = createProgress(`Demo shop (${options.customers.toLocaleString('en')} customers, ${options.months} months)`, null, ctx.err);
  let batch: unknown[] = [];
  let events = 0;
  let rejected = 0;
  const flush = async () => {
    const r = await tend.ingest.ingest(workspaceId, batch);
    rejected += r.rejected.length;
    events += batch.length;
    progress.add(batch.length);
    batch = [];
  };
  for (const message of demoMessages(options)) {
    if (signal?.aborted) break;
    batch.push(message);
    if (batch.length === 500) await flush();
  }
  if (batch.length > 0) await flush();
  progress.finish();
  return { products: products.length, events, rejected };
}

export const demoCommand = {
  name: 'demo',
  summary: 'Generate a realistic, deterministic demo shop',
  usage: 'tend demo generate [--customers N] [--months M] [--seed S]',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { customers: { type: 'string', default: '2000' }, months: { type: 'string', default: '12' }, seed: { type: 'string', default: '1' } },
    });
    if (positionals[0] !== 'generate') throw new CliError(`usage: ${this.usage}`, 2);
    const customers = Number(values.customers);
    const months = Number(values.months);
    const seed = Number(values.seed);
    if (!Number.isInteger(customers) || customers < 1 || customers > 10_000_000) throw new CliError('--customers must be a whole number from 1 to 10,000,000', 2);
    if (!Number.isInteger(months) || months < 1 || months > 120) throw new CliError('--months must be a whole number from 1 to 120', 2);
    if (!Number.isInteger(seed)) throw new CliError('--seed must be a whole number', 2);
    const r = await withDefaultWorkspace(ctx, (tend) => generateDemo(tend, { customers, months, seed }, ctx));
    ctx.out.write(`Demo shop: ${r.products} products, ${r.events.toLocaleString('en')} events${r.rejected ? `, ${r.rejected} rejected` : ''}\n`);
    return 0;
  },
};
