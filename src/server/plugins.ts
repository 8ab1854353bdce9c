import type { RoutePlugin } from './app.ts';

/** Route groups beyond the core tracking and admin APIs, each in its own domain's file. */
export const extraRoutes: RoutePlugin[] = [];
