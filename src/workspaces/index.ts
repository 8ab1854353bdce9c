import type { Db, Queryable } from '../db/index.ts';
import { hashSecret, newId, newSecret } from '../core/ids.ts';
import { WorkspaceSettings, type Workspace } from './schema.ts';

export { WorkspaceSettings, WorkspaceSettingsPatch, Workspace } from './schema.ts';

export const DEFAULT_WORKSPACE_ID = 'default';

type Row = { id: string; name: string; settings: unknown; created_at: Date };
const toWorkspace = (r: Row): Workspace => ({ id: r.id, name: r.name, settings: WorkspaceSettings.parse(r.settings ?? {}), createdAt: r.created_at });

export type KeyKind = 'write' | 'admin';
export type IssuedKeys = { writeKey: string | null; adminToken: string | null };

/** Workspaces and their API keys. Keys are returned once, when created, and stored hashed. */
export function createWorkspaceService({ db }: { db: Db }) {
  async function get(id: string): Promise<Workspace | null> {
    const { rows } = await db.query<Row>(`select id, name, settings, created_at from workspaces where id = $1`, [id]);
    return rows[0] ? toWorkspace(rows[0]) : null;
  }

  async function create(input: { id?: string; name: string; settings?: Partial<WorkspaceSettings> }, q: Queryable = db): Promise<Workspace> {
    const id = input.id ?? newId('ws');
    const settings = WorkspaceSettings.parse(input.settings ?? {});
    const { rows } = await q.query<Row>(
      `insert into workspaces (id, name, settings) values ($1, $2, $3) returning id, name, settings, created_at`,
      [id, input.name, JSON.stringify(settings)],
    );
    return toWorkspace(rows[0]!);
  }

  async function addKey(workspaceId: string, kind: KeyKind, secret: string, label = '', q: Queryable = db): Promise<void> {
    await q.query(
      `insert into api_keys (key_hash, workspace_id, kind, label) values ($1, $2, $3, $4)
       on conflict (key_hash) do nothing`,
      [hashSecret(secret), workspaceId, kind, label],
    );
  }

  return {
    get,
    create,
    addKey,

    /**
     * Creates the default workspace on first start. A fresh workspace gets a write key and an admin
     * token: the given ones (TEND_WRITE_KEY / TEND_ADMIN_TOKEN) or new random ones, which are returned
     * so they can be printed once. Given keys are also added on later starts, so setting them works
     * for an existing installation too.
     */
    async ensureDefault(given: { writeKey?: string; adminToken?: string } = {}): Promise<{ workspace: Workspace; issued: IssuedKeys }> {
      return db.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock(7347002)`);
        const existing = await tx.query<Row>(`select id, name, settings, created_at from workspaces where id = $1`, [DEFAULT_WORKSPACE_ID]);
        const issued: IssuedKeys = { writeKey: null, adminToken: null };
        let workspace: Workspace;
        if (existing.rows[0]) {
          workspace = toWorkspace(existing.rows[0]);
        } else {
          workspace = await create({ id: DEFAULT_WORKSPACE_ID, name: 'My shop' }, tx);
          issued.writeKey = given.writeKey ?? newSecret('wk');
          issued.adminToken = given.adminToken ?? newSecret('tat');
        }
        if (given.writeKey) await addKey(DEFAULT_WORKSPACE_ID, 'write', given.writeKey, 'TEND_WRITE_KEY', tx);
        if (given.adminToken) await addKey(DEFAULT_WORKSPACE_ID, 'admin', given.adminToken, 'TEND_ADMIN_TOKEN', tx);
        if (issued.writeKey && !given.writeKey) await addKey(DEFAULT_WORKSPACE_ID, 'write', issued.writeKey, 'first start', tx);
        if (issued.adminToken && !given.adminToken) await addKey(DEFAULT_WORKSPACE_ID, 'admin', issued.adminToken, 'first start', tx);
        if (given.writeKey) issued.writeKey = null;
        if (given.adminToken) issued.adminToken = null;
        return { workspace, issued };
      });
    },

    /** Creates a workspace with fresh keys (tests isolate themselves this way). */
    async createWithKeys(name: string, settings?: Partial<WorkspaceSettings>): Promise<{ workspace: Workspace; writeKey: string; adminToken: string }> {
      const writeKey = newSecret('wk');
      const adminToken = newSecret('tat');
      const workspace = await db.transaction(async (tx) => {
        const ws = await create({ name, settings }, tx);
        await addKey(ws.id, 'write', writeKey, 'created', tx);
        await addKey(ws.id, 'admin', adminToken, 'created', tx);
        return ws;
      });
      return { workspace, writeKey, adminToken };
    },

    /** The workspace a key belongs to, or null when the key is unknown or of another kind. */
    async authenticate(secret: string, kind: KeyKind): Promise<string | null> {
      const { rows } = await db.query<{ workspace_id: string }>(
        `select workspace_id from api_keys where key_hash = $1 and kind = $2`,
        [hashSecret(secret), kind],
      );
      return rows[0]?.workspace_id ?? null;
    },

    async updateSettings(id: string, patch: Partial<WorkspaceSettings>): Promise<Workspace | null> {
      const current = await get(id);
      if (!current) return null;
      const settings = WorkspaceSettings.parse({ ...current.settings, ...patch });
      await db.query(`update workspaces set settings = $2 where id = $1`, [id, JSON.stringify(settings)]);
      return { ...current, settings };
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
