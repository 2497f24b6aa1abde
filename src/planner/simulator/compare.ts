// Replays one trace through Select-N and every baseline and summarizes each run.
import type { HardwareDescription } from '../hardware.ts';
import type { ModelDescription } from '../model.ts';
import type { LayerProfile } from '../profile.ts';
import { latencyModel } from '../latency-model.ts';
import { resolveMemoryOptions, type MemoryOptions } from '../memory.ts';
import { isValidInterval } from '../offload-sets.ts';
import { decoderLayerBytes } from '../model.ts';
import { planIntervalRange, type SloTargets } from '../offline-range.ts';
import { PlannerError } from '../errors.ts';
import {
  simulatePolicy,
  type BandwidthSchedule,
  type PolicyRun,
  type SchedulerConfig,
} from './engine.ts';
import { summarizeRun, type RunSummary } from './metrics.ts';
import {
  intervalPolicy,
  noOffloadPolicy,
  PolicyInfeasible,
  streamingPolicy,
  zeroCopyPolicy,
  type PolicyContext,
  type ServingPolicy,
} from './policies.ts';
import { layersToFit, throughputOptimalFraction } from './baseline-tuning.ts';
import { generateTrace, TraceSpec } from './trace.ts';

export interface SimulationInput {
  model: ModelDescription;
  hardware: HardwareDescription;
  profile: LayerProfile;
  slo: SloTargets;
  trace: TraceSpec;
  /** Copy bandwidth at the start; default the host link's maximum. */
  bandwidthBytesPerS?: number;
  bandwidthChange?: { atS: number; toBytesPerS: number };
  scheduler?: Partial<SchedulerConfig>;
  memory?: MemoryOptions;
  /** K of the fixed-n-K policies; those whose weights do not fit are reported infeasible. */
  fixedIntervals?: number[];
  /** Also run select-n-smallest: Select-N with the literal "smallest N meeting the SLO" rule. */
  includeSmallestIntervalRule?: boolean;
}

export interface PolicyReport extends Partial<RunSummary> {
  policy: string;
  feasible: boolean;
  infeasibleReason?: string;
  description?: string;
  hostMemoryBytes: number;
  kvCapacityTokens: number;
  settings?: Record<string, string | number>;
  intervalIterations?: Record<string, number>;
}

export interface SimulationReport {
  model: string;
  hardware: string;
  profileSource: LayerProfile['source'];
  slo: SloTargets;
  trace: ReturnType<typeof TraceSpec.parse>;
  bandwidth: { initialBytesPerS: number; change: { atS: number; toBytesPerS: number } | null };
  scheduler: SchedulerConfig;
  selectNRange: { intervalMin: number; intervalMax: number } | null;
  definitions: Record<string, string>;
  policies: PolicyReport[];
}

export const DEFAULT_FIXED_INTERVALS = [1, 2, 3, 4, 5, 8, 10, 13, 20];

export const METRIC_DEFINITIONS = {
  throughputTokensPerS:
    'throughput at the SLO (goodput): output tokens of requests that met both their TTFT and TPOT targets, divided by the time from the first arrival to the last completion',
  totalThroughputTokensPerS: 'output tokens of all finished requests over the same time',
  sloAttainment: 'fraction of all requests in the trace that met both TTFT and TPOT',
  tpotMs:
    'per request: (completion time - first token time) / (output tokens - 1); percentiles over requests',
  hostMemoryBytes: 'pinned host memory for offloaded weights',
  kvCapacityTokens: 'largest KV cache pool of the policy, tokens',
};

/**
 * Select-N's interval range for a trace: planned over batch sizes 1-64 at the median prompt and
 * the longest request, with the trace's prefill chunk. Throws PlannerError when none meets the SLO.
 */
export function planSelectNRange(
  ctx: PolicyContext,
  traceSpec: { prompt: { median: number; max: number }; output: { max: number } },
  tokenBudget: number,
): { intervalMin: number; intervalMax: number } {
  const { model, hardware, profile, slo, memory } = ctx;
  const longestRequest = traceSpec.prompt.max + traceSpec.output.max;
  const plan = planIntervalRange({
    model,
    hardware,
    profile,
    slo,
    workload: {
      batchSizes: [1, 4, 16, 64],
      contextLengths: [
        ...new Set([
          Math.round(traceSpec.prompt.median),
          Math.min(model.maxPositionEmbeddings, longestRequest),
        ]),
      ],
      prefillChunkTokens: tokenBudget,
    },
    options: memory,
  });
  return { intervalMin: plan.intervalMin, intervalMax: plan.intervalMax };
}

/** A policy that cannot run serves nothing: zero goodput and attainment, so every row compares. */
function infeasible(policy: string, reason: string): PolicyReport {
  return {
    policy,
    feasible: false,
    infeasibleReason: reason,
    throughputTokensPerS: 0,
    sloAttainment: 0,
    hostMemoryBytes: 0,
    kvCapacityTokens: 0,
  };
}

