import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import type { Problem, Result } from '../../core/result.ts';
import type { Journey, JourneyDefinition } from '../../journeys/index.ts';
import { dryRun, type DryRunReport } from '../../journeys/dry-run.ts';
import type { Tend } from '../../tend.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';

const usage = `tend journeys list
  tend journeys show ID
  tend journeys create FILE                 a journey file (the JSON of POST /api/journeys) as a new draft
  tend journeys update ID FILE              replace the draft; contacts inside keep their version
  tend journeys export ID [--out FILE]      the draft as a journey file, for keeping journeys in git
  tend journeys publish ID                  check templates and segments, publish the draft as the next version
  tend journeys pause|resume|archive ID
  tend journeys runs ID [--state STATE] [--limit N]
  tend journeys dry-run FILE|ID [--from DATE] [--to DATE] [--sample N]
                                            replay stored history through the journey; nothing is sent or saved
  (add --json for machine-readable output)`;

/** A problem as lines people can act on: `steps.2.content.email.mjml: unknown variable … (line 3, column 5)`. */
export function problemText(problem: Problem): string {
  const list = Array.isArray(problem.details) && problem.details.every((d) => d && typeof d === 'object' && 'message' in d)
    ? (problem.details as { field?: string; message: string }[])
    : [problem];
  return list.map((p) => (p.field && !p.message.startsWith(p.field) ? `${p.field}: ${p.message}` : p.message)).join('\n');
}

/** The value of a result, or a CliError with every problem it names (exit code 1). */
export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new CliError(problemText(r.problem));
  return r.value;
}

/** A journey file's JSON. */
export function readJsonFile(path: string | undefined, what = 'a journey file'): unknown {
  if (!path) throw new CliError(`${what} (a path) is required\nUsage: ${usage}`, 2);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`cannot read ${path}`, 2);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, 2);
  }
}

function id(value: string | undefined): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1) throw new CliError(`a journey id (a positive whole number) is required\nUsage: ${usage}`, 2);
  return n;
}

function date(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new CliError(`${option} must be a date such as 2026-03-01, not "${value}"`, 2);
  return d;
}

const journeyLine = (j: Journey) =>
  `${String(j.id).padStart(4)}  ${j.status.padEnd(8)}  ${j.publishedVersion === null ? 'unpublished' : `v${j.publishedVersion}`.padEnd(11)}  ${j.name}`;

function dryRunText(r: DryRunReport, definition: JourneyDefinition): string {
  const n = (x: number) => x.toLocaleString('en');
  const lines = [
    `Replayed ${r.window.from} to ${r.window.to} in ${n(Math.round(r.tookMs))} ms: ${n(r.entered)} entries by ${n(r.contacts)} contacts` +
      (r.holdout ? ` (${n(r.holdout)} held out)` : '') +
      (r.notEntered.reentry ? `; ${n(r.notEntered.reentry)} refused by the re-entry rule` : ''),
    '',
    'Step reach:',
    ...r.perStep.map((s) => {
      const name = definition.steps.find((x) => x.id === s.stepId)?.name;
      const outcomes = Object.entries(s.outcomes).map(([k, v]) => `${k} ${n(v)}`).join(', ');
      return `  ${s.stepId.padEnd(24)} ${s.type.padEnd(15)} ${n(s.reached).padStart(7)}${name ? `  ${name}` : ''}${outcomes ? `  (${outcomes})` : ''}`;
    }),
    '',
    `Messages: ${n(r.messages.total)} (${Object.entries(r.messages.perChannel).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none'})` +
      (r.messages.webhooks ? `, webhooks ${n(r.messages.webhooks)}` : ''),
    `Ended: completed ${n(r.exits.completed)}, exited ${n(r.exits.exited)}, converted ${n(r.exits.converted)}, erased ${n(r.exits.erased)}, still inside ${n(r.exits.stillInside)}`,
  ];
  for (const [kind, d] of Object.entries(r.decisions)) {
    if (d.total > 0) lines.push(`${kind[0]!.toUpperCase()}${kind.slice(1)}: ${n(d.total)} (${d.reasons.map((x) => `${x.reason}: ${n(x.count)}`).join('; ')})`);
  }
  for (const a of r.approximations) lines.push(`Note: ${a}`);
  return lines.join('\n');
}

