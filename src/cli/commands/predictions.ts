import { parseArgs } from 'node:util';
import { dayOf, exportPredictions } from '../../models/scores/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { readServerLock } from '../lock.ts';
import { streamFromServer } from '../remote.ts';
import { openSink } from '../sink.ts';
import { CliError, type CliContext } from '../context.ts';

export const predictionsCommand = {
  name: 'predictions',
  summary: 'Export every customer\'s predictions (P(alive), churn risk, expected orders, value, RFM cell, stage)',
  usage:
    'tend predictions export [--as-of YYYY-MM-DD] [--format csv|jsonl] [--out FILE]   (default: today, CSV to standard output)\n' +
    '  Columns: user_id, frequency, recency, T (in the fit\'s time unit), p_alive, churn_risk, expected_purchases_90d,\n' +
    '  expected_next_order_at, predicted_clv, rfm_cell, lifecycle_stage; computed with the latest fit as of the day.',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' }, 'as-of': { type: 'string' } } });
    if (positionals[0] !== 'export' || positionals.length > 1) throw new CliError(`usage: ${this.usage}`, 2);
    if (values.format !== 'csv' && values.format !== 'jsonl') throw new CliError(`unknown format "${values.format}"; choose csv or jsonl`, 2);
    const format = values.format;
    const asOf = values['as-of'];
    if (asOf !== undefined) {
      try {
        dayOf(asOf);
      } catch {
        throw new CliError(`--as-of must be a date such as 1997-09-30, not "${asOf}"`, 2);
      }
    }

    const sink = openSink(values.out, ctx.out);
    let rows = 0;

    const lock = ctx.config.databaseUrl ? null : readServerLock(ctx.config.dataDir);
    if (lock && ctx.config.adminToken) {
      // The server holds the embedded database: ask it for the export instead.
      const query = new URLSearchParams({ format, ...(asOf ? { asOf } : {}) });
      await streamFromServer(`${lock.url}/api/predictions?${query}`, ctx.config.adminToken, sink.write, sink.stopped);
    } else {
      const tend = await ctx.openTend();
      try {
        await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
        if (!(await tend.models.latestFit(DEFAULT_WORKSPACE_ID))) ctx.err.write('No fit yet: the model columns are empty; run `tend models fit` first.\n');
        const pages = await tend.models.allPredictions(DEFAULT_WORKSPACE_ID, { asOf });
        const counted = (async function* () {
          for await (const page of pages) {
            rows += page.length;
            yield page;
          }
        })();
        for await (const chunk of exportPredictions(counted, format)) {
          if (sink.stopped()) break;
          await sink.write(chunk);
        }
      } finally {
        await tend.close();
      }
    }
    await sink.close();
    if (values.out) {
      ctx.err.write(`Exported ${rows ? `${rows.toLocaleString('en')} customers' ` : ''}predictions to ${values.out} (${format})\n`);
    }
    return 0;
  },
};
