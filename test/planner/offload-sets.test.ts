import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  NO_OFFLOAD,
  allIntervals,
  intervalOrder,
  isValidInterval,
  nestedOffloadOrder,
  offloadedLayerCount,
  offloadedLayers,
  smallestIntervalForCount,
} from '../../src/planner/index.ts';

describe('offload sets', () => {
  it('are nested: the set of a larger interval is a subset of the set of a smaller one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1, max: 96 }),
        (L, a, b) => {
          const small = Math.min(a, b, L);
          const big = Math.min(Math.max(a, b), L);
          const smallSet = new Set(offloadedLayers(small, L));
          for (const layer of offloadedLayers(big, L)) expect(smallSet.has(layer)).toBe(true);
          expect(offloadedLayers(NO_OFFLOAD, L)).toHaveLength(0);
        },
      ),
    );
  });

  it('offload floor(L/N) distinct layers in range, in increasing order, for both patterns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1, max: 96 }),
        fc.constantFrom('nested' as const, 'every-nth' as const),
        (L, n0, pattern) => {
          const n = Math.min(n0, L);
          const set = [...offloadedLayers(n, L, pattern)];
          expect(set).toHaveLength(Math.floor(L / n));
          expect(new Set(set).size).toBe(set.length);
          for (let j = 0; j < set.length; j++) {
            expect(set[j]).toBeGreaterThanOrEqual(0);
            expect(set[j]).toBeLessThan(L);
            if (j > 0) expect(set[j]).toBeGreaterThan(set[j - 1] ?? -1);
          }
        },
      ),
    );
  });

  it('spread over depth: the nested order is a permutation and 4 of 40 layers are evenly spaced', () => {
    const order = nestedOffloadOrder(40);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect([...offloadedLayers(10, 40)]).toEqual([11, 20, 30, 39]);
    expect([...offloadedLayers(40, 40)]).toEqual([39]);
    expect([...offloadedLayers(8, 40, 'every-nth')]).toEqual([7, 15, 23, 31, 39]);
  });

  it('represent N = infinity as NO_OFFLOAD (0), ordered above every finite interval', () => {
    expect(NO_OFFLOAD).toBe(0);
    expect(intervalOrder(NO_OFFLOAD)).toBeGreaterThan(intervalOrder(80));
    expect(allIntervals(3)).toEqual([1, 2, 3, NO_OFFLOAD]);
    expect(isValidInterval(0, 40)).toBe(true);
    expect(isValidInterval(41, 40)).toBe(false);
    expect(isValidInterval(2.5, 40)).toBe(false);
    for (let k = 1; k <= 40; k++) {
      const n = smallestIntervalForCount(k, 40);
      expect(offloadedLayerCount(n, 40)).toBeLessThanOrEqual(k);
      if (n > 1) expect(offloadedLayerCount(n - 1, 40)).toBeGreaterThan(k);
    }
  });
});
