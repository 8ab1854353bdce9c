import { parseArgs } from 'node:util';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { blueprintFile, installBlueprint, listBlueprints, loadBlueprint, type Blueprint } from '../../journeys/blueprints.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';
import { unwrap } from './journeys.ts';

const usage = `tend blueprints list
  tend blueprints show NAME                 what it does, its steps and what to adjust (--json: the blueprint file)
  tend blueprints install NAME [--publish]  create its segments and its journey as a draft (and publish it)
  (add --json for machine-readable output)`;

function showText(b: Blueprint): string {
  const d = b.definition;
  const lines = [
    `${d.name}  (${b.name}: ${b.info.careModel}, stage: ${b.info.stage})`,
    '',
    b.info.summary,
    '',
    `Trigger: ${JSON.stringify(b.journey.trigger)}`,
    'Steps:',
    ...d.steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${s.id.padEnd(22)} ${s.type.padEnd(15)} ${s.name ?? ''}`),
  ];
  const segments = Object.entries(b.segments);
  if (segments.length > 0) lines.push('', 'Segments it creates (or reuses by name):', ...segments.map(([key, s]) => `  $segment:${key}  "${s.name}"`));
  if (b.info.adjust.length > 0) lines.push('', 'Adjust before you publish:', ...b.info.adjust.map((a) => `  - ${a}`));
  lines.push('', `Install: tend blueprints install ${b.name} [--publish]`);
  return lines.join('\n');
}

export const blueprintsCommand = {
  name: 'blueprints',
  summary: 'The care models as ready journeys: list them, read one, install it in one step',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { publish: { type: 'boolean' }, json: { type: 'boolean' } } });
    const [action, name] = positionals;
    const print = (value: unknown, text: () => string) => ctx.out.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    switch (action) {
      case 'list': {
        const all = listBlueprints();
        const width = Math.max(...all.map((b) => b.name.length));
        print(all.map((b) => ({ name: b.name, title: b.definition.name, ...b.info })), () =>
          all.map((b) => `${b.name.padEnd(width)}  ${b.definition.name} — ${b.info.stage}`).join('\n'));
        return 0;
      }
      case 'show': {
        const b = unwrap(loadBlueprint(need(name)));
        print(blueprintFile(b), () => showText(b));
        return 0;
      }
      case 'install': {
        const b = unwrap(loadBlueprint(need(name)));
        const r = unwrap(await withDefaultWorkspace(ctx, (tend) => installBlueprint({ segments: tend.segments, journeys: tend.journeys }, DEFAULT_WORKSPACE_ID, b, { publish: values.publish })));
        print(r, () => [
          ...r.segments.map((s) => `Segment #${s.id} "${s.name}" ${s.created ? 'created' : 'exists: reused'}`),
          r.version === null
            ? `Journey #${r.journey.id} "${r.journey.name}" created as a draft. Adjust it (tend journeys export ${r.journey.id}), then: tend journeys publish ${r.journey.id}`
            : `Journey #${r.journey.id} "${r.journey.name}" published (version ${r.version}); it is ${r.journey.status}`,
        ].join('\n'));
        return 0;
      }
      default:
        throw new CliError(action ? `unknown action "${action}"\nUsage: ${usage}` : `usage: ${usage}`, 2);
    }
  },
};

function need(name: string | undefined): string {
  if (!name) throw new CliError(`a blueprint name is required (tend blueprints list shows them)\nUsage: ${usage}`, 2);
  return name;
}
