// One pino logger for all TypeScript code: human-readable on a terminal, JSON lines otherwise.
// Components take a child logger with their context (component, reqId, key) instead of printing.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Force pretty (true) or JSON (false) output; default: pretty when stderr is a terminal. */
  pretty?: boolean;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['SELECTN_LOG_LEVEL'] ?? 'info';
  const pretty = options.pretty ?? process.stderr.isTTY;
  const base = { level, name: options.name ?? 'selectn', redact: ['*.token', '*.authorization'] };
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base, pino.destination(2));
}

/** A logger that drops everything; for library code called without one (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
