// Which layers start-up may copy into the pinned host pool under a --host-memory limit. The pod's
// memory limit is sized by the operator for N_min's offload set (planner: hostMemoryAtInterval),
// so start-up must never hold more than that at any moment: it loads, profiles and plans within
// the largest offload set of the family whose bytes fit, not with every layer.
import { NO_OFFLOAD, intervalOrder, type OffloadFamily } from '../planner/index.ts';

export interface HostSetChoice {
  /** Interval whose offload set is the host set (NO_OFFLOAD: nothing fits, host set empty). */
  interval: number;
  layers: number[];
}

/**
 * The host set start-up loads with: every layer without a limit (profile and plan over the whole
 * family, as before), else the offload set of the smallest interval whose layers fit `limit`.
 */
export function hostSetWithin(
  family: OffloadFamily,
  layerBytes: number,
  limitBytes: number | undefined,
): HostSetChoice {
  const L = family.numLayers;
  if (limitBytes === undefined) {
    return { interval: 1, layers: Array.from({ length: L }, (_, i) => i) };
  }
  for (let n = 1; n <= L; n++) {
    const set = family.setsByInterval[n];
    if (set !== undefined && set.length * layerBytes <= limitBytes) {
      return { interval: n, layers: Array.from(set) };
    }
  }
  return { interval: NO_OFFLOAD, layers: [] };
}

/**
 * The least host memory with which the device pool could hold what stays on it: the bytes of the
 * smallest family set that offloads more than the `failedCount` layers just refused and leaves
 * `baseBytes` (non-layer weights and activations), the resident layers and the staging slots
 * within `deviceBytes`. Undefined when no offload set fits the device pool.
 */
export function leastHostMemoryFor(
  family: OffloadFamily,
  sizes: { layerBytes: number; baseBytes: number; deviceBytes: number; stagingSlots: number },
  failedCount: number,
): number | undefined {
  const { layerBytes, baseBytes, deviceBytes, stagingSlots } = sizes;
  const L = family.numLayers;
  let best: number | undefined;
  for (let n = 1; n <= L; n++) {
    const count = family.setsByInterval[n]?.length ?? 0;
    if (count <= failedCount) continue;
    const device = baseBytes + (L - count + Math.min(count, stagingSlots)) * layerBytes;
    if (device > deviceBytes) continue;
    const bytes = count * layerBytes;
    if (best === undefined || bytes < best) best = bytes;
  }
  return best;
}

/** `interval` raised (towards fewer offloaded layers) to at least `floor`, in interval order. */
export function atLeastInterval(interval: number, floor: number): number {
  return intervalOrder(interval) < intervalOrder(floor) ? floor : interval;
}
