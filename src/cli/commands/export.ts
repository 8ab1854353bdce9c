import { parseArgs } from 'node:util';
import { exportFormats, exportKindNames, exportRows, type ExportFormat, type ExportKindName } from '../../imports/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { readServerLock } from '../lock.ts';
import { streamFromServer } from '../remote.ts';
import { openSink } from '../sink.ts';
import { CliError, type CliContext } from '../context.ts';

export const exportCommand = {
  name: 'export',
  summary: 'Export contacts, events or orders as CSV (the import format) or JSON lines',
  usage: 'tend export contacts|events|orders [--format csv|jsonl] [--out FILE]   (default: CSV to standard output)',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string', default: 'csv' }, out: { type: 'string' } } });
    const [kind, ...rest] = positionals;
    if (!kind || rest.length > 0) throw new CliError(`usage: ${this.usage}`, 2);
    if (!(exportKindNames as readonly string[]).includes(kind)) throw new CliError(`unknown kind "${kind}"; choose one of ${exportKindNames.join(', ')}`, 2);
    if (!(exportFormats as readonly string[]).includes(values.format)) throw new CliError(`unknown format "${values.format}"; choose csv or jsonl`, 2);
    const format = values.format as ExportFormat;

    const sink = openSink(values.out, ctx.out);

    const lock = ctx.config.databaseUrl ? null : readServerLock(ctx.config.dataDir);
    if (lock && ctx.config.adminToken) {
      // The server holds the embedded database: ask it for the export instead.
      await streamFromServer(`${lock.url}/api/exports/${kind}?format=${format}`, ctx.config.adminToken, sink.write, sink.stopped);
    } else {
      const tend = await ctx.openTend();
      try {
        await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
        for await (const chunk of exportRows(tend.db, DEFAULT_WORKSPACE_ID, kind as ExportKindName, format)) {
          if (sink.stopped()) break;
          await sink.write(chunk);
        }
      } finally {
        await tend.close();
      }
    }
    await sink.close();
    if (values.out) ctx.err.write(`Exported ${kind} to ${values.out} (${(sink.bytes() / 1024).toFixed(0)} KB, ${format})\n`);
    return 0;
  },
};
