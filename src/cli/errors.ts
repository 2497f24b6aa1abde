// Errors the CLI maps to exit codes: bad input is exit 2 with one line naming the flag or field.
import type { ZodError } from 'zod';

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
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
