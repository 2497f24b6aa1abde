import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  planRollout,
  resolveIntOrPercent,
  surgeAndUnavailable,
  type PodView,
} from '../../src/operator/rollout.ts';

function pod(hash: string, slot: number, ready = true, extra: Partial<PodView> = {}): PodView {
  return {
    name: `d-${hash}-${slot}`,
    uid: `u-${hash}-${slot}`,
    hash,
    slot,
    ready,
    terminating: false,
    finished: false,
    scheduled: true,
    ...extra,
  };
}

describe('planRollout', () => {
  it('creates missing pods in the lowest free slots', () => {
    const a = planRollout([pod('h', 1)], 'h', { replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    expect(a.create).toEqual([0, 2]);
    expect(a.reason).toBe('ScalingUp');
  });

  it('does not reuse the slot of a terminating pod (its name is still taken)', () => {
    const a = planRollout([pod('h', 0, false, { terminating: true })], 'h', {
      replicas: 1,
      maxSurge: 1,
      maxUnavailable: 0,
    });
    expect(a.create).toEqual([1]);
  });

  it('scales down unscheduled, then unready, then highest slots first', () => {
    const pods = [
      pod('h', 0),
      pod('h', 1),
      pod('h', 2, false),
      pod('h', 3, false, { scheduled: false }),
    ];
    const a = planRollout(pods, 'h', { replicas: 1, maxSurge: 1, maxUnavailable: 0 });
    expect(a.delete.map((d) => d.name)).toEqual(['d-h-3', 'd-h-2', 'd-h-1']);
    expect(a.reason).toBe('ScalingDown');
  });

  it('replaces finished pods', () => {
    const a = planRollout([pod('h', 0, false, { finished: true })], 'h', {
      replicas: 1,
      maxSurge: 1,
      maxUnavailable: 0,
    });
    expect(a.delete.map((d) => d.name)).toEqual(['d-h-0']);
    expect(a.create).toEqual([1]);
  });

  it('rolls with surge 1 and no unavailability: one new pod, then one old pod at a time', () => {
    const s = { replicas: 2, maxSurge: 1, maxUnavailable: 0 };
    const step1 = planRollout([pod('old', 0), pod('old', 1)], 'new', s);
    expect(step1).toMatchObject({ create: [0], delete: [], reason: 'RollingUpdate' });
    const step2 = planRollout([pod('old', 0), pod('old', 1), pod('new', 0, false)], 'new', s);
    expect(step2).toMatchObject({ create: [], delete: [] });
    const step3 = planRollout([pod('old', 0), pod('old', 1), pod('new', 0, true)], 'new', s);
    expect(step3.delete).toHaveLength(1);
    expect(step3.create).toEqual([1]);
  });

  it('rolls with no surge by taking one pod down first', () => {
    const a = planRollout([pod('old', 0), pod('old', 1)], 'new', {
      replicas: 2,
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(a.delete).toHaveLength(1);
    expect(a.create).toEqual([0]);
  });

  it('removes old pods that do not serve at once', () => {
    const a = planRollout([pod('old', 0, false), pod('old', 1, false)], 'new', {
      replicas: 2,
      maxSurge: 1,
      maxUnavailable: 0,
    });
    expect(a.delete).toHaveLength(2);
    expect(a.create).toEqual([0, 1]);
  });

  it('resolves percentages like the Deployment controller', () => {
    expect(resolveIntOrPercent('25%', 10, true)).toBe(3);
    expect(resolveIntOrPercent('25%', 10, false)).toBe(2);
    expect(resolveIntOrPercent(4, 10, false)).toBe(4);
    expect(surgeAndUnavailable({ replicas: 1, maxSurge: '0%', maxUnavailable: '10%' })).toEqual({
      surge: 1,
      unavailable: 0,
    });
    expect(() => resolveIntOrPercent('x', 1, true)).toThrow(/int-or-percent/);
  });

  it('property: a rollout converges to `replicas` new ready pods within its surge and availability bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (oldCount, replicas, surgeIn, unavailableIn) => {
          const surge = surgeIn === 0 && unavailableIn === 0 ? 1 : surgeIn;
          const s = { replicas, maxSurge: surge, maxUnavailable: unavailableIn };
          let pods: PodView[] = Array.from({ length: oldCount }, (_, i) => pod('old', i));
          const startReady = Math.min(oldCount, replicas);
          for (let round = 0; round < 100; round++) {
            const a = planRollout(pods, 'new', s);
            const deleted = new Set(a.delete.map((d) => d.name));
            pods = pods.filter((p) => !deleted.has(p.name));
            pods.push(...a.create.map((slot) => pod('new', slot, false)));
            expect(pods.length).toBeLessThanOrEqual(Math.max(oldCount, replicas + surge));
            const ready = pods.filter((p) => p.ready).length;
            expect(ready).toBeGreaterThanOrEqual(Math.min(startReady, replicas - unavailableIn));
            // the pods created this round become ready before the next one
            pods = pods.map((p) => ({ ...p, ready: true }));
            if (a.create.length === 0 && a.delete.length === 0 && a.reason === 'Complete') break;
          }
          expect(pods.filter((p) => p.hash === 'new' && p.ready)).toHaveLength(replicas);
          expect(pods.filter((p) => p.hash === 'old')).toHaveLength(0);
          expect(new Set(pods.map((p) => p.name)).size).toBe(pods.length);
        },
      ),
    );
  });
});
