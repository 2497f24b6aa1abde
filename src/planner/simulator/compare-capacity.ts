// Capacity at the SLO of Select-N and every baseline on one scenario (model, GPU, SLO, length
// mix). Each baseline runs in its real system's form (admission by free KV blocks) and with
// Select-N's SLO-aware admission, so that scheduling gains and offloading gains are told apart;
// the tunable ones are tuned on the same traces, for throughput (their real form) and for
// capacity under the SLO.
import type { HardwareDescription } from '../hardware.ts';
import type { ModelDescription } from '../model.ts';
import { decoderLayerBytes, nonLayerBytes } from '../model.ts';
import type { LayerProfile } from '../profile.ts';
import { latencyModel } from '../latency-model.ts';
import { amountChooser } from '../online.ts';
import { gpuMemoryFor, resolveMemoryOptions, type MemoryOptions } from '../memory.ts';
import type { SloTargets } from '../offline-range.ts';
import { PlannerError } from '../errors.ts';
import type { BandwidthSchedule, SchedulerConfig } from './engine.ts';
import {
  fineSelectNPolicy,
  intervalPolicy,
  noOffloadPolicy,
  PolicyInfeasible,
  streamingPolicy,
  zeroCopyPolicy,
  type PolicyContext,
  type ServingPolicy,
} from './policies.ts';
import { withKvAdmission, withSloAdmission } from './admission-variants.ts';
import { throughputOptimalFraction } from './baseline-tuning.ts';
import { searchCapacity, type CapacityAtTarget, type RateEvaluation } from './capacity.ts';
import { planSelectNRange } from './compare.ts';
import { SLO_DEFINITION } from './slo.ts';
import { DEFAULT_OUTPUT, DEFAULT_PROMPT, type LengthDistribution } from './trace.ts';

export interface CapacityInput {
  model: ModelDescription;
  hardware: HardwareDescription;
  profile: LayerProfile;
  slo: SloTargets;
  prompt?: LengthDistribution;
  output?: LengthDistribution;
  /** At least 3 seeds. */
  seeds: number[];
  /** Requests per seed. */
  requests: number;
  tokenBudget?: number;
  memory?: MemoryOptions;
  bandwidthBytesPerS?: number;
  /** Bisection stops when the failing rate is within this factor of the passing one. */
  relativeTolerance?: number;
}

export type AdmissionKind = 'slo' | 'kv';

export interface CapacityPolicyReport {
  policy: string;
  /** The mechanism, without the admission suffix. */
  mechanism: string;
  admission: AdmissionKind;
  feasible: boolean;
  infeasibleReason?: string;
  description?: string;
  /** Highest rate with >= 99% of requests meeting the SLO, requests/s. */
  capacityRps: number;
  /** Highest rate with >= 90% meeting it. */
  capacity90Rps: number;
  /** Output tokens/s of requests meeting the SLO at capacityRps. */
  throughputTokensPerS: number;
  /** Attainment at capacityRps. */
  sloAttainment: number;
  /** Requests refused at admission at capacityRps (counted as misses too). */
  refused: number;
  atSearchLimit: boolean;
  hostMemoryBytes: number;
  kvCapacityTokens: number;
  settings?: Record<string, string | number>;
  evaluations?: RateEvaluation[];
}

export interface CapacityReport {
  model: string;
  gpu: string;
  slo: SloTargets;
  prompt: LengthDistribution;
  output: LengthDistribution;
  seeds: number[];
  requestsPerSeed: number;
  selectNRange: { intervalMin: number; intervalMax: number } | null;
  definitions: Record<string, string>;
  policies: CapacityPolicyReport[];
}

export const CAPACITY_DEFINITIONS = {
  slo: SLO_DEFINITION,
  capacityRps:
    'highest Poisson arrival rate at which >= 99% of all requests (pooled over the seeds) meet the SLO, found by doubling then bisection on the rate',
  capacity90Rps: 'the same at >= 90%',
  throughputTokensPerS:
    'output tokens per second of requests meeting the SLO at capacityRps (mean over seeds)',
  refused: 'requests that can never fit the KV pool, refused at admission; also counted as misses',
  admission:
    'kv: admits while free KV blocks last (the real systems); slo: Select-N admission (KV reservations and predicted mean TPOT)',
};

