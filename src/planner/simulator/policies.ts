// Serving policies the simulator compares. Each one says, per iteration, how long the batch takes
// at the bandwidth of the moment and how much KV cache it has; see bench/README.md for what each
// baseline models.
import type { HardwareDescription } from '../hardware.ts';
import type { ModelDescription } from '../model.ts';
import type { BatchShape, LayerProfile } from '../profile.ts';
import type { LatencyModel } from '../latency-model.ts';
import { decoderLayerBytes, nonLayerBytes } from '../model.ts';
import {
  gpuMemoryAtAmount,
  gpuMemoryAtInterval,
  gpuMemoryFor,
  hostMemoryAtInterval,
  type ResolvedMemoryOptions,
} from '../memory.ts';
import { amountChooser, intervalChooser } from '../online.ts';
import { meanIterationMs, type LifeShapes } from '../mean-tpot.ts';
import { formatInterval, NO_OFFLOAD, offloadedLayerCount } from '../offload-sets.ts';
import { predictIteration } from '../timeline.ts';
import type { SloTargets } from '../offline-range.ts';

export interface IterationOutcome {
  iterationMs: number;
  /** Interval the iteration ran at; null for mechanisms without one. */
  interval: number | null;
  /** How the run counts the iteration when not by interval (e.g. "20.25L": layers offloaded). */
  key?: string;
}

export interface AdmissionQuery {
  /** The batch with the request: decode and chunk-carrying iterations at the reservations. */
  life: LifeShapes;
  kvWith: number;
  /** Decode iteration of the batch without the request, at its reservations. */
  decodeWithout: BatchShape;
  kvWithout: number;
  bandwidthBytesPerS: number;
}

export interface ServingPolicy {
  readonly name: string;
  readonly description: string;
  readonly hostMemoryBytes: number;
  /** KV cache pool in tokens (the largest it gets). */
  readonly kvCapacityTokens: number;
  /** Whether admission asks the latency model (Select-N and its fixed-interval ablations). */
  readonly sloAwareAdmission: boolean;
  readonly settings: Record<string, string | number>;
  runIteration(
    shape: BatchShape,
    bandwidthBytesPerS: number,
    kvTokensInUse: number,
  ): IterationOutcome;
  /**
   * SLO-aware admission: may the batch with the request (holding kvWith projected KV tokens) run
   * with a predicted mean TPOT within the target? decodeWithout/kvWithout: the batch without it.
   */
  admits(request: AdmissionQuery): boolean;
}

export interface PolicyContext {
  model: ModelDescription;
  hardware: HardwareDescription;
  profile: LayerProfile;
  latency: LatencyModel;
  memory: ResolvedMemoryOptions;
  slo: SloTargets;
}

export class PolicyInfeasible extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyInfeasible';
  }
}

function requireKv(name: string, tokens: number, minTokens: number): void {
  if (tokens < minTokens) {
    throw new PolicyInfeasible(
      `${name}: the weights leave room for ${tokens} KV tokens, a request needs up to ${minTokens}`,
    );
  }
}

