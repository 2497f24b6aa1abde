// Offline stage: the range [N_min, N_max] of intervals that are optimal (the smallest N meeting
// the SLO with room for the condition's KV cache) for some condition of the workload envelope
// (decode batches, prefills, and decodes mixed with a prefill chunk, at both ends of the
// bandwidth range); host memory sized for N_min; GPU memory left for KV cache at each interval.
import { z } from 'zod';
import type { HardwareDescription } from './hardware.ts';
import { kvTokensHeld, type ModelDescription } from './model.ts';
import type { BatchShape, LayerProfile } from './profile.ts';
import { latencyModel, type LatencyModel } from './latency-model.ts';
import {
  KV_BLOCK_TOKENS,
  gpuMemoryAtInterval,
  hostMemoryAtInterval,
  resolveMemoryOptions,
  type MemoryOptions,
  type ResolvedMemoryOptions,
} from './memory.ts';
import {
  allIntervals,
  intervalOrder,
  offloadedLayerCount,
  offloadedLayers,
  type OffloadPattern,
} from './offload-sets.ts';
import { PlannerError, PlannerErrorCode } from './errors.ts';
import { describeCondition, explainPlan, explainUnmeetable } from './plan-explanation.ts';

export const SloTargets = z
  .object({
    ttftMs: z.number().positive().describe('Time to first token target, ms'),
    tpotMs: z
      .number()
      .positive()
      .describe('Time per output token target (one decode iteration), ms'),
  })
  .strict();
export type SloTargets = z.infer<typeof SloTargets>;

export const WorkloadEnvelope = z
  .object({
    batchSizes: z.array(z.number().int().positive()).min(1).describe('Decode batch sizes to serve'),
    contextLengths: z
      .array(z.number().int().positive())
      .min(1)
      .describe('Context lengths (prompt plus output so far) to serve, tokens'),
    prefillChunkTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Chunk size of chunked prefill; when set, iterations mixing a chunk with decodes must meet the TPOT',
      ),
  })
  .strict();
export type WorkloadEnvelope = z.infer<typeof WorkloadEnvelope>;

export interface PlanOptions extends MemoryOptions {
  pattern?: OffloadPattern;
  /** Bandwidth range to plan for; default the hardware's host link range. */
  bandwidthBytesPerS?: { min: number; max: number };
}

export type ConditionKind = 'decode' | 'prefill' | 'mixed';

export interface PlanCondition {
  kind: ConditionKind;
  batchSize: number;
  contextTokens: number;
  bandwidthBytesPerS: number;
  targetMs: number;
  kvTokensNeeded: number;
  /** Most offloading (smallest N) meeting the target; null when the condition is infeasible. */
  smallestInterval: number | null;
  /** Least offloading (largest N) meeting the target with room for the KV cache; null when infeasible. */
  largestInterval: number | null;
  /** Predicted time at smallestInterval, or at the least offloading that fits when infeasible. */
  predictedMs: number;
  infeasibleReason?: string;
}

export interface IntervalMemory {
  interval: number;
  offloadedLayers: number;
  hostMemoryBytes: number;
  kvCapacityTokens: number;
}

export interface IntervalPlan {
  model: string;
  hardware: string;
  profileSource: LayerProfile['source'];
  intervalMin: number;
  intervalMax: number;
  /** Layers host memory holds: the N_min set (every set in the range is a subset of it). */
  offloadedLayersAtMin: number[];
  hostMemoryBytes: number;
  kvCapacityTokensAtMin: number;
  kvCapacityTokensAtMax: number;
  /** Memory at every interval in the range. */
  intervals: IntervalMemory[];
  conditions: PlanCondition[];
  explanation: string[];
  settings: {
    pattern: OffloadPattern;
    stagingSlots: number;
    gpuMemoryUtilization: number;
    maxBatchTokens: number;
    bandwidthBytesPerS: { min: number; max: number };
    slo: SloTargets;
    workload: WorkloadEnvelope;
  };
}

export interface PlanInput {
  model: ModelDescription;
  hardware: HardwareDescription;
  profile: LayerProfile;
  slo: SloTargets;
  workload: WorkloadEnvelope;
  options?: PlanOptions;
}

