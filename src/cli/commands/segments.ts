import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { SegmentRule } from '../../segments/index.ts';
import { describeIssue, innermostIssue } from '../../events/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import type { Tend } from '../../tend.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';

const usage = `tend segments list
  tend segments show ID
  tend segments create --name NAME --rule FILE|JSON [--description TEXT]
  tend segments update ID --name NAME --rule FILE|JSON
  tend segments preview --rule FILE|JSON [--sample N]
  tend segments count ID
  tend segments members ID [--limit N] [--after CONTACT_ID]
  tend segments recompute [ID]
  tend segments delete ID
  (add --json for machine-readable output)`;

/** A rule from a file path or inline JSON, validated with the one segment-rule schema. */
function readRule(value: string | undefined): SegmentRule {
  if (!value) throw new CliError('--rule is required: a JSON file or inline JSON', 2);
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw new CliError(`cannot read the rule file ${value}`, 2);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`the rule is not valid JSON: ${(err as Error).message}`, 2);
  }
  const parsed = SegmentRule.safeParse(json);
  if (!parsed.success) throw new CliError(`the rule is not valid: ${describeIssue(innermostIssue(parsed.error.issues[0]!), ['rule'])}`, 2);
  return parsed.data;
}

function id(value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`a segment id (a positive whole number) is required\nUsage: ${usage}`, 2);
  return n;
}

export const segmentsCommand = {
  name: 'segments',
  summary: 'Create, inspect and recompute segments',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' }, rule: { type: 'string' }, description: { type: 'string', default: '' },
        sample: { type: 'string', default: '10' }, limit: { type: 'string', default: '100' }, after: { type: 'string', default: '0' }, json: { type: 'boolean' },
      },
    });
    const [action, arg] = positionals;
    if (!action) throw new CliError(`usage: ${usage}`, 2);
    const print = (value: unknown, text: () => string) => ctx.out.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    const ws = DEFAULT_WORKSPACE_ID;
    return withDefaultWorkspace(ctx, dispatch);

    async function dispatch(tend: Tend): Promise<number> {
      switch (action) {
        case 'list': {
          const list = await tend.segments.list(ws);
          print(list, () => (list.length === 0 ? 'No segments yet.' : list.map((s) => `${String(s.id).padStart(4)}  ${s.name}  (${s.memberCount.toLocaleString('en')} members)`).join('\n')));
          return 0;
        }
        case 'show':
        case 'count': {
          const s = await tend.segments.get(ws, id(arg));
          if (!s) throw new CliError(`segment ${arg} not found`);
          if (action === 'count') print({ id: s.id, members: s.memberCount }, () => String(s.memberCount));
          else print(s, () => `${s.name} (#${s.id}): ${s.memberCount.toLocaleString('en')} members, computed ${s.lastComputedAt?.toISOString() ?? 'never'} in ${s.lastComputeMs ?? '?'} ms\n${JSON.stringify(s.rule, null, 2)}`);
          return 0;
        }
        case 'create':
        case 'update': {
          if (!values.name) throw new CliError('--name is required', 2);
          const input = { name: values.name, description: values.description ?? '', rule: readRule(values.rule) };
          const r = action === 'create' ? await tend.segments.create(ws, input) : await tend.segments.update(ws, id(arg), input);
          if (!r.ok) throw new CliError(r.problem.message);
          print(r.value, () => `Segment #${r.value.id} "${r.value.name}": ${r.value.memberCount.toLocaleString('en')} members`);
          return 0;
        }
        case 'preview': {
          const r = await tend.segments.preview(ws, readRule(values.rule), Number(values.sample));
          if (!r.ok) throw new CliError(r.problem.message);
          print(r.value, () => `${r.value.count.toLocaleString('en')} contacts match\n${r.value.sample.map((c) => `  #${c.id} ${c.userId ?? '(anonymous)'} ${c.email ?? ''}`).join('\n')}`);
          return 0;
        }
        case 'members': {
          const members = await tend.segments.members(ws, id(arg), { limit: Number(values.limit), after: Number(values.after) });
          print(members, () => members.map((m) => `#${m.id}\t${m.userId ?? ''}\t${m.email ?? ''}\t${m.enteredAt.toISOString()}`).join('\n'));
          return 0;
        }
        case 'recompute': {
          const results = arg ? [{ id: id(arg), name: '', ...(await tend.segments.recompute(ws, id(arg))) }] : await tend.segments.recomputeAll(ws);
          print(results, () => results.map((r) => `#${r.id} ${r.name}: ${r.members?.toLocaleString('en')} members (+${r.entered} / -${r.exited}) in ${r.ms} ms`).join('\n'));
          return 0;
        }
        case 'delete': {
          const r = await tend.segments.remove(ws, id(arg));
          if (!r.ok) throw new CliError(r.problem.message);
          print({ deleted: true }, () => `Segment ${arg} deleted`);
          return 0;
        }
        default:
          throw new CliError(`unknown action "${action}"\nUsage: ${usage}`, 2);
      }
    }
  },
};
