// A cross-process lock file holding the owner's pid; a lock whose owner died is taken over.
import { openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** Called once when the lock is held by a live process and we start waiting. */
  readonly onWait?: (holderPid: number) => void;
  readonly pollMs?: number;
  /** Give up after this long (default: wait forever; builds take long). */
  readonly timeoutMs?: number;
}

/** Takes the lock (waiting while a live process holds it) and returns its release function. */
export async function acquireFileLock(
  file: string,
  options: LockOptions = {},
): Promise<() => void> {
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released between our open and read
    }
    if (!pidAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (!told) {
      options.onWait?.(holder);
      told = true;
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for lock ${file} held by pid ${holder}`,
      );
    }
    await sleep(options.pollMs ?? 500);
  }
}
