import { describe, expect, it } from 'vitest';
import {
  ApiError,
  InvalidSpecError,
  NetworkError,
  NotReadyError,
  errorKind,
  errorPolicy,
} from '../../src/operator/errors.ts';

const settings = { baseMs: 200, maxMs: 120_000 };

describe('errorPolicy', () => {
  it('does not retry a spec that cannot be served', () => {
    expect(errorPolicy(new InvalidSpecError('spec.model', 'unknown'), 1, settings)).toBeNull();
    expect(errorPolicy(new InvalidSpecError('spec.model', 'unknown'), 9, settings)).toBeNull();
  });

  it('backs off exponentially on server errors, capped', () => {
    const e = new ApiError(503, 'ServiceUnavailable', 'down');
    expect([1, 2, 3, 4].map((n) => errorPolicy(e, n, settings))).toEqual([200, 400, 800, 1600]);
    expect(errorPolicy(e, 40, settings)).toBe(120_000);
    expect(errorPolicy(new NetworkError('reset'), 2, settings)).toBe(400);
  });

  it('retries conflicts fast', () => {
    const e = new ApiError(409, 'Conflict', 'changed');
    expect(errorPolicy(e, 1, settings)).toBe(50);
    expect(errorPolicy(e, 3, settings)).toBe(200);
  });

  it('honours Retry-After on throttling', () => {
    expect(errorPolicy(new ApiError(429, 'TooManyRequests', 'slow', 7), 1, settings)).toBe(7000);
    expect(errorPolicy(new ApiError(429, 'TooManyRequests', 'slow'), 1, settings)).toBe(200);
  });

  it('retries other client errors slowly and waits a second for unsynced caches', () => {
    expect(errorPolicy(new ApiError(403, 'Forbidden', 'rbac'), 1, settings)).toBe(5000);
    expect(errorPolicy(new NotReadyError('cache'), 5, settings)).toBe(1000);
    expect(errorPolicy(new Error('bug'), 3, settings)).toBe(800);
  });

  it('labels errors for metrics', () => {
    expect(errorKind(new ApiError(409, 'Conflict', ''))).toBe('conflict');
    expect(errorKind(new ApiError(500, '', ''))).toBe('server');
    expect(errorKind(new ApiError(422, 'Invalid', ''))).toBe('client');
    expect(errorKind(new InvalidSpecError('a', 'b'))).toBe('invalid_spec');
    expect(errorKind(new TypeError('x'))).toBe('unknown');
  });
});
