import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import type { Clock } from './clock.ts';
import { takeLease } from './lease.ts';

/**
 * Runs `round` every `everyMs` in the background. With several Tend processes on one Postgres, a
 * lease (named `lease`) makes one of them do each round. The timer does not keep the process alive;
 * `stop` waits for a round in progress.
 */
export function startPeriodic({ db, clock, lease, everyMs, round, onError }: {
  db: Queryable;
  clock: Clock;
  lease: string;
  everyMs: number;
  round: (isStopped: () => boolean) => Promise<void>;
  onError?: (err: Error) => void;
}) {
  const holder = randomUUID();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;

  async function leasedRound(): Promise<void> {
    if (!(await takeLease(db, lease, holder, clock.now(), Math.max(everyMs - 1000, 1000)))) return;
    await round(() => stopped);
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = leasedRound()
        .catch((err: Error) => onError?.(err))
        .finally(() => {
          current = null;
          schedule();
        });
    }, everyMs);
    timer.unref();
  };
  schedule();

  return {
    /** Runs one round now (tests, and a first check after start). */
    runOnce: leasedRound,
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (current) await current;
    },
  };
}