export function simulatePolicies(input: SimulationInput): SimulationReport {
  const { model, hardware, profile, slo } = input;
  const traceSpec = TraceSpec.parse(input.trace);
  const trace = generateTrace(traceSpec);
  const memory = resolveMemoryOptions({
    maxBatchTokens: input.scheduler?.tokenBudget ?? 512,
    ...input.memory,
  });
  const lastArrivalMs = trace[trace.length - 1]?.arrivalMs ?? 0;
  const scheduler: SchedulerConfig = {
    tokenBudget: memory.maxBatchTokens,
    maxRunningSequences: 256,
    outputReserveTokens: Math.round(traceSpec.output.median),
    maxSimulatedMs: lastArrivalMs + 3_600_000,
    ...input.scheduler,
  };
  const initialBytesPerS = input.bandwidthBytesPerS ?? hardware.hostLink.maxBytesPerS;
  const bandwidth: BandwidthSchedule = {
    initialBytesPerS,
    ...(input.bandwidthChange
      ? {
          change: {
            atMs: input.bandwidthChange.atS * 1000,
            toBytesPerS: input.bandwidthChange.toBytesPerS,
          },
        }
      : {}),
  };
  const latency = latencyModel(model, profile, { stagingSlots: memory.stagingSlots });
  const ctx: PolicyContext = { model, hardware, profile, latency, memory, slo };
  const longestRequest = traceSpec.prompt.max + traceSpec.output.max;
  const reports: PolicyReport[] = [];

  const run = (policy: ServingPolicy): { report: PolicyReport; run: PolicyRun } => {
    const result = simulatePolicy(policy, trace, slo, bandwidth, scheduler);
    return {
      run: result,
      report: {
        policy: policy.name,
        feasible: true,
        description: policy.description,
        hostMemoryBytes: policy.hostMemoryBytes,
        kvCapacityTokens: policy.kvCapacityTokens,
        settings: policy.settings,
        ...summarizeRun(result),
        intervalIterations: result.intervalIterations,
      },
    };
  };
  const attempt = (name: string, build: () => ServingPolicy): PolicyReport => {
    try {
      return run(build()).report;
    } catch (error) {
      if (error instanceof PolicyInfeasible || error instanceof PlannerError)
        return infeasible(name, error.message);
      throw error;
    }
  };

  const planned: { range: SimulationReport['selectNRange'] } = { range: null };
  reports.push(
    attempt('select-n', () => {
      planned.range = planSelectNRange(ctx, traceSpec, scheduler.tokenBudget);
      return intervalPolicy(ctx, 'select-n', planned.range, longestRequest);
    }),
  );
  const range = planned.range;
  if (range && input.includeSmallestIntervalRule) {
    reports.push(
      attempt('select-n-smallest', () => ({
        ...intervalPolicy(ctx, 'select-n-smallest', range, longestRequest, 'smallest-meeting-slo'),
        description:
          'ablation: always the smallest interval meeting the TPOT (the literal paper rule)',
      })),
    );
  }
  for (const k of input.fixedIntervals ?? DEFAULT_FIXED_INTERVALS) {
    if (!isValidInterval(k, model.numLayers) || k === 0) continue;
    reports.push(
      attempt(`fixed-n-${k}`, () =>
        intervalPolicy(ctx, `fixed-n-${k}`, { intervalMin: k, intervalMax: k }, longestRequest),
      ),
    );
  }
  reports.push(attempt('no-offload', () => noOffloadPolicy(ctx, longestRequest)));
  reports.push(
    attempt('full-streaming', () =>
      streamingPolicy(
        ctx,
        'full-streaming',
        'every layer streamed through 2 staging buffers with prefetch (DeepSpeed ZeRO-Inference)',
        1,
        longestRequest,
      ),
    ),
  );
  const meanSequence =
    trace.reduce((s, r) => s + r.promptTokens + r.outputTokens, 0) / Math.max(1, trace.length);
  const placement = throughputOptimalFraction(ctx, meanSequence, initialBytesPerS);
  reports.push(
    placement
      ? attempt('static-placement', () =>
          streamingPolicy(
            ctx,
            'static-placement',
            `${Math.round(placement.fraction * 100)}% of every layer in host memory, chosen for throughput at batch ${placement.batch} without the SLO (FlexGen)`,
            placement.fraction,
            longestRequest,
          ),
        )
      : infeasible('static-placement', 'no weight split leaves room for one request'),
  );
  const kFit = layersToFit(ctx, longestRequest);
  if (kFit === null) {
    reports.push(infeasible('zero-copy', 'no offload amount leaves room for one request'));
  } else {
    // cpu-offload-gb tuned on this trace (generous): the minimum that fits and a few larger amounts.
    const tried = [...new Set([kFit, kFit + 1, kFit + 2, kFit + 4, kFit + 8])].filter(
      (k) => k <= model.numLayers,
    );
    const layerBytes = decoderLayerBytes(model);
    const runs = tried.map((k) => run(zeroCopyPolicy(ctx, k * layerBytes, longestRequest)).report);
    const best = runs.reduce((a, b) =>
      (b.throughputTokensPerS ?? 0) > (a.throughputTokensPerS ?? 0) ? b : a,
    );
    best.settings = { ...best.settings, triedOffloadedLayers: tried.join(' ') };
    reports.push(best);
  }
  return {
    model: model.name,
    hardware: hardware.name,
    profileSource: profile.source,
    slo,
    trace: traceSpec,
    bandwidth: { initialBytesPerS, change: input.bandwidthChange ?? null },
    scheduler,
    selectNRange: planned.range,
    definitions: METRIC_DEFINITIONS,
    policies: reports,
  };
}
