import type { Queryable } from '../db/index.ts';
import { compileDefinition, type Compiled } from './decide.ts';
import { JourneyDefinition } from './schema.ts';

/**
 * Published versions never change, so every process keeps the ones it has read, parsed and
 * indexed. Contacts stay on the version they entered, so old versions are read as long as
 * someone is inside them.
 */
export function createVersionCache() {
  const cache = new Map<string, Compiled>();
  return {
    async get(q: Queryable, workspaceId: string, journeyId: number, version: number): Promise<Compiled> {
      const key = `${workspaceId}:${journeyId}:${version}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const { rows } = await q.query<{ definition: unknown }>(
        `select definition from journey_versions where workspace_id = $1 and journey_id = $2 and version = $3`,
        [workspaceId, journeyId, version],
      );
      if (!rows[0]) throw new Error(`journey ${journeyId} has no version ${version}`);
      const compiled = compileDefinition(JourneyDefinition.parse(rows[0].definition));
      cache.set(key, compiled);
      return compiled;
    },
  };
}
export type VersionCache = ReturnType<typeof createVersionCache>;
