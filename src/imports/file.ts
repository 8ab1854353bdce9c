import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { runImport, type ImportDeps, type ImportOptions } from './run.ts';
import type { ImportJob } from './jobs.ts';

/**
 * Imports a CSV file from disk (`tend import` and the benchmark): streamed in 256 KB chunks, with
 * the bytes read so far reported for a progress bar.
 */
export async function importFile(
  deps: ImportDeps,
  options: Omit<ImportOptions, 'input' | 'source'> & { path: string; onBytes?: (read: number, size: number) => void },
): Promise<ImportJob> {
  const { size } = await stat(options.path);
  const stream = createReadStream(options.path, { highWaterMark: 256 * 1024 });
  async function* counted() {
    let read = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      options.onBytes?.(read, size);
      yield chunk;
    }
  }
  try {
    return await runImport(deps, { ...options, input: counted(), source: `file ${basename(options.path)}` });
  } finally {
    stream.destroy();
  }
}