const SEARCH_LIMITS = { minRatePerS: 1 / 1024, maxRatePerS: 512 };
/** Granularity of select-n-fine's offload amounts, layers. */
const FINE_STEP_LAYERS = 0.25;

export function compareCapacity(input: CapacityInput): CapacityReport {
  const { model, hardware, profile, slo } = input;
  if (input.seeds.length < 1) throw new RangeError('seeds: give at least one');
  const prompt = input.prompt ?? DEFAULT_PROMPT;
  const output = input.output ?? DEFAULT_OUTPUT;
  const tokenBudget = input.tokenBudget ?? 512;
  const memory = resolveMemoryOptions({ maxBatchTokens: tokenBudget, ...input.memory });
  const bandwidthBytesPerS = input.bandwidthBytesPerS ?? hardware.hostLink.maxBytesPerS;
  const bandwidth: BandwidthSchedule = { initialBytesPerS: bandwidthBytesPerS };
  const scheduler: SchedulerConfig = {
    tokenBudget,
    maxRunningSequences: 256,
    outputReserveTokens: Math.round(output.median),
    maxSimulatedMs: Infinity,
  };
  const latency = latencyModel(model, profile, { stagingSlots: memory.stagingSlots });
  const ctx: PolicyContext = { model, hardware, profile, latency, memory, slo };
  const longest = prompt.max + output.max;
  const meanOutput = output.median;
  const search = {
    trace: { arrivals: 'poisson' as const, requests: input.requests, prompt, output },
    seeds: input.seeds,
    targets: [0.99, 0.9],
    startRatePerS: 1,
    relativeTolerance: input.relativeTolerance ?? 0.03,
    ...SEARCH_LIMITS,
  };
  // A rough start rate: the batch the KV cache holds, at the TPOT, over the output length.
  const startFor = (policy: ServingPolicy): number => {
    const batch = Math.max(1, Math.floor(policy.kvCapacityTokens / (prompt.median + meanOutput)));
    return Math.max(SEARCH_LIMITS.minRatePerS, (0.5 * batch * 1000) / (slo.tpotMs * meanOutput));
  };

  const measure = (
    mechanism: string,
    admission: AdmissionKind,
    policy: ServingPolicy,
  ): CapacityPolicyReport => {
    const { results, evaluations } = searchCapacity(policy, slo, bandwidth, scheduler, {
      ...search,
      startRatePerS: startFor(policy),
    });
    const [at99, at90] = results as [CapacityAtTarget, CapacityAtTarget];
    return {
      policy: policy.name,
      mechanism,
      admission,
      feasible: true,
      description: policy.description,
      capacityRps: at99.capacityRps,
      capacity90Rps: at90.capacityRps,
      throughputTokensPerS: at99.throughputTokensPerS,
      sloAttainment: at99.sloAttainment,
      refused: at99.refused,
      atSearchLimit: at99.atSearchLimit,
      hostMemoryBytes: policy.hostMemoryBytes,
      kvCapacityTokens: policy.kvCapacityTokens,
      settings: policy.settings,
      evaluations,
    };
  };
  const infeasible = (
    mechanism: string,
    admission: AdmissionKind,
    reason: string,
  ): CapacityPolicyReport => ({
    policy: `${mechanism}+${admission}-admission`,
    mechanism,
    admission,
    feasible: false,
    infeasibleReason: reason,
    capacityRps: 0,
    capacity90Rps: 0,
    throughputTokensPerS: 0,
    sloAttainment: 0,
    refused: 0,
    atSearchLimit: false,
    hostMemoryBytes: 0,
    kvCapacityTokens: 0,
  });
  /** The mechanism's policy with each admission; null when it cannot run. */
  const variants = (
    mechanism: string,
    build: () => ServingPolicy,
  ): Record<AdmissionKind, ServingPolicy> | string => {
    let base: ServingPolicy;
    try {
      base = { ...build(), name: mechanism };
    } catch (error) {
      if (error instanceof PolicyInfeasible || error instanceof PlannerError) return error.message;
      throw error;
    }
    return {
      slo: base.sloAwareAdmission
        ? { ...base, name: `${mechanism}+slo-admission` }
        : withSloAdmission(base, slo),
      kv: withKvAdmission(base),
    };
  };
  /**
   * The best of several settings of one mechanism, per admission. Settings come most offloading
   * first; each is rated by a coarse search of its capacity at 99%, and the sweep stops once two
   * in a row rate below the best (capacity rises with the KV a setting frees and falls with the
   * copies it adds). The best one is then measured in full.
   */
  const tuned = (
    mechanism: string,
    settings: readonly { label: string; build: () => ServingPolicy }[],
    note: string,
  ): CapacityPolicyReport[] => {
    const tried = settings.map((x) => x.label).join(' ');
    return (['slo', 'kv'] as const).map((admission) => {
      let best: { policy: ServingPolicy; capacity: number; label: string } | null = null;
      let worseInARow = 0;
      const rated: string[] = [];
      for (const setting of settings) {
        const built = variants(mechanism, setting.build);
        if (typeof built === 'string') continue;
        const policy = built[admission];
        const { results } = searchCapacity(policy, slo, bandwidth, scheduler, {
          ...search,
          targets: [0.99],
          relativeTolerance: 0.1,
          startRatePerS: startFor(policy),
        });
        const capacity = results[0]?.capacityRps ?? 0;
        rated.push(`${setting.label}:${capacity.toFixed(3)}`);
        if (best === null || capacity > best.capacity) {
          best = { policy, capacity, label: setting.label };
          worseInARow = 0;
        } else if (++worseInARow >= 2) {
          break;
        }
      }
      if (best === null) return infeasible(mechanism, admission, `no setting fits (${tried})`);
      const report = measure(mechanism, admission, best.policy);
      return {
        ...report,
        settings: { ...report.settings, tuning: note, rated: rated.join(' ') },
      };
    });
  };

  /** Builds a mechanism and measures it with both admissions. */
  const both = (mechanism: string, build: () => ServingPolicy): CapacityPolicyReport[] => {
    const built = variants(mechanism, build);
    if (typeof built === 'string') {
      return [infeasible(mechanism, 'slo', built), infeasible(mechanism, 'kv', built)];
    }
    return [measure(mechanism, 'slo', built.slo), measure(mechanism, 'kv', built.kv)];
  };

  const reports: CapacityPolicyReport[] = [];
  const planned: { range: CapacityReport['selectNRange'] } = { range: null };
  reports.push(
    ...both('select-n', () => {
      const range = planSelectNRange(ctx, { prompt, output }, tokenBudget);
      planned.range = range;
      return intervalPolicy(ctx, 'select-n', range, longest);
    }),
  );
  reports.push(
    ...both('select-n-fine', () =>
      fineSelectNPolicy(
        ctx,
        'select-n-fine',
        largestMeetingAmount(ctx, FINE_STEP_LAYERS, bandwidthBytesPerS),
        FINE_STEP_LAYERS,
        longest,
      ),
    ),
  );
  reports.push(...both('no-offload', () => noOffloadPolicy(ctx, longest)));
  reports.push(
    ...both('zero-inference', () =>
      streamingPolicy(
        ctx,
        'zero-inference',
        'every layer streamed through 2 staging buffers with prefetch (DeepSpeed ZeRO-Inference)',
        1,
        longest,
      ),
    ),
  );
  const placement = throughputOptimalFraction(ctx, prompt.median + meanOutput, bandwidthBytesPerS);
  reports.push(
    ...(placement
      ? both('flexgen-throughput', () =>
          streamingPolicy(
            ctx,
            'flexgen-throughput',
            `${Math.round(placement.fraction * 100)}% of every layer in host memory, chosen for throughput at batch ${placement.batch} without the SLO (FlexGen's policy search)`,
            placement.fraction,
            longest,
          ),
        )
      : [
          infeasible('flexgen-throughput', 'slo', 'no weight split leaves room for one request'),
          infeasible('flexgen-throughput', 'kv', 'no weight split leaves room for one request'),
        ]),
  );
  const fractions = candidateFractions(ctx, longest, bandwidthBytesPerS);
  reports.push(
    ...tuned(
      'flexgen-slo',
      [...fractions].reverse().map((f) => ({
        label: `${Math.round(f * 100)}%`,
        build: () =>
          streamingPolicy(
            ctx,
            'flexgen-slo',
            `${Math.round(f * 100)}% of every layer in host memory, the split with the highest capacity at the SLO on these traces`,
            f,
            longest,
          ),
      })),
      'fraction on a 5% grid with the highest capacity at the SLO',
    ),
  );
  const amounts = candidateOffloadGb(ctx, longest, bandwidthBytesPerS);
  reports.push(
    ...tuned(
      'zero-copy',
      [...amounts].reverse().map((gb) => ({
        label: `${gb}GB`,
        build: () => zeroCopyPolicy(ctx, gb * 1e9, longest),
      })),
      '--cpu-offload-gb: every whole GB from the least that fits, the one with the highest capacity',
    ),
  );
  return {
    model: model.name,
    gpu: hardware.name,
    slo,
    prompt,
    output,
    seeds: input.seeds,
    requestsPerSeed: input.requests,
    selectNRange: planned.range,
    definitions: CAPACITY_DEFINITIONS,
    policies: reports,
  };
}

