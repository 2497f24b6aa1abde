import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { ApiError } from '../../src/operator/errors.ts';
import {
  LeaderElector,
  decideLeader,
  microTime,
  type LeaseApi,
} from '../../src/operator/leader.ts';
import type { Lease } from '../../src/operator/kube/types.ts';
import type { Clock } from '../../src/operator/queue.ts';

const lease = (holder: string, renew = '2025-01-01T00:00:00.000000Z', transitions = 0): Lease => ({
  metadata: { name: 'l', namespace: 'ns', resourceVersion: '1' },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    renewTime: renew,
    leaseTransitions: transitions,
  },
});

describe('decideLeader', () => {
  it('creates a missing lease, renews its own, takes over an empty one', () => {
    expect(decideLeader(undefined, 'me', undefined, 0, 15_000).action.kind).toBe('create');
    expect(decideLeader(lease('me'), 'me', undefined, 0, 15_000).action.kind).toBe('renew');
    expect(decideLeader(lease(''), 'me', undefined, 0, 15_000).action.kind).toBe('takeover');
  });

  it('follows a live holder and takes over once its record has not changed for a lease duration (local clock)', () => {
    const first = decideLeader(lease('other'), 'me', undefined, 1000, 15_000);
    expect(first.action).toEqual({ kind: 'follow', holder: 'other', expiresInMs: 15_000 });
    const still = decideLeader(lease('other'), 'me', first.observation, 15_999, 15_000);
    expect(still.action.kind).toBe('follow');
    const expired = decideLeader(lease('other'), 'me', still.observation, 16_000, 15_000);
    expect(expired.action.kind).toBe('takeover');
  });

  it('restarts the countdown when the holder renews', () => {
    const first = decideLeader(lease('other', 'a'), 'me', undefined, 0, 15_000);
    const renewed = decideLeader(lease('other', 'b'), 'me', first.observation, 14_000, 15_000);
    expect(renewed.action).toMatchObject({ kind: 'follow', expiresInMs: 15_000 });
  });

  it('writes MicroTime with microseconds', () => {
    expect(microTime(Date.UTC(2025, 0, 1, 0, 0, 0, 123))).toBe('2025-01-01T00:00:00.123000Z');
  });
});

/** An in-memory Lease API with resourceVersion checks, shared by two electors. */
class LeaseStore implements LeaseApi {
  lease: Lease | undefined;
  private rv = 0;
  get(): Promise<Lease> {
    return this.lease
      ? Promise.resolve(structuredClone(this.lease))
      : Promise.reject(new ApiError(404, 'NotFound', 'no lease'));
  }
  create(_path: string, body: Lease): Promise<Lease> {
    if (this.lease) return Promise.reject(new ApiError(409, 'AlreadyExists', 'exists'));
    this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return Promise.resolve(structuredClone(this.lease));
  }
  replace(_path: string, body: Lease): Promise<Lease> {
    if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
      return Promise.reject(new ApiError(409, 'Conflict', 'stale'));
    this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return Promise.resolve(structuredClone(this.lease));
  }
}

const fixedClock = (t: { now: number }): Clock => ({
  now: () => t.now,
  setTimeout: () => 0,
  clearTimeout: () => undefined,
});

describe('LeaderElector', () => {
  const settings = (identity: string) => ({
    namespace: 'ns',
    name: 'l',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });

  it('lets exactly one of two candidates lead, and hands over after release', async () => {
    const store = new LeaseStore();
    const t = { now: 0 };
    const events: string[] = [];
    const a = new LeaderElector(store, settings('a'), fixedClock(t), silentLogger());
    const b = new LeaderElector(store, settings('b'), fixedClock(t), silentLogger());
    a.start({
      onStartedLeading: () => events.push('a+'),
      onStoppedLeading: () => events.push('a-'),
    });
    b.start({
      onStartedLeading: () => events.push('b+'),
      onStoppedLeading: () => events.push('b-'),
    });
    await a.tick();
    await b.tick();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    t.now = 5_000;
    await a.tick();
    await b.tick();
    expect(b.isLeader).toBe(false);
    await a.stop();
    expect(store.lease?.spec?.holderIdentity).toBe('');
    await b.tick();
    expect(b.isLeader).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    expect(events).toEqual(['a+', 'b+']);
  });

  it('takes over from a holder that stopped renewing, after the lease duration', async () => {
    const store = new LeaseStore();
    const t = { now: 0 };
    const a = new LeaderElector(store, settings('a'), fixedClock(t), silentLogger());
    const b = new LeaderElector(store, settings('b'), fixedClock(t), silentLogger());
    a.start({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    b.start({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    await a.tick(); // a leads, then dies (no more ticks)
    await b.tick();
    t.now = 14_000;
    await b.tick();
    expect(b.isLeader).toBe(false);
    t.now = 15_001;
    await b.tick();
    expect(b.isLeader).toBe(true);
  });

  it('steps down when it cannot renew within the deadline', async () => {
    const store = new LeaseStore();
    const t = { now: 0 };
    let stopped = 0;
    const a = new LeaderElector(store, settings('a'), fixedClock(t), silentLogger());
    a.start({ onStartedLeading: () => undefined, onStoppedLeading: () => stopped++ });
    await a.tick();
    store.get = () => Promise.reject(new ApiError(503, 'ServiceUnavailable', 'down'));
    t.now = 11_000;
    await a.tick();
    expect(a.isLeader).toBe(false);
    expect(stopped).toBe(1);
  });
});
