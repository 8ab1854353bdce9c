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
import { createBroadcastService } from './journeys/broadcasts.ts';
import { checkDefinition, createJourneyRunner, createJourneyService, createJourneyTriggers, createVersionCache } from './journeys/index.ts';
import { createDeliveryWorker, type Providers } from './channels/delivery.ts';
import { outboxProviders } from './channels/outbox/provider.ts';
import { createRenderer } from './channels/render.ts';
import { createTrackingService } from './tracking/service.ts';
import { startPeriodic } from './core/periodic.ts';

/** How Tend sends: the providers per channel (the outbox when none is given) and the addresses in messages. */
export type MessagingOptions = {
  providers?: Providers;
  /** Where tracking links, unsubscribe pages and the open pixel are served (TEND_PUBLIC_URL). */
  publicUrl?: string;
  /** The From of emails (TEND_EMAIL_FROM). */
  emailFrom?: string;
  /** How long a claimed message stays claimed before another worker may retry it (TEND_DELIVERY_LEASE_SECONDS). */
  leaseMs?: number;
};

/**
 * The composition root: every service Tend has, built from its explicit dependencies, in one place.
 * The HTTP server, the CLI and the tests all start from here.
 */
export async function createTend(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'databaseSchema' | 'databasePoolSize' | 'ingestCalls'>>,
  deps: { clock?: Clock; db?: Db; messaging?: MessagingOptions; log?: (line: string) => void } = {},
) {
  const clock = deps.clock ?? systemClock;
  const db =
    deps.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema, poolSize: config.databasePoolSize }));
  const workspaces = createWorkspaceService({ db });
  const ingest = createIngestService({ db, clock, workspaces }, { callsPerWorkspace: config.ingestCalls });
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
  // Journeys: events resume waiting contacts, convert goals and enrol; segment changes enrol.
  const versions = createVersionCache();
  const triggers = createJourneyTriggers({ db, clock, versions });
  const journeys = createJourneyService({ db, clock, versions, triggers, check: (ws, definition) => checkDefinition(db, ws, definition) });
  const broadcasts = createBroadcastService({ db, clock, journeys });
  /** After Tend recorded events of its own about these contacts. */
  const recorded = (ws: string, ids: number[]) => {
    segmentUpdater.enqueue(ws, ids);
    return triggers.onRecorded(ws, ids).catch((err: Error) => deps.log?.(`journey triggers: ${err.message}`));
  };
  ingest.onIngested((batch) => triggers.onIngested(batch));
  segments.onChange((ws, changes) => triggers.onSegmentChanges(ws, changes));
  const runner = createJourneyRunner({ db, clock, versions, onContactsChanged: (ws, ids) => segmentUpdater.enqueue(ws, ids), log: deps.log });
  // Read on every render: a server learns its public address only once it listens.
  const messaging = deps.messaging ?? {};
  const publicUrl = () => (messaging.publicUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const renderer = createRenderer({ db, clock, versions, recommendations, publicUrl, emailFrom: () => messaging.emailFrom ?? 'Tend <shop@localhost>' });
  const delivery = createDeliveryWorker({
    db, clock, renderer, providers: messaging.providers ?? outboxProviders(db, clock), leaseMs: messaging.leaseMs, onEvents: (ws, ids) => recorded(ws, ids), log: deps.log,
  });
  // Opens, clicks, answers and unsubscribes come back as events that segments and journeys see.
  const tracking = createTrackingService({ db, clock, onEvents: (ws, ids) => recorded(ws, ids) });
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
    journeys,
    broadcasts,
    triggers,
    runner,
    delivery,
    renderer,
    tracking,
    /** Call after recording events of Tend's own (reports, opens …): segments and journeys hear of them. */
    eventsRecorded: recorded,
    messaging,
    /**
     * After an import: imports write contacts, orders and events in bulk, outside the per-event
     * path, so the segments are recomputed from scratch (cheaper than re-evaluating every row's
     * contact one by one).
     */
    async onImported(workspaceId: string, kind: string): Promise<void> {
      if (kind !== 'products') await segments.recomputeAll(workspaceId);
    },
    /**
     * Starts the background work of journeys: the runner (due steps), the delivery worker (recorded
     * messages) and, once a minute, the trigger sweep (schedules, dates, model changes). Any
     * number of processes may run these against one Postgres: claims skip each other's rows and
     * the sweep takes a lease. Returns the function that stops them.
     */
    async startWorkers(options: { log?: (line: string) => void; pollMs?: number; sweepEveryMs?: number } = {}): Promise<() => Promise<void>> {
      await runner.start(options.pollMs);
      await delivery.start(options.pollMs);
      const sweep = startPeriodic({
        db, clock, lease: 'journey-trigger-sweep', everyMs: options.sweepEveryMs ?? 60_000,
        round: async () => {
          await triggers.sweep();
          await broadcasts.sweep();
        },
        onError: (err) => options.log?.(`journey triggers: ${err.message}`),
      });
      return async () => {
        await sweep.stop();
        await runner.stop();
        await delivery.stop();
      };
    },
    async close() {
      await runner.stop();
      await delivery.stop();
      await scoreUpdater.flush();
      await segmentUpdater.flush();
      await db.close();
    },
  };
}

export type Tend = Awaited<ReturnType<typeof createTend>>;
