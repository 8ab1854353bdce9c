import { parseArgs } from 'node:util';
import { newSecret } from '../../core/ids.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';

export const keysCommand = {
  name: 'keys',
  summary: 'Create a new write key or admin token (shown once, stored hashed)',
  usage: 'tend keys create --write|--admin [--label TEXT]',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { write: { type: 'boolean' }, admin: { type: 'boolean' }, label: { type: 'string', default: 'cli' } } });
    if (positionals[0] !== 'create' || values.write === values.admin) throw new CliError(`usage: ${this.usage}`, 2);
    const kind = values.admin ? 'admin' : 'write';
    const secret = newSecret(kind === 'admin' ? 'tat' : 'wk');
    await withDefaultWorkspace(ctx, (tend) => tend.workspaces.addKey(DEFAULT_WORKSPACE_ID, kind, secret, values.label));
    ctx.out.write(`${secret}\n`);
    return 0;
  },
};
