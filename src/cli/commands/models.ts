import { parseArgs } from 'node:util';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { ModelSettingsPatch, TimeUnit, dayOf, fitSummary, type FitResult, type ScoreRunResult, type StoredFit } from '../../models/scores/index.ts';
import { describeIssue } from '../../events/index.ts';
import type { Tend } from '../../tend.ts';
import { createProgress } from '../progress.ts';
import { recommendSubcommands } from './recommend.ts';
import { CliError, withDefaultWorkspace, type CliContext } from '../context.ts';

const usage = `tend models fit [--as-of YYYY-MM-DD] [--time-unit days|weeks] [--no-score] [--json]
  tend models score [--as-of YYYY-MM-DD] [--json]
  tend models show [--json]
  tend models settings [--set JSON] [--json]
  tend models evaluate|replenishment …   (see tend help recommend)
  fit:      fits BG/NBD, Gamma-Gamma and the RFM cut points on the orders up to --as-of (default: today),
            stores the fit and scores every contact as of that day (unless --no-score)
  score:    scores every contact with the latest fit
  show:     the latest fits
  settings: the workspace's model settings; --set changes some (docs/models.md)`;

const asOf = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  try {
    dayOf(value);
  } catch {
    throw new CliError(`--as-of must be a date such as 1997-09-30, not "${value}"`, 2);
  }
  return value;
};

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const f = (v: number, digits = 3) => v.toFixed(digits);

function fitText(fit: FitResult, scored: ScoreRunResult | null): string {
  const lines = [`Fitted as of ${fit.asOf} (time unit: ${fit.timeUnit}) on ${fit.customers.toLocaleString('en')} customers (${fit.repeatCustomers.toLocaleString('en')} repeat) in ${s(fit.timings.totalMs)}`];
  if (fit.bgnbd) lines.push(`BG/NBD       r = ${f(fit.bgnbd.r)}  alpha = ${f(fit.bgnbd.alpha)}  a = ${f(fit.bgnbd.a)}  b = ${f(fit.bgnbd.b)}  log-likelihood = ${fit.bgnbd.logLikelihood.toFixed(1)}`);
  if (fit.gammaGamma) lines.push(`Gamma-Gamma  p = ${f(fit.gammaGamma.p, 2)}  q = ${f(fit.gammaGamma.q, 2)}  gamma = ${f(fit.gammaGamma.gamma, 2)}  (${fit.gammaGamma.customers.toLocaleString('en')} repeat customers)`);
  if (fit.rfm) lines.push(`RFM cut points: recency ${fit.rfm.recencyDays.join('/')} days, frequency ${fit.rfm.frequency.join('/')} purchase days, spend ${fit.rfm.monetary.join('/')}`);
  for (const note of fit.notes) lines.push(`Note: ${note}`);
  if (scored) lines.push(scoredText(scored));
  return lines.join('\n');
}

const scoredText = (r: ScoreRunResult) =>
  `Scored ${r.scored.toLocaleString('en')} contacts (${r.customers.toLocaleString('en')} customers, ${r.aggregated.toLocaleString('en')} of them with orders read again) in ${s(r.timings.totalMs)}: ` +
  `${r.written.toLocaleString('en')} rows written, ${r.unchanged.toLocaleString('en')} unchanged; ` +
  `${r.stageChanges} stage, ${r.rfmChanges} RFM cell and ${r.churnChanges} churn band changes`;

const fitLine = (fit: StoredFit) =>
  `${fit.fittedAt.toISOString()}  as of ${fit.asOf} (${fit.timeUnit}), ${fit.customers.toLocaleString('en')} customers, ${s(fit.durationMs)}` +
  (fit.bgnbd ? `\n  BG/NBD r = ${f(fit.bgnbd.r)} alpha = ${f(fit.bgnbd.alpha)} a = ${f(fit.bgnbd.a)} b = ${f(fit.bgnbd.b)} LL = ${fit.bgnbd.logLikelihood.toFixed(1)}` : '') +
  (fit.gammaGamma ? `\n  Gamma-Gamma p = ${f(fit.gammaGamma.p, 2)} q = ${f(fit.gammaGamma.q, 2)} gamma = ${f(fit.gammaGamma.gamma, 2)}` : '');

export const modelsCommand = {
  name: 'models',
  summary: 'Fit the customer models (BG/NBD, Gamma-Gamma, RFM) and score every contact',
  usage,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    // The recommendation models mount their subcommands here too (`tend models evaluate`).
    const mounted = recommendSubcommands[argv[0] as keyof typeof recommendSubcommands];
    if (mounted) return mounted(argv.slice(1), ctx);
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'as-of': { type: 'string' }, 'time-unit': { type: 'string' }, 'no-score': { type: 'boolean' }, json: { type: 'boolean' }, set: { type: 'string' } },
    });
    const [action = 'show', ...rest] = positionals;
    if (rest.length > 0 || !['fit', 'score', 'show', 'settings'].includes(action)) throw new CliError(`usage: ${usage}`, 2);
    const unit = values['time-unit'] === undefined ? undefined : TimeUnit.safeParse(values['time-unit']);
    if (unit && !unit.success) throw new CliError(`--time-unit must be days or weeks, not "${values['time-unit']}"`, 2);
    const day = asOf(values['as-of']);
    const print = (value: unknown, text: () => string) => ctx.out.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    const ws = DEFAULT_WORKSPACE_ID;
    return withDefaultWorkspace(ctx, async (tend: Tend) => {
      if (action === 'fit' || action === 'score') {
        const progress = values.json ? null : createProgress('Scoring contacts', null, ctx.err);
        let last = 0;
        const onProgress = (n: number) => {
          progress?.add(n - last);
          last = n;
        };
        if (action === 'fit') {
          const { fit, scored } = await tend.models.fit(ws, { asOf: day, timeUnit: unit?.data, score: !values['no-score'], onProgress });
          if (last > 0) progress?.finish();
          print(fitSummary(fit, scored), () => fitText(fit, scored));
          return fit.bgnbd ? 0 : 1;
        }
        if (!(await tend.models.latestFit(ws))) ctx.err.write('No fit yet: scoring RFM (with fixed thresholds only) and lifecycle stages; run `tend models fit` first.\n');
        const scored = await tend.models.score(ws, { asOf: day, onProgress });
        if (last > 0) progress?.finish();
        print(scored, () => scoredText(scored));
        return 0;
      }
      if (action === 'show') {
        const fits = await tend.models.recentFits(ws, 5);
        print({ fits }, () => (fits.length === 0 ? 'No fit yet: run `tend models fit`.' : fits.map(fitLine).join('\n')));
        return 0;
      }
      if (values.set !== undefined) {
        let json: unknown;
        try {
          json = JSON.parse(values.set);
        } catch (err) {
          throw new CliError(`--set is not valid JSON: ${(err as Error).message}`, 2);
        }
        const patch = ModelSettingsPatch.safeParse(json);
        if (!patch.success) throw new CliError(`the settings are not valid: ${describeIssue(patch.error.issues[0]!, ['settings'])}`, 2);
        const settings = await tend.models.updateSettings(ws, patch.data);
        print(settings, () => JSON.stringify(settings, null, 2));
        return 0;
      }
      const settings = await tend.models.settings(ws);
      print(settings, () => JSON.stringify(settings, null, 2));
      return 0;
    });
  },
};
