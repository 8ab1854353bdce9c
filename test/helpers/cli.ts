import { spawn } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

/**
 * Runs `tend` as a user would (a child process in the project folder, on the embedded database
 * unless `env` says otherwise) and collects its exit code and output.
 */
export function runTend(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/tend.js', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', CI: '1', LOG_LEVEL: 'silent', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}
