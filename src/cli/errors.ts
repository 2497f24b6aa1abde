// Errors the CLI maps to exit codes: bad input is exit 2 with one line naming the flag or field.
import type { ZodError } from 'zod';

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A tool run in the user's terminal (`selectn kubectl`, `selectn helm`) exited non-zero; it has
 * already printed why, so `selectn` exits with the same status and adds nothing. */
export class ToolExit extends Error {
  readonly exitCode: number;
  constructor(tool: string, code: number) {
    super(`${tool} exited with status ${code}`);
    this.name = 'ToolExit';
    this.exitCode = code;
  }
}

/** Turns the first zod issue into "--flag: message" (or "field.path: message"). */
export function usageErrorFromZod(error: ZodError, flagOf?: (path: string) => string): UsageError {
  const issue = error.issues[0];
  if (!issue) return new UsageError('invalid input');
  const path = issue.path.map(String).join('.');
  const where = flagOf ? flagOf(path) : path;
  return new UsageError(`${where || 'input'}: ${issue.message}`);
}
