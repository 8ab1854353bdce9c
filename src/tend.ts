import { openDatabase, type Db } from './db/index.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { Config } from './config.ts';
import { createWorkspaceService } from './workspaces/index.ts';
import { createIngestService } from './events/index.ts';
import { createContactService } from './contacts/index.ts';
import { createCatalogService } from './catalog/index.ts';
import { createSegmentService, createSegmentUpdater } from './segments/index.ts';
import { createModelService, createScoreUpdater } from './models/scores/index.ts';
import { createReplenishmentService } from './models/replenishment/index.ts';
import { createRecommendationService } from './models/recommend/index.ts';

/**
 * The composition root: every service Tend has, built from its explicit dependencies, in one place.
 * The HTTP server, the CLI and the tests all start from here.
 */
export async function createTend(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'databaseSchema' | 'databasePoolSize'>>,
  deps: { clock?: Clock; db?: Db } = {},
) {
  const clock = deps.clock ?? systemClock;
  const db =
    deps.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema, poolSize: config.databasePoolSize }));
  const workspaces = createWorkspaceService({ db });
  const ingest = createIngestService({ db, clock, workspaces });
  const contacts = createContactService({ db, clock });
  const catalog = createCatalogService({ db });
  const segments = createSegmentService({ db, clock });
  const segmentUpdater = createSegmentUpdater(segments);
  ingest.onIngested((batch) => segmentUpdater.enqueue(batch.workspaceId, batch.contactIds));
  const models = createModelService({ db, clock });
  // Orders rescore their customers with the stored fit; segments then see the new scores.
  const scoreUpdater = createScoreUpdater(models, { onRescored: (ws, ids) => segmentUpdater.enqueue(ws, ids) });
  ingest.onIngested((batch) => scoreUpdater.onIngested(batch));
  // Orders move replenishment due dates; recommendations read them for "due soon".
  const replenishment = createReplenishmentService({ db, clock });
  const recommendations = createRecommendationService({ db, clock, replenishment });
  ingest.onIngested((batch) => replenishment.onIngested(batch));
  return {
    db,
    clock,
    workspaces,
    ingest,
    contacts,
    catalog,
    segments,
    segmentUpdater,
    models,
    scoreUpdater,
    replenishment,
    recommendations,
    /**
     * After an import: imports write contacts, orders and events in bulk, outside the per-event
     * path, so the segments are recomputed from scratch (cheaper than re-evaluating every row's
     * contact one by one).
     */
    async onImported(workspaceId: string, kind: string): Promise<void> {
      if (kind !== 'products') await segments.recomputeAll(workspaceId);
    },
    async close() {
      await scoreUpdater.flush();
      await segmentUpdater.flush();
      await db.close();
    },
  };
}

export type Tend = Awaited<ReturnType<typeof createTend>>;
