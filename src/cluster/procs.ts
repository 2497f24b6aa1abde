// Detached child processes tracked by pid files, and stopping them: SIGTERM to the process group,
// a grace period, then SIGKILL. Pid files record the command so a reused pid is never killed.
import { spawn } from 'node:child_process';
import { whenSpawned } from '../process/run-tool.ts';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive } from './lock.ts';

export interface PidRecord {
  readonly pid: number;
  /** argv[0] or a distinctive argument that /proc/<pid>/cmdline must contain. */
  readonly marker: string;
  readonly startedAt: string;
}

export function readPidFile(file: string): PidRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidRecord>;
    if (typeof parsed.pid !== 'number' || typeof parsed.marker !== 'string') return undefined;
    return { pid: parsed.pid, marker: parsed.marker, startedAt: parsed.startedAt ?? '' };
  } catch {
    return undefined;
  }
}

/** The process's argv, or undefined when it no longer exists. */
function argvOf(pid: number): string[] | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    return argv;
  } catch {
    return undefined;
  }
}

/** The process's command line, or undefined when it no longer exists. */
export function cmdline(pid: number): string | undefined {
  return argvOf(pid)?.join(' ');
}

/** True when process `pid` runs with exactly these arguments (after its executable). */
export function runsWithArgs(pid: number, args: readonly string[]): boolean {
  const argv = argvOf(pid);
  return argv !== undefined && JSON.stringify(argv.slice(1)) === JSON.stringify(args);
}

/** True when the recorded process still runs the recorded command (zombies count as gone). */
export function recordAlive(record: PidRecord): boolean {
  if (!pidAlive(record.pid)) return false;
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    return false;
  }
  const line = cmdline(record.pid);
  return line !== undefined && line.includes(record.marker);
}

export interface SpawnDetachedOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pidFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Defaults to the command path. */
  readonly marker?: string;
}

/**
 * Starts a process in its own session (it outlives us), output appended to logFile. Rejects with
 * the command and the OS error (ENOENT, EACCES) when it cannot start.
 */
export async function spawnDetached(options: SpawnDetachedOptions): Promise<PidRecord> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  mkdirSync(dirname(options.pidFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, [...options.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    await whenSpawned(child, options.command, options.args);
    if (child.pid === undefined) throw new Error(`${options.command} started without a pid`);
    child.unref();
    const record: PidRecord = {
      pid: child.pid,
      marker: options.marker ?? options.command,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(options.pidFile, JSON.stringify(record) + '\n');
    return record;
  } finally {
    closeSync(fd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole process group (detached children lead their own)
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Stops a recorded process: SIGTERM, wait up to graceMs, SIGKILL. Returns true if it was running. */
export async function stopRecord(record: PidRecord, graceMs: number): Promise<boolean> {
  if (!recordAlive(record)) return false;
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!recordAlive(record)) return true;
    await sleep(50);
  }
  signalGroup(record.pid, 'SIGKILL');
  for (let i = 0; i < 100 && recordAlive(record); i++) await sleep(20);
  return true;
}

/** Stops the process named in a pid file and removes the file. */
export async function stopPidFile(pidFile: string, graceMs: number): Promise<boolean> {
  const record = readPidFile(pidFile);
  const stopped = record ? await stopRecord(record, graceMs) : false;
  rmSync(pidFile, { force: true });
  return stopped;
}

/** Pids of live processes whose command line contains `needle` (used for leak checks). */
export function processesMatching(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const line = cmdline(pid);
    if (line?.includes(needle) && recordAlive({ pid, marker: needle, startedAt: '' })) {
      found.push({ pid, cmdline: line.trim() });
    }
  }
  return found;
}
