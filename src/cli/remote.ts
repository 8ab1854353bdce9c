import { CliError } from './context.ts';

/**
 * Streams a GET from the running Tend server (the one holding the embedded database) into
 * `write`, chunk by chunk, so a CLI export works while the server runs. Stops early when
 * `stopped()` says the reader went away.
 */
export async function streamFromServer(url: string, adminToken: string, write: (text: string) => Promise<void>, stopped: () => boolean): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!res.ok || !res.body) throw new CliError(`the Tend server at ${new URL(url).origin} answered ${res.status} to the export`);
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (stopped()) break;
    await write(decoder.decode(chunk, { stream: true }));
  }
}
