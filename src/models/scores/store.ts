import type { Queryable } from '../../db/index.ts';
import type { FitResult } from './fit.ts';
import { ModelSettings, type BgNbdStored, type GammaGammaStored, type ModelSettingsPatch, type RfmCuts, type StoredFit } from './schema.ts';

/** Stores one fit: a row per fitted model, all with the same fitted_at (that is what makes them one fit). */
export async function saveFit(db: Queryable, workspaceId: string, fit: FitResult, fittedAt: Date, durationMs: number): Promise<void> {
  const rows: { model: string; params: unknown; customers: number }[] = [];
  if (fit.bgnbd) {
    const { r, alpha, a, b, logLikelihood, iterations, converged } = fit.bgnbd;
    rows.push({ model: 'bgnbd', params: { r, alpha, a, b, logLikelihood, iterations, converged } satisfies BgNbdStored, customers: fit.customers });
  }
  if (fit.gammaGamma) {
    const { p, q, gamma, logLikelihood, customers, iterations, converged } = fit.gammaGamma;
    rows.push({ model: 'gammagamma', params: { p, q, gamma, logLikelihood, customers, iterations, converged } satisfies GammaGammaStored, customers });
  }
  if (fit.rfm) rows.push({ model: 'rfm', params: fit.rfm satisfies RfmCuts, customers: fit.customers });
  if (rows.length === 0) return;
  await db.query(
    `insert into model_fits (workspace_id, model, params, customers, as_of, time_unit, fitted_at, duration_ms)
     select $1, m, p, c, $5::date, $6, $7, $8 from unnest($2::text[], $3::jsonb[], $4::int[]) as t(m, p, c)`,
    [workspaceId, rows.map((r) => r.model), rows.map((r) => JSON.stringify(r.params)), rows.map((r) => r.customers), fit.asOf, fit.timeUnit, fittedAt, Math.round(durationMs)],
  );
}

type FitRow = { model: string; params: unknown; customers: number; as_of: string; time_unit: 'days' | 'weeks'; fitted_at: Date; duration_ms: number };

function toFits(rows: FitRow[]): StoredFit[] {
  const byTime = new Map<number, StoredFit>();
  for (const r of rows) {
    const key = r.fitted_at.getTime();
    let fit = byTime.get(key);
    if (!fit) {
      fit = { asOf: r.as_of, timeUnit: r.time_unit, customers: r.customers, fittedAt: r.fitted_at, durationMs: r.duration_ms, bgnbd: null, gammaGamma: null, rfm: null };
      byTime.set(key, fit);
    }
    if (r.model === 'bgnbd') fit.bgnbd = r.params as BgNbdStored;
    else if (r.model === 'gammagamma') fit.gammaGamma = r.params as GammaGammaStored;
    else if (r.model === 'rfm') fit.rfm = r.params as RfmCuts;
  }
  return [...byTime.values()];
}

/** The most recent fits of a workspace, newest first. */
export async function recentFits(db: Queryable, workspaceId: string, limit = 10): Promise<StoredFit[]> {
  const { rows } = await db.query<FitRow>(
    `select model, params, customers, as_of::text as as_of, time_unit, fitted_at, duration_ms from model_fits
      where workspace_id = $1 and fitted_at in (select distinct fitted_at from model_fits where workspace_id = $1 order by fitted_at desc limit $2)
      order by fitted_at desc, model`,
    [workspaceId, limit],
  );
  return toFits(rows);
}

/** The latest fit of a workspace, or null before the first. */
export async function latestFit(db: Queryable, workspaceId: string): Promise<StoredFit | null> {
  return (await recentFits(db, workspaceId, 1))[0] ?? null;
}

/** The workspace's model settings (defaults for what is not set). */
export async function loadSettings(db: Queryable, workspaceId: string): Promise<ModelSettings> {
  const { rows } = await db.query<{ settings: unknown }>(`select settings from model_settings where workspace_id = $1`, [workspaceId]);
  return ModelSettings.parse(rows[0]?.settings ?? {});
}

/** Changes some settings (each given key replaced whole) and returns the result. */
export async function updateSettings(db: Queryable, workspaceId: string, patch: ModelSettingsPatch, now: Date): Promise<ModelSettings> {
  const next = ModelSettings.parse({ ...(await loadSettings(db, workspaceId)), ...patch });
  await db.query(
    `insert into model_settings (workspace_id, settings, updated_at) values ($1, $2, $3)
     on conflict (workspace_id) do update set settings = excluded.settings, updated_at = excluded.updated_at`,
    [workspaceId, JSON.stringify(next), now],
  );
  return next;
}