export const journeysCommand = {
  name: 'journeys',
  summary: 'Create, publish, pause and inspect journeys; journey files in and out for git',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string', default: '100' },
        from: { type: 'string' }, to: { type: 'string' }, sample: { type: 'string', default: '5' }, json: { type: 'boolean' },
      },
    });
    const [action, arg, file] = positionals;
    if (!action) throw new CliError(`usage: ${usage}`, 2);
    if (!['list', 'show', 'create', 'update', 'export', 'publish', 'pause', 'resume', 'archive', 'runs', 'dry-run'].includes(action)) {
      throw new CliError(`unknown action "${action}"\nUsage: ${usage}`, 2);
    }
    // Arguments are checked before the database is opened: a typo costs nothing.
    const input = action === 'create' ? readJsonFile(arg) : action === 'update' ? readJsonFile(file) : undefined;
    if (!['list', 'create', 'dry-run'].includes(action)) id(arg);
    const window = { from: date(values.from, '--from'), to: date(values.to, '--to') };
    const print = (value: unknown, text: () => string) => ctx.out.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    const ws = DEFAULT_WORKSPACE_ID;
    return withDefaultWorkspace(ctx, dispatch);

    async function dispatch(tend: Tend): Promise<number> {
      const get = async (value: string | undefined) => {
        const j = await tend.journeys.get(ws, id(value));
        if (!j) throw new CliError(`journey ${value} not found`);
        return j;
      };
      switch (action) {
        case 'list': {
          const list = await tend.journeys.list(ws);
          print(list, () => (list.length === 0 ? 'No journeys yet. `tend blueprints list` shows ready ones.' : list.map(journeyLine).join('\n')));
          return 0;
        }
        case 'show': {
          const j = await get(arg);
          print(j, () => `${journeyLine(j).trim()}\n${JSON.stringify(j.draft, null, 2)}`);
          return 0;
        }
        case 'create': {
          const j = unwrap(await tend.journeys.create(ws, input));
          print(j, () => `Journey #${j.id} "${j.name}" created as a draft. Publish it with: tend journeys publish ${j.id}`);
          return 0;
        }
        case 'update': {
          const j = unwrap(await tend.journeys.update(ws, id(arg), input));
          print(j, () => `Journey #${j.id} "${j.name}": draft replaced${j.publishedVersion ? ` (version ${j.publishedVersion} stays live until you publish)` : ''}`);
          return 0;
        }
        case 'export': {
          const j = await get(arg);
          const text = `${JSON.stringify(j.draft, null, 2)}\n`;
          if (values.out) {
            writeFileSync(values.out, text);
            if (!values.json) ctx.err.write(`Journey #${j.id} written to ${values.out}\n`);
          } else {
            ctx.out.write(text);
          }
          return 0;
        }
        case 'publish': {
          const r = unwrap(await tend.journeys.publish(ws, id(arg)));
          print(r, () => `Journey #${r.journey.id} "${r.journey.name}": version ${r.version} published; it is ${r.journey.status}`);
          return 0;
        }
        case 'pause':
        case 'resume':
        case 'archive': {
          const j = unwrap(await tend.journeys[action](ws, id(arg)));
          print(j, () => `Journey #${j.id} "${j.name}" is ${j.status}`);
          return 0;
        }
        case 'runs': {
          await get(arg);
          const limit = Number(values.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError('--limit must be a whole number from 1 to 10000', 2);
          const { rows } = await tend.db.query<{ id: number; contactId: number; userId: string | null; version: number; state: string; stepId: string | null; dueAt: Date | null; enteredAt: Date }>(
            `select r.id, r.contact_id as "contactId", c.user_id as "userId", r.version, r.state, r.step_id as "stepId", r.due_at as "dueAt", r.entered_at as "enteredAt"
               from journey_runs r left join contacts c on c.workspace_id = r.workspace_id and c.id = r.contact_id
              where r.workspace_id = $1 and r.journey_id = $2 and ($3::text is null or r.state = $3) order by r.id limit $4`,
            [ws, id(arg), values.state ?? null, limit],
          );
          print(rows, () => rows.length === 0 ? 'Nobody has entered this journey yet.' : rows.map((r) =>
            `#${r.id}\tcontact ${r.contactId}${r.userId ? ` (${r.userId})` : ''}\tv${r.version}\t${r.state}\t${r.stepId ?? '-'}\t${r.dueAt ? `due ${new Date(r.dueAt).toISOString()}` : ''}`).join('\n'));
          return 0;
        }
        case 'dry-run': {
          let definition: JourneyDefinition;
          let journeyId: number | undefined;
          if (arg && /^\d+$/.test(arg)) {
            const j = await get(arg);
            definition = j.draft;
            journeyId = j.id;
          } else {
            definition = unwrap(tend.journeys.parse(readJsonFile(arg)));
          }
          const sample = Number(values.sample);
          if (!Number.isInteger(sample) || sample < 0 || sample > 1000) throw new CliError('--sample must be a whole number from 0 to 1000', 2);
          const report = unwrap(await dryRun(tend.db, { workspaceId: ws, definition, journeyId, now: tend.clock.now(), sampleLimit: sample, ...window }));
          print(report, () => dryRunText(report, definition));
          return 0;
        }
      }
      return 2;
    }
  },
};