function shapesOf(kind: ConditionKind, b: number, c: number, chunk: number): BatchShape[] {
  if (kind === 'decode') return [{ sequences: b, newTokens: b, contextTokens: b * c }];
  if (kind === 'mixed')
    return [{ sequences: b + 1, newTokens: b + chunk, contextTokens: b * c + chunk }];
  const shapes: BatchShape[] = [];
  for (let done = 0; done < c; done += chunk) {
    const n = Math.min(chunk, c - done);
    shapes.push({ sequences: 1, newTokens: n, contextTokens: done + n });
  }
  return shapes;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = [what, ...(issue?.path.map(String) ?? [])].join('.');
  throw new PlannerError(
    PlannerErrorCode.InvalidInput,
    `${path}: ${issue?.message ?? 'invalid'}`,
    path,
  );
}

/** Intervals from most to least offloading that leave room for one sequence of the longest context. */
export function intervalsThatFit(
  model: ModelDescription,
  hardware: HardwareDescription,
  minKvTokens: number,
  memory: ResolvedMemoryOptions,
): number[] {
  return allIntervals(model.numLayers).filter(
    (n) => gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens >= minKvTokens,
  );
}

export function planIntervalRange(input: PlanInput): IntervalPlan {
  const { model, hardware, profile } = input;
  const slo = validate(SloTargets, input.slo, 'slo');
  const workload = validate(WorkloadEnvelope, input.workload, 'workload');
  const options = input.options ?? {};
  const memory = resolveMemoryOptions(options);
  const pattern = options.pattern ?? 'nested';
  const bandwidth = options.bandwidthBytesPerS ?? {
    min: hardware.hostLink.minBytesPerS,
    max: hardware.hostLink.maxBytesPerS,
  };
  if (!(bandwidth.min > 0) || bandwidth.min > bandwidth.max) {
    throw new PlannerError(
      PlannerErrorCode.InvalidInput,
      'bandwidth: need 0 < min <= max',
      'bandwidth',
    );
  }
  const longest = Math.max(...workload.contextLengths);
  if (longest > model.maxPositionEmbeddings) {
    throw new PlannerError(
      PlannerErrorCode.InvalidInput,
      `workload.contextLengths: ${longest} exceeds the model's ${model.maxPositionEmbeddings}-token context`,
      'workload.contextLengths',
    );
  }
  const latency: LatencyModel = latencyModel(model, profile, {
    stagingSlots: memory.stagingSlots,
    pattern,
  });
  const fitting = intervalsThatFit(model, hardware, longest, memory);
  if (fitting.length === 0) {
    const all = gpuMemoryAtInterval(model, hardware, 1, memory);
    throw new PlannerError(
      PlannerErrorCode.ModelDoesNotFit,
      `${model.name} does not fit on ${hardware.name} even with every layer offloaded: ` +
        `${(all.residentWeightBytes / 1e9).toFixed(1)} GB of embeddings and LM head plus ` +
        `${(all.stagingBytes / 1e9).toFixed(1)} GB of staging slots leave no room for ${longest} tokens of KV cache`,
    );
  }
  // Distinct offload sets among the fitting intervals, most offloading first.
  const candidates = fitting.filter(
    (n, k) =>
      k === 0 ||
      offloadedLayerCount(n, model.numLayers) !==
        offloadedLayerCount(fitting[k - 1] ?? 0, model.numLayers),
  );
  const capacity = new Map(
    candidates.map((n) => [n, gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens]),
  );
  const chunk = workload.prefillChunkTokens;

  const conditions: PlanCondition[] = [];
  const kinds: ConditionKind[] = chunk ? ['prefill', 'decode', 'mixed'] : ['prefill', 'decode'];
  for (const bw of bandwidth.min === bandwidth.max
    ? [bandwidth.max]
    : [bandwidth.max, bandwidth.min]) {
    for (const kind of kinds) {
      for (const c of [...workload.contextLengths].sort((a, b) => a - b)) {
        const batches = kind === 'prefill' ? [1] : [...workload.batchSizes].sort((a, b) => a - b);
        for (const b of batches) {
          const shapes = shapesOf(kind, b, c, chunk ?? c).map((s) => latency.prepare(s));
          const target = kind === 'prefill' ? slo.ttftMs : slo.tpotMs;
          // Decoding sequences hold at most their window (+1 block) with a sliding window; a
          // prefill writes all of its tokens in the one iteration.
          const held = kvTokensHeld(c, model.slidingWindow, KV_BLOCK_TOKENS);
          const kvTokensNeeded =
            kind === 'decode' ? b * held : kind === 'mixed' ? b * held + (chunk ?? 0) : c;
          const timeAt = (n: number): number =>
            shapes.reduce((sum, s) => sum + s.predict(n, bw).iterationMs, 0);
          const best = candidates.find((n) => timeAt(n) <= target);
          const condition: PlanCondition = {
            kind,
            batchSize: b,
            contextTokens: c,
            bandwidthBytesPerS: bw,
            targetMs: target,
            kvTokensNeeded,
            smallestInterval: null,
            largestInterval: null,
            predictedMs: timeAt(best ?? candidates[candidates.length - 1] ?? 0),
          };
          if (best === undefined) {
            condition.infeasibleReason = `${describeCondition(condition)} misses ${target} ms even at the least offloading that fits`;
          } else if ((capacity.get(best) ?? 0) < kvTokensNeeded) {
            condition.infeasibleReason =
              `${describeCondition(condition)} needs ${kvTokensNeeded} KV tokens; ` +
              `only ${capacity.get(best) ?? 0} fit at N = ${best}, the smallest interval meeting ${target} ms`;
          } else {
            condition.smallestInterval = best;
            condition.largestInterval =
              [...candidates]
                .reverse()
                .find((n) => (capacity.get(n) ?? 0) >= kvTokensNeeded && timeAt(n) <= target) ??
              best;
          }
          conditions.push(condition);
        }
      }
    }
  }
  const feasible = conditions.filter((c) => c.smallestInterval !== null);
  // The first condition of each kind is its lightest (highest bandwidth, shortest, smallest).
  const lightestFails = (['decode', 'prefill'] as const).some(
    (kind) => conditions.find((c) => c.kind === kind)?.smallestInterval === null,
  );
  if (feasible.length === 0 || lightestFails) {
    throw new PlannerError(
      PlannerErrorCode.SloUnmeetable,
      explainUnmeetable(conditions, model, hardware, fitting),
    );
  }
  // Online, Select-N offloads only as much as the KV cache in demand needs (online.ts), so for
  // each condition every N from its smallest interval (KV tight: most offloading meeting the
  // target) to its largest (KV loose: least offloading that holds the condition) can be optimal.
  // N_min: the most offloading a condition holding a batch's KV cache (decode, mixed) can use; a
  // prefill alone holds one sequence, so offloading beyond what batches use frees memory nobody
  // fills. N_max: the least offloading any feasible condition can run at.
  const batchConditions = feasible.filter((c) => c.kind !== 'prefill');
  const minOrder = Math.min(
    ...(batchConditions.length > 0 ? batchConditions : feasible).map((c) =>
      intervalOrder(c.smallestInterval ?? 0),
    ),
  );
  const maxOrder = Math.max(
    minOrder,
    ...feasible.map((c) => intervalOrder(c.largestInterval ?? 0)),
  );
  const intervalMin =
    feasible.find((c) => intervalOrder(c.smallestInterval ?? 0) === minOrder)?.smallestInterval ??
    0;
  const intervalMax =
    feasible.find((c) => intervalOrder(c.largestInterval ?? 0) === maxOrder)?.largestInterval ?? 0;
  const intervals: IntervalMemory[] = allIntervals(model.numLayers)
    .filter((n) => intervalOrder(n) >= minOrder && intervalOrder(n) <= maxOrder)
    .map((n) => ({
      interval: n,
      offloadedLayers: offloadedLayerCount(n, model.numLayers),
      hostMemoryBytes: hostMemoryAtInterval(model, n),
      kvCapacityTokens: gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens,
    }));
  const plan: IntervalPlan = {
    model: model.name,
    hardware: hardware.name,
    profileSource: profile.source,
    intervalMin,
    intervalMax,
    offloadedLayersAtMin: [...offloadedLayers(intervalMin, model.numLayers, pattern)],
    hostMemoryBytes: hostMemoryAtInterval(model, intervalMin),
    kvCapacityTokensAtMin: gpuMemoryAtInterval(model, hardware, intervalMin, memory)
      .kvCapacityTokens,
    kvCapacityTokensAtMax: gpuMemoryAtInterval(model, hardware, intervalMax, memory)
      .kvCapacityTokens,
    intervals,
    conditions,
    explanation: [],
    settings: {
      pattern,
      stagingSlots: memory.stagingSlots,
      gpuMemoryUtilization: memory.gpuMemoryUtilization,
      maxBatchTokens: memory.maxBatchTokens,
      bandwidthBytesPerS: bandwidth,
      slo,
      workload,
    },
  };
  plan.explanation = explainPlan(plan, model, hardware, fitting);
  return plan;
}
