import type { FastifyRequest } from 'fastify';
import type { WorkspaceService } from '../workspaces/index.ts';
import type { Auth } from './routes.ts';

/**
 * Resolves the credentials of a request to a workspace. Write keys come as the Basic-auth user
 * name (or `writeKey` in the body), as Segment clients send them; admin tokens as a Bearer token.
 * Answers are cached for a minute so a busy tracking endpoint does not look up its key per
 * request; a revoked key therefore stops working within a minute.
 */
export function createAuthenticator(workspaces: WorkspaceService) {
  const cache = new Map<string, { workspaceId: string | null; until: number }>();
  return async function authenticate(request: FastifyRequest, auth: Auth): Promise<string | null> {
    if (auth === 'none') return '';
    const secret = auth === 'write' ? writeKeyOf(request) : bearerOf(request);
    if (!secret || secret.length > 512) return null;
    const key = `${auth}:${secret}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.workspaceId;
    const workspaceId = await workspaces.authenticate(secret, auth);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { workspaceId, until: now + (workspaceId ? 60_000 : 5_000) });
    return workspaceId;
  };
}

function writeKeyOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const user = decoded.split(':')[0];
    if (user) return user;
  }
  const body = request.body as { writeKey?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string') return body.writeKey;
  return null;
}

function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : null;
}
