// Runs external tools (helm, kubectl, go, the native build script) for the CLI and the local
// cluster. When one fails, the error says what ran, how it ended (exit status, signal, timeout, or
// the OS error of a spawn that never started) and the last lines of its output, so a failure never
// reads "undefined" and never sends the user to guess which of several commands broke.
import { spawn, type ChildProcess } from 'node:child_process';

const DEFAULT_TAIL_LINES = 20;

export interface ToolRunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the tool's stdin (then closed); without it stdin is empty. */
  readonly input?: string;
  /** Kill the tool (SIGTERM, then SIGKILL after 5 s) when it runs longer than this. */
  readonly timeoutMs?: number;
  /** Called with each line of output (stdout and stderr) as it arrives: progress for the user. */
  readonly onLine?: (line: string) => void;
  /** Lines of output quoted in the failure message (default 20). */
  readonly tailLines?: number;
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** How a tool run ended when it did not exit 0. */
export type ToolEnding =
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'spawn'; readonly code: string; readonly message: string };

export class ToolError extends Error {
  /** The command line as a shell would take it. */
  readonly command: string;
  readonly ending: ToolEnding;
  /** The last lines of the tool's output (stderr and stdout interleaved), possibly empty. */
  readonly outputTail: string;
  constructor(command: string, ending: ToolEnding, outputTail: string) {
    const tail = outputTail
      ? `\n  last output lines:\n${outputTail
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n')}`
      : ' (no output)';
    super(`\`${command}\` ${describeEnding(ending)}${tail}`);
    this.name = 'ToolError';
    this.command = command;
    this.ending = ending;
    this.outputTail = outputTail;
  }
}

export function describeEnding(ending: ToolEnding): string {
  switch (ending.kind) {
    case 'exit':
      return `failed with exit status ${ending.code}`;
    case 'signal':
      return `was killed by ${ending.signal}`;
    case 'timeout':
      return `timed out after ${Math.round(ending.ms / 1000)} s and was killed`;
    case 'spawn':
      return `could not start: ${ending.message}${spawnHint(ending.code)}`;
  }
}

function spawnHint(code: string): string {
  if (code === 'ENOENT') return ' (no such program: not installed, or not on PATH)';
  if (code === 'EACCES') return ' (not executable)';
  return '';
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The command line quoted for a POSIX shell, for messages a user can copy and rerun. */
export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((word) => (SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

type Stream = 'stdout' | 'stderr';

/** Keeps the last `max` lines of a tool's two output streams, each split into lines on its own. */
class LineTail {
  private lines: string[] = [];
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly max: number;
  private readonly onLine: ((line: string) => void) | undefined;
  constructor(max: number, onLine?: (line: string) => void) {
    this.max = max;
    this.onLine = onLine;
  }

  push(stream: Stream, chunk: string): void {
    const parts = (this.partial[stream] + chunk).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.add(this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  text(): string {
    return this.lines.join('\n').trimEnd();
  }

  private add(line: string): void {
    this.onLine?.(line);
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
}

function spawnEnding(error: Error): ToolEnding {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return { kind: 'spawn', code, message: error.message };
}

/**
 * Runs a tool to completion and returns its output; rejects with a ToolError naming the command,
 * how it ended and its last output lines unless it exits 0.
 */
export function runTool(
  file: string,
  args: readonly string[],
  options: ToolRunOptions = {},
): Promise<ToolResult> {
  const command = commandLine(file, args);
  const tail = new LineTail(options.tailLines ?? DEFAULT_TAIL_LINES, options.onLine);
  return new Promise<ToolResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Bad arguments (a NUL byte, a missing cwd on some platforms) throw instead of emitting.
      reject(new ToolError(command, spawnEnding(error as Error), ''));
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    const finish = (ending: ToolEnding | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killer);
      tail.end();
      if (ending === undefined) resolve({ stdout, stderr });
      else reject(new ToolError(command, ending, tail.text()));
    };
    let killer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          }, options.timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      tail.push('stdout', chunk);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      tail.push('stderr', chunk);
    });
    child.stdin?.on('error', () => {
      // EPIPE: the tool exited without reading its input; its exit status tells the story.
    });
    child.stdin?.end(options.input ?? '');
    child.on('error', (error) => {
      finish(spawnEnding(error));
    });
    child.on('close', (code, signal) => {
      if (timedOut) finish({ kind: 'timeout', ms: options.timeoutMs ?? 0 });
      else if (code === 0) finish(undefined);
      else if (signal !== null) finish({ kind: 'signal', signal });
      else finish({ kind: 'exit', code: code ?? -1 });
    });
  });
}

/**
 * Runs a tool attached to this terminal (`selectn kubectl`, `selectn helm`): its output is the
 * user's, so only its exit status comes back. Rejects with a ToolError when it cannot start.
 */
export function runAttached(
  file: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], {
        stdio: 'inherit',
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } catch (error) {
      reject(new ToolError(commandLine(file, args), spawnEnding(error as Error), ''));
      return;
    }
    let failed = false;
    child.on('error', (error) => {
      failed = true;
      reject(new ToolError(commandLine(file, args), spawnEnding(error), ''));
    });
    child.on('close', (code, signal) => {
      if (failed) return;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/**
 * Resolves once a spawned child is running, or rejects with a ToolError carrying the OS error:
 * for processes started in the background (the cluster's components), whose later output goes to
 * a log file.
 */
export function whenSpawned(
  child: ChildProcess,
  file: string,
  args: readonly string[],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      child.off('spawn', onSpawn);
      reject(new ToolError(commandLine(file, args), spawnEnding(error), ''));
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}
