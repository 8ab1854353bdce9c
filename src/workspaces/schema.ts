import { z } from 'zod';

/** Per-workspace settings, stored as JSON and validated when read. */
export const WorkspaceSettings = z.object({
  /** What to do with an email that fails the checks at the door: keep it flagged, or refuse it. */
  emailPolicy: z.enum(['flag', 'reject']).default('flag'),
  /** With `reject`: also refuse role addresses (info@, sales@ …). Disposable and invalid are always refused. */
  rejectRoleAddresses: z.boolean().default(false),
});
export type WorkspaceSettings = z.infer<typeof WorkspaceSettings>;

/** A change to some settings; keys left out keep their value. */
export const WorkspaceSettingsPatch = z
  .object({ emailPolicy: z.enum(['flag', 'reject']).optional(), rejectRoleAddresses: z.boolean().optional() })
  .strict();
export type WorkspaceSettingsPatch = z.infer<typeof WorkspaceSettingsPatch>;

export const Workspace = z.object({
  id: z.string(),
  name: z.string(),
  settings: WorkspaceSettings,
  createdAt: z.date(),
});
export type Workspace = z.infer<typeof Workspace>;
