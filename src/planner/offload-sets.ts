// Offloading intervals and the sets of layers they offload.
//
// Interval N: about one decoder layer in N lives in host memory; N offloads floor(L / N) layers
// (the same count as the plain "every N-th layer" pattern). N ranges over 1..L, and NO_OFFLOAD
// (serialized as 0) stands for N = infinity: nothing offloaded. Compare intervals with
// intervalOrder(), never with < on the raw numbers.
//
// Nested pattern (default): one priority order of the layers; interval N offloads the first
// floor(L/N) layers of it. So set(N_big) is a subset of set(N_small), and host memory sized for
// N_min holds every set in the range. The order is built greedily: each next layer is the one that
// keeps the copies easiest to hide, scored (1) by the least compute before an offloaded layer per
// copy the serial engine must finish by then (min over j of layerIndex_j / (j + 1), all copies
// starting at iteration start), (2) by the smallest gap between consecutive offloaded layers,
// (3) by the later position. Nesting costs little evenness: for L = 40 the sets for 1, 2, 4 layers
// are {39}, {20, 39}, {11, 20, 30, 39}.

export const NO_OFFLOAD = 0;

export type OffloadPattern = 'nested' | 'every-nth';

/** Sort key of an interval: NO_OFFLOAD ranks above every finite N. */
export function intervalOrder(interval: number): number {
  return interval === NO_OFFLOAD ? Number.POSITIVE_INFINITY : interval;
}

export function formatInterval(interval: number): string {
  return interval === NO_OFFLOAD ? 'inf' : String(interval);
}

export function isValidInterval(interval: number, numLayers: number): boolean {
  return (
    interval === NO_OFFLOAD ||
    (Number.isInteger(interval) && interval >= 1 && interval <= numLayers)
  );
}

export function offloadedLayerCount(interval: number, numLayers: number): number {
  return interval === NO_OFFLOAD ? 0 : Math.floor(numLayers / interval);
}

/** The smallest interval that offloads exactly `count` layers (count 0 gives NO_OFFLOAD). */
export function smallestIntervalForCount(count: number, numLayers: number): number {
  if (count <= 0) return NO_OFFLOAD;
  return Math.floor(numLayers / (count + 1)) + 1;
}

/** Every interval from 1 to L, then NO_OFFLOAD, in increasing order. */
export function allIntervals(numLayers: number): number[] {
  const intervals: number[] = [];
  for (let n = 1; n <= numLayers; n++) intervals.push(n);
  intervals.push(NO_OFFLOAD);
  return intervals;
}

function score(sorted: readonly number[]): [number, number] {
  let perCopy = Number.POSITIVE_INFINITY;
  let minGap = Number.POSITIVE_INFINITY;
  for (let j = 0; j < sorted.length; j++) {
    const layer = sorted[j] ?? 0;
    perCopy = Math.min(perCopy, layer / (j + 1));
    if (j > 0) minGap = Math.min(minGap, layer - (sorted[j - 1] ?? 0));
  }
  return [perCopy, minGap];
}

const orderCache = new Map<number, readonly number[]>();

/** The nested priority order: the set for count k is the first k layers of it. */
export function nestedOffloadOrder(numLayers: number): readonly number[] {
  const cached = orderCache.get(numLayers);
  if (cached) return cached;
  const order: number[] = [];
  const chosen = new Set<number>();
  for (let k = 0; k < numLayers; k++) {
    let best = -1;
    let bestScore: [number, number] = [-1, -1];
    for (let p = numLayers - 1; p >= 0; p--) {
      if (chosen.has(p)) continue;
      const candidate = [...chosen, p].sort((a, b) => a - b);
      const s = score(candidate);
      if (
        s[0] > bestScore[0] + 1e-12 ||
        (Math.abs(s[0] - bestScore[0]) <= 1e-12 && s[1] > bestScore[1])
      ) {
        best = p;
        bestScore = s;
      }
    }
    order.push(best);
    chosen.add(best);
  }
  orderCache.set(numLayers, order);
  return order;
}

/** The layers one interval offloads, in increasing order. */
export function offloadedLayers(
  interval: number,
  numLayers: number,
  pattern: OffloadPattern = 'nested',
): Int32Array {
  const count = offloadedLayerCount(interval, numLayers);
  if (pattern === 'every-nth') {
    const layers = new Int32Array(count);
    for (let j = 0; j < count; j++) layers[j] = (j + 1) * interval - 1;
    return layers;
  }
  const layers = Int32Array.from(nestedOffloadOrder(numLayers).slice(0, count));
  return layers.sort();
}

/** Precomputed sets of one pattern for every interval (index = interval; 0 = NO_OFFLOAD, empty). */
export interface OffloadFamily {
  numLayers: number;
  pattern: OffloadPattern;
  setsByInterval: readonly Int32Array[];
}

export function offloadFamily(
  numLayers: number,
  pattern: OffloadPattern = 'nested',
): OffloadFamily {
  const setsByInterval: Int32Array[] = [];
  for (let n = 0; n <= numLayers; n++) setsByInterval.push(offloadedLayers(n, numLayers, pattern));
  return { numLayers, pattern, setsByInterval };
}

/**
 * A finer offload set (beyond the paper): `amountLayers` layers' worth of weights, the first
 * floor(amount) layers of the nested order whole and a fraction of the next one (a split of its
 * tensors), so that any host-memory amount is reachable and every set still nests in the larger
 * ones. `layers` holds every layer with a copy, in increasing order.
 */
export interface FineOffloadSet {
  amountLayers: number;
  layers: Int32Array;
  /** The split layer and the fraction of it in host memory; -1 and 0 when none. */
  partialLayer: number;
  partialFraction: number;
}

export function fineOffloadSet(amountLayers: number, numLayers: number): FineOffloadSet {
  if (!(amountLayers >= 0 && amountLayers <= numLayers)) {
    throw new RangeError(`offload amount ${amountLayers} outside 0..${numLayers} layers`);
  }
  const whole = Math.floor(amountLayers + 1e-9);
  const fraction = amountLayers - whole > 1e-9 ? amountLayers - whole : 0;
  const order = nestedOffloadOrder(numLayers);
  const count = fraction > 0 ? whole + 1 : whole;
  const layers = Int32Array.from(order.slice(0, count)).sort();
  return {
    amountLayers,
    layers,
    partialLayer: fraction > 0 ? (order[whole] ?? -1) : -1,
    partialFraction: fraction,
  };
}
