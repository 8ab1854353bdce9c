// `npm run bench -- <name> [options]`: runs bench/<name>.ts's exported run(argv) and prints its figures.
import { readdirSync } from 'node:fs';

const [name, ...argv] = process.argv.slice(2);
const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [options]\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run: (argv: string[]) => Promise<void> };
await mod.run(argv);
