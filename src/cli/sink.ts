import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Where an export goes: a file (`--out`) or standard output. Writes wait for the stream to drain,
 * so memory stays flat however large the export; a reader that goes away (`tend export … | head`)
 * sets `stopped()` and the export ends quietly.
 */
export function openSink(path: string | undefined, stdout: NodeJS.WritableStream) {
  const out: NodeJS.WritableStream = path ? createWriteStream(path) : stdout;
  let broken = false;
  let bytes = 0;
  out.on('error', () => {
    broken = true;
  });
  return {
    async write(chunk: string): Promise<void> {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
    },
    stopped: () => broken,
    bytes: () => bytes,
    /** Finishes a file (standard output stays open). */
    async close(): Promise<void> {
      if (path) await new Promise<void>((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
    },
  };
}
