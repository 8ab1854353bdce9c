import type { RoutePlugin } from './app.ts';
import { segmentRoutes } from './segments.ts';
import { registerImportRoutes } from './imports.ts';
import { recommendationRoutes } from './recommendations.ts';
import { modelRoutes } from './models.ts';
import { journeyRoutes } from './journeys.ts';
import { linkRoutes } from './links.ts';
import { hookRoutes } from './hooks.ts';
import { blueprintRoutes } from './blueprints.ts';
import { journeyInsightRoutes } from './journey-insights.ts';

/** Route groups beyond the core tracking and admin APIs, each in its own domain's file. */
export const extraRoutes: RoutePlugin[] = [segmentRoutes, registerImportRoutes, recommendationRoutes, modelRoutes, journeyRoutes, journeyInsightRoutes, blueprintRoutes, linkRoutes, hookRoutes];
