import { createContactQueue } from '../core/contact-queue.ts';
import type { SegmentService } from './service.ts';

/**
 * Keeps segment membership current as events arrive, off the request path: contacts touched by
 * ingestion are queued per workspace and re-evaluated in chunks (see core/contact-queue.ts).
 */
export function createSegmentUpdater(segments: SegmentService, options: { chunk?: number; onError?: (err: unknown) => void } = {}) {
  return createContactQueue(async (workspaceId, ids) => {
    await segments.refreshContacts(workspaceId, ids);
  }, { chunk: options.chunk, onError: options.onError ?? ((e) => console.error('segment update failed', e)) });
}
