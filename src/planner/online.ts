// Online stage: before every iteration, pick the interval for the batch about to run at the copy
// bandwidth measured now, and decide whether a request may join the running batch.
//
// Two rules. choose(): the smallest N in the range whose predicted iteration time meets the
// target (the paper's rule: the most KV memory the SLO allows). chooseHolding(): the least
// offloading that holds the KV cache in use and meets the target, falling back to choose().
// With chooseHolding(), memory is freed only when admission decides it is worth it:
// admitOffloading() admits a request that needs more offloading only if the predicted KV tokens
// served per ms do not fall. The simulator showed that choose() alone spends all latency slack on
// copies even when nobody needs the memory, so iterations get slower and queues grow
// (bench/README.md); Select-N's simulator policy uses chooseHolding() and admitOffloading().
//
import type { BatchShape } from './profile.ts';
import type { LatencyModel } from './latency-model.ts';
import { fineOffloadSet, intervalOrder, offloadedLayerCount } from './offload-sets.ts';
import { predictIteration } from './timeline.ts';
import { meanIterationMs, type LifeShapes } from './mean-tpot.ts';

export interface IntervalChoice {
  interval: number;
  predictedMs: number;
  /** False when no allowed interval meets the target; `interval` is then the fastest allowed. */
  meetsTarget: boolean;
}

export type AdmissionDecision =
  | { admit: true; interval: number; predictedMs: number }
  | { admit: false; reason: 'latency' | 'kv-capacity' | 'throughput'; detail: string };

export interface IntervalChooser {
  /**
   * One id per distinct offload set, most offloading first: intervals (smallest N first) for
   * intervalChooser, amounts in layers (largest first) for amountChooser.
   */
  readonly candidates: readonly number[];
  /** KV capacity in tokens at each candidate (non-increasing). */
  readonly kvCapacityTokens: readonly number[];
  /** Smallest N meeting targetMs among those whose KV capacity holds kvTokensInUse. */
  choose(
    shape: BatchShape,
    bandwidthBytesPerS: number,
    targetMs: number,
    kvTokensInUse?: number,
  ): IntervalChoice;
  /** Least offloading meeting targetMs whose KV capacity holds kvTokensInUse; else choose(). */
  chooseHolding(
    shape: BatchShape,
    bandwidthBytesPerS: number,
    targetMs: number,
    kvTokensInUse: number,
  ): IntervalChoice;
  /**
   * Admission for chooseHolding(): the batch with the request (`life`: its decode iteration at the
   * reservations, the iteration that also carries a prefill chunk, and the share of such
   * iterations) must hold kvWith at some interval and its predicted mean TPOT there
   * (mean-tpot.ts) must meet targetMs. When the request needs more offloading than the batch
   * without it (decodeWithout, kvWithout), it is admitted only if that deeper offloading could
   * serve more KV tokens per ms when full: capacity(N_with) / T(decode with, N_with) >=
   * capacity(N_without) / T(decode without, N_without), N_with and N_without being the least
   * offloading holding kvWith and kvWithout.
   * Freed memory is worth a slower iteration only when the larger batch it allows more than
   * makes up for it (true on an L4, where copies hide behind slow compute; false for a 13B model
   * on an A100 with PCIe 4, where one layer's copy costs most of a decode iteration).
   */
  admitOffloading(
    life: LifeShapes,
    kvWith: number,
    decodeWithout: BatchShape,
    kvWithout: number,
    bandwidthBytesPerS: number,
    targetMs: number,
  ): AdmissionDecision;
  /** Index in `candidates` of the least offloading whose KV capacity holds kvTokens; -1: none. */
  holdingIndex(kvTokens: number): number;
  /** Predicted iteration time of `shape` at candidates[index], ms. */
  predictAt(index: number, shape: BatchShape, bandwidthBytesPerS: number): number;
  /**
   * KV tokens the batch may hold while its iterations meet targetMs: the capacity of the most
   * offloading candidate whose predicted time for `shape` meets the target, or the capacity of
   * the least offloading when none does (offloading less is never slower).
   */
  kvBudgetTokens(shape: BatchShape, bandwidthBytesPerS: number, targetMs: number): number;
  /** Admits when some interval meets targetMs for `shape` and holds kvTokensNeeded. */
  admit(
    shape: BatchShape,
    bandwidthBytesPerS: number,
    targetMs: number,
    kvTokensNeeded: number,
  ): AdmissionDecision;
}

