import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export type ServerProcess = { url: string; child: ChildProcess; stop(): Promise<void> };

/**
 * Starts `tend serve` in a child process, so the load generator and the server do not share one
 * event loop (on a 2-core machine they then each get a core, as in production). With
 * TEND_BENCH_PROFILE=DIR the server writes a CPU profile there when it stops.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(process.env.TEND_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.TEND_BENCH_PROFILE] : []), '--max-semi-space-size=16', 'bin/tend.js', 'serve', '--port', '0'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Tend is running at (http:\/\/[^\s]+)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