/** Decode time of one short request: at or above the TPOT a setting can meet no request's SLO. */
function loneDecodeMs(policy: ServingPolicy, bandwidth: number): number {
  return policy.runIteration({ sequences: 1, newTokens: 1, contextTokens: 128 }, bandwidth, 0)
    .iterationMs;
}

/** FlexGen fractions on a 5% grid that fit a request and can meet the TPOT for one. */
function candidateFractions(ctx: PolicyContext, longest: number, bandwidth: number): number[] {
  const out: number[] = [];
  for (let step = 0; step <= 20; step++) {
    const f = step / 20;
    try {
      const p = streamingPolicy(ctx, 'probe', '', f, longest);
      if (loneDecodeMs(p, bandwidth) < ctx.slo.tpotMs) out.push(f);
    } catch (error) {
      if (!(error instanceof PolicyInfeasible)) throw error;
    }
  }
  return out;
}

/** Whole GB amounts for --cpu-offload-gb: from the least that fits to the most meeting the TPOT. */
function candidateOffloadGb(ctx: PolicyContext, longest: number, bandwidth: number): number[] {
  const { model, hardware, memory } = ctx;
  const weights = nonLayerBytes(model) + model.numLayers * decoderLayerBytes(model);
  const maxGb = Math.floor((model.numLayers * decoderLayerBytes(model)) / 1e9);
  const out: number[] = [];
  for (let gb = 0; gb <= maxGb; gb++) {
    const kv = gpuMemoryFor(model, hardware, weights - gb * 1e9, 0, memory).kvCapacityTokens;
    if (kv < longest) continue;
    const p = zeroCopyPolicy(ctx, gb * 1e9, longest);
    if (loneDecodeMs(p, bandwidth) >= ctx.slo.tpotMs) break;
    out.push(gb);
  }
  return out;
}

/**
 * The most offloading (on the fine grid) whose lone decode meets the TPOT: select-n-fine's host
 * memory, found as the baselines' settings are (more offloading cannot meet any request's SLO).
 */
function largestMeetingAmount(ctx: PolicyContext, step: number, bandwidth: number): number {
  const L = ctx.model.numLayers;
  const shape = { sequences: 1, newTokens: 1, contextTokens: 128 };
  let best = 0;
  for (let k = 1; k * step <= L + 1e-9; k++) {
    const amount = Number((k * step).toFixed(6));
    const one = amountChooser(ctx.latency, [amount], () => 0);
    if (one.predictAt(0, shape, bandwidth) >= ctx.slo.tpotMs) break;
    best = amount;
  }
  return best;
}