/** Select-N over [intervalMin, intervalMax], or a single interval (fixed-n-K, no-offload). */
export function intervalPolicy(
  ctx: PolicyContext,
  name: string,
  range: { intervalMin: number; intervalMax: number },
  minKvTokens: number,
  rule: 'holding-demand' | 'smallest-meeting-slo' = 'holding-demand',
): ServingPolicy {
  const { model, hardware, memory, slo } = ctx;
  const capacityAt = (n: number): number =>
    gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens;
  const chooser = intervalChooser(ctx.latency, range, capacityAt);
  const kvCapacityTokens = chooser.kvCapacityTokens[0] ?? 0;
  requireKv(name, kvCapacityTokens, minKvTokens);
  const single = chooser.candidates.length === 1;
  return {
    name,
    description: single
      ? `interval N = ${formatInterval(range.intervalMin)} (${offloadedLayerCount(range.intervalMin, model.numLayers)} layers offloaded), prefetch overlapped`
      : `online interval in [${formatInterval(range.intervalMin)}, ${formatInterval(range.intervalMax)}], SLO-aware admission`,
    hostMemoryBytes: hostMemoryAtInterval(model, range.intervalMin),
    kvCapacityTokens,
    sloAwareAdmission: true,
    settings: { intervalMin: range.intervalMin, intervalMax: range.intervalMax },
    runIteration(shape, bandwidth, kvTokensInUse) {
      const choice =
        rule === 'smallest-meeting-slo'
          ? chooser.choose(shape, bandwidth, slo.tpotMs, kvTokensInUse)
          : chooser.chooseHolding(shape, bandwidth, slo.tpotMs, kvTokensInUse);
      return { iterationMs: choice.predictedMs, interval: choice.interval };
    },
    admits(q) {
      if (rule === 'holding-demand') {
        return chooser.admitOffloading(
          q.life,
          q.kvWith,
          q.decodeWithout,
          q.kvWithout,
          q.bandwidthBytesPerS,
          slo.tpotMs,
        ).admit;
      }
      // The literal rule: the smallest N whose decode meets the TPOT, then the mean there.
      const bw = q.bandwidthBytesPerS;
      const decision = chooser.admit(q.life.decode, bw, slo.tpotMs, q.kvWith);
      if (!decision.admit) return false;
      const index = chooser.candidates.indexOf(decision.interval);
      const mean = meanIterationMs(
        chooser.predictAt(index, q.life.decode, bw),
        chooser.predictAt(index, q.life.prefill, bw),
        q.life.prefillShare,
      );
      return mean <= slo.tpotMs;
    },
  };
}

/**
 * Select-N with finer granularity (beyond the paper): the offload set is any amount of layers on a
 * grid of `stepLayers` (a fraction of the last layer split) from `maxAmountLayers` down to none,
 * nested, so host memory reaches any amount; the online rule and admission are Select-N's.
 */
export function fineSelectNPolicy(
  ctx: PolicyContext,
  name: string,
  maxAmountLayers: number,
  stepLayers: number,
  minKvTokens: number,
): ServingPolicy {
  const { model, hardware, memory, slo } = ctx;
  if (!(stepLayers > 0)) throw new RangeError(`stepLayers must be positive, got ${stepLayers}`);
  const amounts: number[] = [];
  const steps = Math.round(maxAmountLayers / stepLayers);
  for (let k = steps; k >= 0; k--) amounts.push(Number((k * stepLayers).toFixed(6)));
  const capacityAt = (a: number): number =>
    gpuMemoryAtAmount(model, hardware, a, memory).kvCapacityTokens;
  const chooser = amountChooser(ctx.latency, amounts, capacityAt);
  const kvCapacityTokens = chooser.kvCapacityTokens[0] ?? 0;
  requireKv(name, kvCapacityTokens, minKvTokens);
  const top = amounts[0] ?? 0;
  return {
    name,
    description: `online offload amount in [0, ${top}] layers in steps of ${stepLayers} layer (split tensors), SLO-aware admission`,
    hostMemoryBytes: top * decoderLayerBytes(model),
    kvCapacityTokens,
    sloAwareAdmission: true,
    settings: { maxAmountLayers: top, stepLayers },
    runIteration(shape, bandwidth, kvTokensInUse) {
      const choice = chooser.chooseHolding(shape, bandwidth, slo.tpotMs, kvTokensInUse);
      return {
        iterationMs: choice.predictedMs,
        interval: null,
        key: `${choice.interval}L`,
      };
    },
    admits(q) {
      return chooser.admitOffloading(
        q.life,
        q.kvWith,
        q.decodeWithout,
        q.kvWithout,
        q.bandwidthBytesPerS,
        slo.tpotMs,
      ).admit;
    },
  };
}