export function intervalChooser(
  latency: LatencyModel,
  range: { intervalMin: number; intervalMax: number },
  kvCapacityAt: (interval: number) => number,
): IntervalChooser {
  const L = latency.model.numLayers;
  const lo = intervalOrder(range.intervalMin);
  const hi = intervalOrder(range.intervalMax);
  if (lo > hi) throw new RangeError('intervalMin must not exceed intervalMax');
  const candidates: number[] = [];
  let lastCount = -1;
  for (let n = 1; n <= L + 1; n++) {
    const interval = n === L + 1 ? 0 : n;
    const order = intervalOrder(interval);
    if (order < lo || order > hi) continue;
    const count = offloadedLayerCount(interval, L);
    if (count === lastCount) continue;
    candidates.push(interval);
    lastCount = count;
  }
  const steps = candidates.map((n): OffloadStep => {
    const set = latency.family.setsByInterval[n];
    if (!set) throw new RangeError(`no offload set for interval ${n}`);
    return { id: n, layers: set, partialLayer: -1, partialFraction: 0 };
  });
  return chooserOverSteps(latency, steps, candidates.map(kvCapacityAt));
}

/**
 * Beyond the paper: a chooser over offload amounts in layers (fractions included, nested order;
 * offload-sets.ts fineOffloadSet), most offloading first. Its `candidates` are the amounts.
 */
export function amountChooser(
  latency: LatencyModel,
  amountsLayers: readonly number[],
  kvCapacityAt: (amountLayers: number) => number,
): IntervalChooser {
  const L = latency.model.numLayers;
  for (let i = 1; i < amountsLayers.length; i++) {
    if (!((amountsLayers[i] ?? 0) < (amountsLayers[i - 1] ?? 0))) {
      throw new RangeError('offload amounts must be strictly decreasing (most offloading first)');
    }
  }
  const steps = amountsLayers.map((a): OffloadStep => {
    const fine = fineOffloadSet(a, L);
    return {
      id: a,
      layers: fine.layers,
      partialLayer: fine.partialLayer,
      partialFraction: fine.partialFraction,
    };
  });
  return chooserOverSteps(latency, steps, amountsLayers.map(kvCapacityAt));
}

interface OffloadStep {
  id: number;
  layers: Int32Array;
  partialLayer: number;
  partialFraction: number;
}

