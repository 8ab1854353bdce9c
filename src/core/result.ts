/** Expected failures are values; the edges (HTTP, CLI) map them to status codes and exit codes. */
export type Problem = {
  code: 'invalid' | 'not_found' | 'conflict' | 'unauthorized' | 'too_large' | 'busy';
  message: string;
  /** Which field (a dotted path) or row the problem is about. */
  field?: string;
  row?: number;
  details?: unknown;
};

export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (problem: Problem): Result<never> => ({ ok: false, problem });

/** Makes a `switch` over a discriminated union fail to compile when a case is missing. */
export function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
