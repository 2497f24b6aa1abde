// Typed reconcile errors and the pure policy that maps each to a retry delay (kube-rs
// error_policy). Only the work queue's worker loop retries; reconcile just throws.
import { DEGRADED_REASONS, type DegradedReason } from '../api/index.ts';

/** The API server answered with an error status. */
export class ApiError extends Error {
  readonly status: number;
  /** metav1.Status reason, e.g. AlreadyExists, Conflict, NotFound, Invalid. */
  readonly reason: string;
  /** Seconds from a Retry-After header, if any. */
  readonly retryAfterS: number | undefined;
  constructor(status: number, reason: string, message: string, retryAfterS?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.retryAfterS = retryAfterS;
  }
}

/** The request never got an answer (connection refused, reset, timeout). */
export class NetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

/** The resource cannot be served as specified; retrying will not help until the spec changes. */
export class InvalidSpecError extends Error {
  readonly field: string;
  /** Degraded reason to report: InvalidModel, PlanInfeasible, ... */
  readonly reason: DegradedReason;
  constructor(
    field: string,
    message: string,
    reason: DegradedReason = DEGRADED_REASONS.InvalidModel,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InvalidSpecError';
    this.field = field;
    this.reason = reason;
  }
}

/** A dependency the reconcile waits for is not there yet (e.g. informer cache not synced). */
export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function isAlreadyExists(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.reason === 'AlreadyExists';
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.reason !== 'AlreadyExists';
}

/** Label of an error for metrics and logs. */
export function errorKind(error: unknown): string {
  if (error instanceof InvalidSpecError) return 'invalid_spec';
  if (error instanceof NotReadyError) return 'not_ready';
  if (error instanceof NetworkError) return 'network';
  if (error instanceof ApiError) {
    if (error.status === 409) return 'conflict';
    if (error.status === 429) return 'throttled';
    if (error.status >= 500) return 'server';
    return 'client';
  }
  return 'unknown';
}

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 200, maxMs: 120_000 };

function exponential(failures: number, baseMs: number, maxMs: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

/**
 * Delay before retrying a key whose reconcile threw `error` for the `failures`-th time in a row
 * (1 on the first failure), or null: do not retry (the error is recorded in status and events;
 * a change to the object will enqueue it again).
 */
export function errorPolicy(
  error: unknown,
  failures: number,
  settings: BackoffSettings = DEFAULT_BACKOFF,
): number | null {
  if (error instanceof InvalidSpecError) return null;
  if (error instanceof NotReadyError) return Math.min(settings.maxMs, 1000);
  if (error instanceof ApiError) {
    if (error.status === 409)
      return exponential(failures, Math.min(50, settings.baseMs), settings.maxMs);
    if (error.status === 429) {
      const hinted = error.retryAfterS !== undefined ? error.retryAfterS * 1000 : 0;
      return Math.min(
        settings.maxMs,
        Math.max(hinted, exponential(failures, settings.baseMs, settings.maxMs)),
      );
    }
    if (error.status >= 500) return exponential(failures, settings.baseMs, settings.maxMs);
    // 4xx other than conflict/throttling: our request is wrong; retry slowly, it may be a race
    // with a CRD or RBAC change.
    return exponential(failures, Math.max(settings.baseMs, 5000), settings.maxMs);
  }
  return exponential(failures, settings.baseMs, settings.maxMs);
}