/**
 * Streams a fraction of every layer's weights through `slots` staging buffers with prefetch
 * overlapped (fraction 1: DeepSpeed ZeRO-Inference; below 1: FlexGen's per-layer weight split).
 */
export function streamingPolicy(
  ctx: PolicyContext,
  name: string,
  description: string,
  fraction: number,
  minKvTokens: number,
): ServingPolicy {
  const { model, hardware, memory, profile } = ctx;
  const L = model.numLayers;
  const layerBytes = decoderLayerBytes(model);
  const resident = nonLayerBytes(model) + L * layerBytes * (1 - fraction);
  const staging = fraction > 0 ? memory.stagingSlots * layerBytes * fraction : 0;
  const kvCapacityTokens = gpuMemoryFor(
    model,
    hardware,
    resident,
    staging,
    memory,
  ).kvCapacityTokens;
  requireKv(name, kvCapacityTokens, minKvTokens);
  const all = Int32Array.from({ length: fraction > 0 ? L : 0 }, (_, i) => i);
  const computeMs = new Float64Array(L);
  return {
    name,
    description,
    hostMemoryBytes: L * layerBytes * fraction,
    kvCapacityTokens,
    sloAwareAdmission: false,
    settings: { offloadedFraction: Number(fraction.toFixed(3)) },
    runIteration(shape, bandwidth) {
      profile.fillLayerComputeMs(shape, computeMs);
      const result = predictIteration({
        computeMs,
        numLayers: L,
        offloaded: all,
        copyMs: ((layerBytes * fraction) / bandwidth) * 1000,
        stagingSlots: memory.stagingSlots,
        outsideLayersMs: profile.outsideLayersMs(shape),
      });
      return { iterationMs: result.iterationMs, interval: null };
    },
    admits: () => true,
  };
}

/**
 * vLLM --cpu-offload-gb: `offloadBytes` of weights (whole tensors, any amount) live in host memory
 * and are read over the bus inside their layers' compute, with no overlap (zero-copy access).
 */
export function zeroCopyPolicy(
  ctx: PolicyContext,
  offloadBytes: number,
  minKvTokens: number,
): ServingPolicy {
  const { model, hardware, memory, profile } = ctx;
  const L = model.numLayers;
  const layerBytes = decoderLayerBytes(model);
  const bytes = Math.min(offloadBytes, L * layerBytes);
  const resident = nonLayerBytes(model) + L * layerBytes - bytes;
  const kvCapacityTokens = gpuMemoryFor(model, hardware, resident, 0, memory).kvCapacityTokens;
  requireKv('zero-copy', kvCapacityTokens, minKvTokens);
  const computeMs = new Float64Array(L);
  return {
    name: 'zero-copy',
    description: `${(bytes / 1e9).toFixed(1)} GB (${(bytes / layerBytes).toFixed(2)} layers) read over the bus during compute, no overlap (vLLM --cpu-offload-gb)`,
    hostMemoryBytes: bytes,
    kvCapacityTokens,
    sloAwareAdmission: false,
    settings: { offloadGb: Number((bytes / 1e9).toFixed(2)) },
    runIteration(shape, bandwidth) {
      profile.fillLayerComputeMs(shape, computeMs);
      let computeTotal = 0;
      for (let i = 0; i < L; i++) computeTotal += computeMs[i] ?? 0;
      const iterationMs =
        computeTotal + (bytes / bandwidth) * 1000 + profile.outsideLayersMs(shape);
      return { iterationMs, interval: null };
    },
    admits: () => true,
  };
}

/** Interval policy for no offloading at all. */
export function noOffloadPolicy(ctx: PolicyContext, minKvTokens: number): ServingPolicy {
  const policy = intervalPolicy(
    ctx,
    'no-offload',
    { intervalMin: NO_OFFLOAD, intervalMax: NO_OFFLOAD },
    minKvTokens,
  );
  return { ...policy, description: 'all weights on the GPU; the KV cache gets what is left' };
}
