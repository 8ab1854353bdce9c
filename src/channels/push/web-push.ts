import { createRequire } from 'node:module';
import type WebPush from 'web-push';

const require = createRequire(import.meta.url);
let loaded: typeof WebPush | undefined;

/** The web-push library, loaded on first use (processes that send no push do not carry it). */
export const webpush = (): typeof WebPush => (loaded ??= require('web-push') as typeof WebPush);
