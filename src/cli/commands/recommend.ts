import { parseArgs } from 'node:util';
import type { Tend } from '../../tend.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';
import { formatContactReplenishment, formatEvaluation, formatFit, formatRecommendations, formatReplenishmentProducts } from './recommend-format.ts';

const usage = `tend recommend fit [--as-of DATE] [--lambda L] [--prior W]
  tend recommend evaluate [--test-days N | --cutoff DATE] [--lambda L] [--prior W] [--k K]
  tend recommend replenishment [--contact USER_ID]
  tend recommend for USER_ID [--limit N]
  tend recommend together SKU [--limit N]
  (add --json for machine-readable output)`;

const options = {
  'as-of': { type: 'string' },
  cutoff: { type: 'string' },
  'test-days': { type: 'string', default: '90' },
  lambda: { type: 'string' },
  prior: { type: 'string' },
  k: { type: 'string', default: '10' },
  limit: { type: 'string', default: '10' },
  contact: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options }>>['values'];

function positive(name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0 || (integer && (!Number.isInteger(x) || x < 1))) throw new CliError(`--${name} must be a ${integer ? 'whole number of at least 1' : 'number of at least 0'}`, 2);
  return x;
}

function lambdaOf(value: string | undefined): number | undefined {
  const x = positive('lambda', value);
  if (x === 0) throw new CliError('--lambda must be greater than 0', 2);
  return x;
}

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new CliError(`--${name} must be a date (YYYY-MM-DD or an ISO 8601 time)`, 2);
  return d;
}

type Handler = (tend: Tend, args: { values: Values; arg: string | undefined; print: (value: unknown, text: () => string) => void }) => Promise<number>;

const ws = DEFAULT_WORKSPACE_ID;
const services = (tend: Tend) => ({ replenishment: tend.replenishment, recommendations: tend.recommendations });

const handlers: Record<string, Handler> = {
  async fit(tend, { values, print }) {
    const r = await services(tend).recommendations.fit(ws, { asOf: date('as-of', values['as-of']), lambda: lambdaOf(values.lambda), priorWeight: positive('prior', values.prior) });
    print(r, () => formatFit(r));
    return 0;
  },

  async evaluate(tend, { values, print }) {
    const r = await services(tend).recommendations.evaluate(ws, {
      testDays: positive('test-days', values['test-days'], true),
      cutoff: date('cutoff', values.cutoff),
      lambda: lambdaOf(values.lambda),
      priorWeight: positive('prior', values.prior),
      k: positive('k', values.k, true),
    });
    if (!r.ok) throw new CliError(r.problem.code === 'not_found' ? `${r.problem.message} (try \`tend demo generate\` first)` : r.problem.message, r.problem.code === 'invalid' ? 2 : 1);
    const evaluation = r.value;
    print(evaluation, () => formatEvaluation(evaluation));
    return 0;
  },

  async replenishment(tend, { values, print }) {
    const { replenishment } = services(tend);
    if (values.contact !== undefined) {
      const id = await tend.contacts.findByUserId(ws, values.contact);
      if (id === null) throw new CliError(`no contact has the user id ${values.contact}`, 1);
      const items = await replenishment.forContact(ws, id);
      print(items, () => formatContactReplenishment(items));
      return 0;
    }
    const fit = await replenishment.fit(ws);
    const products = await replenishment.products(ws);
    print({ ...fit, products }, () => `${formatReplenishmentProducts(products)}\n\n${products.length} products run out; ${fit.due.toLocaleString('en')} contact due dates; ${fit.ms} ms.`);
    return 0;
  },

  async for(tend, { values, arg, print }) {
    if (!arg) throw new CliError(`a user id is required\nUsage: ${usage}`, 2);
    const id = await tend.contacts.findByUserId(ws, arg);
    if (id === null) throw new CliError(`no contact has the user id ${arg}`, 1);
    const list = await services(tend).recommendations.forContact(ws, id, positive('limit', values.limit, true));
    print(list, () => formatRecommendations(list));
    return 0;
  },

  async together(tend, { values, arg, print }) {
    if (!arg) throw new CliError(`a sku is required\nUsage: ${usage}`, 2);
    const r = await services(tend).recommendations.forProduct(ws, arg, positive('limit', values.limit, true));
    if (!r) throw new CliError(`no product has the sku ${arg}`, 1);
    print(r, () => `Bought together with ${r.name}:\n${formatRecommendations(r.recommendations)}`);
    return 0;
  },
};

/** Runs one subcommand; `tend models <name>` can delegate here (see recommendSubcommands). */
async function runSubcommand(name: string, argv: string[], ctx: CliContext): Promise<number> {
  const handler = handlers[name];
  if (!handler) throw new CliError(`unknown subcommand "${name}"\nUsage: ${usage}`, 2);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
  const print = (value: unknown, text: () => string) => ctx.out.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
  return withDefaultWorkspace(ctx, (tend) => handler(tend, { values, arg: positionals[0], print }));
}

/**
 * The subcommands another command family may mount: a `tend models` command routes
 * `models evaluate …` to `recommendSubcommands.evaluate(rest, ctx)`.
 */
export const recommendSubcommands = {
  evaluate: (argv: string[], ctx: CliContext) => runSubcommand('evaluate', argv, ctx),
  replenishment: (argv: string[], ctx: CliContext) => runSubcommand('replenishment', argv, ctx),
};

export const recommendCommand = {
  name: 'recommend',
  summary: 'Replenishment dates and recommendations: fit, evaluate, inspect',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const [action, ...rest] = argv;
    if (!action) throw new CliError(`usage: ${usage}`, 2);
    return runSubcommand(action, rest, ctx);
  },
};