function chooserOverSteps(
  latency: LatencyModel,
  steps: readonly OffloadStep[],
  capacities: readonly number[],
): IntervalChooser {
  const L = latency.model.numLayers;
  const candidates = steps.map((s) => s.id);
  const computeMs = new Float64Array(L);
  const slots = latency.stagingSlots;
  let outsideMs = 0;
  let copyMs = 0;

  const timeAt = (index: number): number => {
    const step = steps[index];
    return predictIteration({
      computeMs,
      numLayers: L,
      offloaded: step?.layers ?? new Int32Array(0),
      copyMs,
      stagingSlots: slots,
      outsideLayersMs: outsideMs,
      partialLayer: step?.partialLayer ?? -1,
      partialFraction: step?.partialFraction ?? 0,
    }).iterationMs;
  };

  const load = (shape: BatchShape, bandwidth: number): void => {
    latency.profile.fillLayerComputeMs(shape, computeMs);
    outsideMs = latency.profile.outsideLayersMs(shape);
    copyMs = (latency.layerBytes / bandwidth) * 1000;
  };

  /** Smallest index in [0, last] meeting target, or -1. */
  const firstMeeting = (target: number, last: number): { index: number; ms: number } => {
    const lastMs = timeAt(last);
    if (lastMs > target) return { index: -1, ms: lastMs };
    let a = 0;
    let b = last;
    let bMs = lastMs;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const ms = timeAt(mid);
      if (ms <= target) {
        b = mid;
        bMs = ms;
      } else {
        a = mid + 1;
      }
    }
    return { index: b, ms: bMs };
  };

  const lastHolding = (kvTokens: number): number => {
    // capacities are non-increasing: find the last index whose capacity >= kvTokens.
    if ((capacities[0] ?? 0) < kvTokens) return 0;
    let a = 0;
    let b = capacities.length - 1;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if ((capacities[mid] ?? 0) >= kvTokens) a = mid;
      else b = mid - 1;
    }
    return a;
  };

  return {
    candidates,
    kvCapacityTokens: capacities,
    holdingIndex(kvTokens) {
      if ((capacities[0] ?? 0) < kvTokens) return -1;
      return lastHolding(kvTokens);
    },
    predictAt(index, shape, bandwidth) {
      if (!(index >= 0 && index < candidates.length)) {
        throw new RangeError(`candidate index ${index} outside 0..${candidates.length - 1}`);
      }
      load(shape, bandwidth);
      return timeAt(index);
    },
    kvBudgetTokens(shape, bandwidth, targetMs) {
      load(shape, bandwidth);
      const last = candidates.length - 1;
      const found = firstMeeting(targetMs, last);
      return capacities[found.index < 0 ? last : found.index] ?? 0;
    },
    choose(shape, bandwidth, targetMs, kvTokensInUse = 0) {
      load(shape, bandwidth);
      const last = lastHolding(kvTokensInUse);
      const found = firstMeeting(targetMs, last);
      if (found.index < 0) {
        return { interval: candidates[last] ?? 0, predictedMs: found.ms, meetsTarget: false };
      }
      return { interval: candidates[found.index] ?? 0, predictedMs: found.ms, meetsTarget: true };
    },
    chooseHolding(shape, bandwidth, targetMs, kvTokensInUse) {
      if ((capacities[0] ?? 0) >= kvTokensInUse) {
        const index = lastHolding(kvTokensInUse);
        load(shape, bandwidth);
        const ms = timeAt(index);
        if (ms <= targetMs)
          return { interval: candidates[index] ?? 0, predictedMs: ms, meetsTarget: true };
      }
      return this.choose(shape, bandwidth, targetMs, kvTokensInUse);
    },
    admitOffloading(life, kvWith, decodeWithout, kvWithout, bandwidth, targetMs) {
      if ((capacities[0] ?? 0) < kvWith) {
        return {
          admit: false,
          reason: 'kv-capacity',
          detail: `needs ${kvWith} KV tokens, at most ${capacities[0] ?? 0} fit in the range`,
        };
      }
      const withIndex = lastHolding(kvWith);
      load(life.decode, bandwidth);
      const withDecodeMs = timeAt(withIndex);
      load(life.prefill, bandwidth);
      const withMs = meanIterationMs(withDecodeMs, timeAt(withIndex), life.prefillShare);
      if (withMs > targetMs) {
        return {
          admit: false,
          reason: 'latency',
          detail: `predicted mean ${withMs.toFixed(1)} ms > ${targetMs} ms at the least offloading holding ${kvWith} KV tokens`,
        };
      }
      const withoutIndex = lastHolding(kvWithout);
      if (withoutIndex === withIndex || kvWithout <= 0) {
        return { admit: true, interval: candidates[withIndex] ?? 0, predictedMs: withMs };
      }
      // Rates are compared on decode-only iterations, where the batch spends most of its time
      // (a prefill chunk hides copies that decodes cannot).
      load(decodeWithout, bandwidth);
      const withoutMs = timeAt(withoutIndex);
      const rateWith = (capacities[withIndex] ?? 0) / withDecodeMs;
      const rateWithout = (capacities[withoutIndex] ?? 0) / withoutMs;
      if (rateWith < rateWithout) {
        return {
          admit: false,
          reason: 'throughput',
          detail: `offloading to N = ${candidates[withIndex] ?? 0} would serve fewer KV tokens per ms`,
        };
      }
      return { admit: true, interval: candidates[withIndex] ?? 0, predictedMs: withMs };
    },
    admit(shape, bandwidth, targetMs, kvTokensNeeded) {
      load(shape, bandwidth);
      const found = firstMeeting(targetMs, candidates.length - 1);
      if (found.index < 0) {
        return {
          admit: false,
          reason: 'latency',
          detail: `predicted ${found.ms.toFixed(1)} ms > ${targetMs} ms even at the least offloading`,
        };
      }
      const capacity = capacities[found.index] ?? 0;
      if (capacity < kvTokensNeeded) {
        return {
          admit: false,
          reason: 'kv-capacity',
          detail: `needs ${kvTokensNeeded} KV tokens, ${capacity} fit at the smallest interval meeting the target`,
        };
      }
      return { admit: true, interval: candidates[found.index] ?? 0, predictedMs: found.ms };
    },
  };
}
