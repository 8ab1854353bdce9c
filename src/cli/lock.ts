import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** What a running server writes into the data folder while it holds the embedded database. */
export type ServerLock = { pid: number; url: string; startedAt: string };

const lockPath = (dataDir: string) => join(dataDir, 'server.json');

/**
 * The embedded database has one writer. A server records itself here; CLI commands that need the
 * database read it and either talk to that server or stop with a clear message.
 */
export function readServerLock(dataDir: string): ServerLock | null {
  try {
    const lock = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as ServerLock;
    process.kill(lock.pid, 0); // throws when no such process is alive
    return lock;
  } catch {
    return null;
  }
}

export function writeServerLock(dataDir: string, lock: ServerLock): () => void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(lockPath(dataDir), JSON.stringify(lock));
  return () => rmSync(lockPath(dataDir), { force: true });
}
