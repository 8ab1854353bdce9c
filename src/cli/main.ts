import { ConfigError } from '../config.ts';
import { CliError, createCliContext, type CliContext } from './context.ts';
import { serveCommand } from './commands/serve.ts';
import { demoCommand } from './commands/demo.ts';
import { keysCommand } from './commands/keys.ts';
import { importCommand } from './commands/import.ts';
import { exportCommand } from './commands/export.ts';
import { segmentsCommand } from './commands/segments.ts';
import { recommendCommand } from './commands/recommend.ts';
import { modelsCommand } from './commands/models.ts';
import { predictionsCommand } from './commands/predictions.ts';
import { workerCommand } from './commands/worker.ts';
import { journeysCommand } from './commands/journeys.ts';
import { blueprintsCommand } from './commands/blueprints.ts';

export type Command = { name: string; summary: string; usage: string; run(argv: string[], ctx: CliContext): Promise<number> };

/** Every `tend` command, in the order `tend help` lists them. */
export const commands: Command[] = [serveCommand, workerCommand, demoCommand, keysCommand, importCommand, exportCommand, segmentsCommand, recommendCommand, modelsCommand, predictionsCommand, journeysCommand, blueprintsCommand];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Tend: customer-lifecycle automation for online shops.\n\nUsage: tend <command> [options]\n\n${commands
    .map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
    .join('\n')}\n\nRun \`tend help <command>\` for a command's options. Configuration comes from the environment (docs/install.md).\n`;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const target = commands.find((c) => c.name === rest[0]);
    process.stdout.write(target ? `${target.summary}\n\nUsage: ${target.usage}\n` : help());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`tend: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest, createCliContext());
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`tend ${name}: ${err.message}\n`);
      return err instanceof CliError ? err.exitCode : 2;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tend ${name}: ${err.message}\nUsage: ${command.usage}\n`);
      return 2;
    }
    throw err;
  }
}
