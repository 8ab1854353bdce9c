// The demo shop generator: a deterministic, realistic online shop for `tend demo generate`.
export type { DemoMessage, DemoOptions, DemoProduct } from './types.ts';
export { DEFAULT_DEMO_END } from './types.ts';
export { demoCatalog, DEMO_CATEGORIES, DEMO_SHOP_URL } from './catalog.ts';
export { demoMessages, MAX_DEMO_CUSTOMERS, MAX_DEMO_MONTHS } from './generate.ts';
export { summarizeDemo, type DemoSummary } from './summary.ts';
export { Rng, mixSeed } from './random.ts';
