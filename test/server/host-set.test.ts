// The host set start-up loads under --host-memory: the largest offload set of the family that
// fits (never more), every layer without a limit, and the least host memory that would let the
// device pool hold what stays on it.
import { describe, expect, it } from 'vitest';
import { NO_OFFLOAD, offloadFamily } from '../../src/planner/index.ts';
import { atLeastInterval, hostSetWithin, leastHostMemoryFor } from '../../src/server/host-set.ts';

const nested8 = offloadFamily(8, 'nested');
const LAYER = 1000;

describe('hostSetWithin', () => {
  it('takes every layer without a limit', () => {
    expect(hostSetWithin(nested8, LAYER, undefined)).toEqual({
      interval: 1,
      layers: [0, 1, 2, 3, 4, 5, 6, 7],
    });
  });

  it('takes the smallest interval whose set fits, exactly at and just below each boundary', () => {
    for (let n = 1; n <= 8; n++) {
      const set = Array.from(nested8.setsByInterval[n] ?? []);
      const bytes = set.length * LAYER;
      const chosen = hostSetWithin(nested8, LAYER, bytes);
      expect(chosen.layers.length * LAYER).toBeLessThanOrEqual(bytes);
      expect(chosen.layers).toEqual(Array.from(nested8.setsByInterval[chosen.interval] ?? []));
      expect(chosen.layers.length).toBe(set.length);
      const below = hostSetWithin(nested8, LAYER, bytes - 1);
      expect(below.layers.length).toBeLessThan(set.length);
    }
    expect(hostSetWithin(nested8, LAYER, 4 * LAYER + 999).interval).toBe(2);
  });

  it('holds nothing when one layer does not fit', () => {
    expect(hostSetWithin(nested8, LAYER, LAYER - 1)).toEqual({ interval: NO_OFFLOAD, layers: [] });
  });
});

describe('leastHostMemoryFor', () => {
  const sizes = { layerBytes: LAYER, baseBytes: 500, stagingSlots: 2 };
  it('names the smallest set, above the one refused, whose resident part and staging fit', () => {
    // 8 layers, 2 staging slots: offloading k keeps 8 - k + 2 layers on the device.
    expect(leastHostMemoryFor(nested8, { ...sizes, deviceBytes: 500 + 6 * LAYER }, 2)).toBe(
      4 * LAYER,
    );
    expect(leastHostMemoryFor(nested8, { ...sizes, deviceBytes: 500 + 8 * LAYER }, 1)).toBe(
      2 * LAYER,
    );
    expect(leastHostMemoryFor(nested8, { ...sizes, deviceBytes: 500 + 4 * LAYER }, 0)).toBe(
      8 * LAYER,
    );
  });

  it('is undefined when not even every layer offloaded fits', () => {
    expect(
      leastHostMemoryFor(nested8, { ...sizes, deviceBytes: 500 + 2 * LAYER - 1 }, 0),
    ).toBeUndefined();
  });
});

describe('atLeastInterval', () => {
  it('raises finite intervals below the floor and keeps NO_OFFLOAD, which ranks above all', () => {
    expect(atLeastInterval(1, 2)).toBe(2);
    expect(atLeastInterval(3, 2)).toBe(3);
    expect(atLeastInterval(NO_OFFLOAD, 2)).toBe(NO_OFFLOAD);
    expect(atLeastInterval(4, NO_OFFLOAD)).toBe(NO_OFFLOAD);
  });
});
