import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { exportFormats, exportKindNames, exportRows, type ExportFormat, type ExportKindName } from '../../imports/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { readServerLock } from '../lock.ts';
import { streamFromServer } from '../remote.ts';
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

    const out: NodeJS.WritableStream = values.out ? createWriteStream(values.out) : ctx.out;
    let broken = false;
    // A reader that goes away (`tend export … | head`) ends the export quietly.
    out.on('error', () => {
      broken = true;
    });
    let bytes = 0;
    const write = async (chunk: string) => {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
    };

    const lock = ctx.config.databaseUrl ? null : readServerLock(ctx.config.dataDir);
    if (lock && ctx.config.adminToken) {
      // The server holds the embedded database: ask it for the export instead.
      await streamFromServer(`${lock.url}/api/exports/${kind}?format=${format}`, ctx.config.adminToken, write, () => broken);
    } else {
      const tend = await ctx.openTend();
      try {
        await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
        for await (const chunk of exportRows(tend.db, DEFAULT_WORKSPACE_ID, kind as ExportKindName, format)) {
          if (broken) break;
          await write(chunk);
        }
      } finally {
        await tend.close();
      }
    }
    if (values.out) {
      await new Promise<void>((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
      ctx.err.write(`Exported ${kind} to ${values.out} (${(bytes / 1024).toFixed(0)} KB, ${format})\n`);
    }
    return 0;
  },
};
