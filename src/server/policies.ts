// The interval policies the scheduler plugs in, all over the planner's one latency model (so the
// server, the simulator and the operator never disagree): `select-n` (online choice of N inside
// the plan's range), `fixed-n-K`, `no-offload` and `full-streaming` (the simulator's names).
// Admission is SLO-aware for every policy, at the intervals that policy may use (the planner's
// admitWithGrowth): a request joins the running batch only when some allowed N holds every
// running request's KV reservation (prompt + expected output) plus its own, keeps the
// batch's predicted mean TPOT (decode iterations plus their share of prefill chunks) within target,
// pushes no running prefill past its TTFT, and, when it needs deeper offloading, raises decode
// throughput. Each iteration runs at the least offloading that holds the reservations and meets
// the TPOT; kvBudgetTokens() tells the scheduler when to preempt instead of offloading past it.
import {
  admitWithGrowth,
  intervalChooser,
  lifeShapes,
  prefillShare,
  type IntervalChooser,
  type LatencyModel,
} from '../planner/index.ts';
import type { RuntimeStatus } from './engine-port.ts';
import type {
  AdmissionDecision,
  AdmissionQuery,
  BatchShape,
  IntervalChoice,
  SchedulingPolicy,
} from './scheduler/policy.ts';

export interface PolicyDeps {
  latency: LatencyModel;
  /** KV capacity in tokens when interval N is in force. */
  kvCapacityAt: (interval: number) => number;
  slo: { ttftMs: number; tpotMs: number };
  /** Tokens per KV block, to turn block counts into tokens. */
  blockSize: number;
  /** Bandwidth to assume before any copy was measured (bytes/s). */
  fallbackBandwidthBytesPerS: number;
}

export interface ServingPolicy extends SchedulingPolicy {
  /** The plan's range [min, max] (0 = nothing offloaded); fixed policies keep their N. */
  setRange(min: number, max: number): void;
  /** Intervals this policy may choose, most offloading first. */
  readonly candidates: readonly number[];
  setSlo(slo: { ttftMs: number; tpotMs: number }): void;
  /**
   * One iteration's predicted (by this policy, at its interval) and measured time. Their ratio,
   * smoothed, scales every later prediction: the compute speed measured now (DESIGN.md section 1),
   * so that a device slower than its start-up profile (shared, throttled) admits less.
   */
  observeIteration(predictedMs: number, elapsedMs: number): void;
  /** The current measured-over-predicted time scale (1: the profile holds). */
  readonly timeScale: number;
}

/** Weight of the newest iteration in the time scale's moving average. */
const TIME_SCALE_ALPHA = 0.1;
/** Bounds of one iteration's measured/predicted ratio (guards against a stray sample). */
const RATIO_MIN = 0.25;
const RATIO_MAX = 8;

/** Parses a policy name into the fixed range it implies (undefined for select-n). */
export function fixedIntervalOf(name: string, numLayers: number): number | undefined {
  if (name === 'select-n') return undefined;
  if (name === 'no-offload') return 0;
  if (name === 'full-streaming') return 1;
  const match = /^fixed-n-(\d+)$/.exec(name);
  if (match) {
    const n = Number(match[1]);
    if (n < 1) throw new RangeError(`${name}: N must be at least 1`);
    return n > numLayers ? numLayers : n;
  }
  throw new RangeError(`unknown policy ${name}`);
}

export function createPolicy(
  name: string,
  deps: PolicyDeps,
  range: { min: number; max: number },
): ServingPolicy {
  const fixed = fixedIntervalOf(name, deps.latency.model.numLayers);
  let chooser: IntervalChooser = build(fixed === undefined ? range : { min: fixed, max: fixed });
  let slo = deps.slo;
  let timeScale = 1;
  /** The TPOT target in predicted (profile) time. */
  const tpotTarget = (): number => slo.tpotMs / timeScale;

  function build(r: { min: number; max: number }): IntervalChooser {
    return intervalChooser(
      deps.latency,
      { intervalMin: r.min, intervalMax: r.max },
      deps.kvCapacityAt,
    );
  }

  const bandwidthOf = (status: RuntimeStatus): number => {
    const measured = status.copyBandwidthP10BytesPerS;
    const budget = status.bandwidthBudgetBytesPerS;
    let bw = measured > 0 ? measured : deps.fallbackBandwidthBytesPerS;
    if (Number.isFinite(budget) && budget > 0) bw = Math.min(bw, budget);
    return bw;
  };

  const kvTokensInUse = (status: RuntimeStatus): number =>
    (status.kvBlocksTotal - status.kvBlocksFree) * deps.blockSize;

  return {
    name,
    get candidates() {
      return chooser.candidates;
    },
    setRange(min, max) {
      if (fixed !== undefined) return;
      chooser = build({ min, max });
    },
    setSlo(next) {
      slo = next;
    },
    get timeScale() {
      return timeScale;
    },
    observeIteration(predictedMs, elapsedMs) {
      if (!(predictedMs > 0 && elapsedMs > 0)) return;
      const ratio = Math.min(RATIO_MAX, Math.max(RATIO_MIN, elapsedMs / predictedMs));
      timeScale += TIME_SCALE_ALPHA * (ratio - timeScale);
    },
    chooseInterval(
      shape: BatchShape,
      status: RuntimeStatus,
      reservedTokens: number,
    ): IntervalChoice {
      // The least offloading that holds the running requests' reservations (and the KV in use)
      // and meets the target: memory is freed only when admission decided it pays.
      const choice = chooser.chooseHolding(
        shape,
        bandwidthOf(status),
        tpotTarget(),
        Math.max(reservedTokens, kvTokensInUse(status)),
      );
      return { interval: choice.interval, predictedMs: choice.predictedMs };
    },
    kvBudgetTokens(shape: BatchShape, status: RuntimeStatus): number {
      return chooser.kvBudgetTokens(shape, bandwidthOf(status), tpotTarget());
    },
    admit(query: AdmissionQuery, status: RuntimeStatus): AdmissionDecision {
      const chunk = Math.min(query.candidateTokens, query.chunkTokens);
      const n = query.runningSequences;
      const reservedWith = query.reservedTokens + query.candidateReservedTokens;
      const life = lifeShapes(
        n + 1,
        reservedWith,
        query.maxChunkTokens,
        prefillShare(query.promptTokensPerIteration, query.maxChunkTokens),
      );
      const decision = admitWithGrowth(chooser, {
        decodeWith: life.decode,
        prefillWith: life.prefill,
        prefillShare: life.prefillShare,
        decodeWithout: { sequences: n, newTokens: n, contextTokens: query.reservedTokens },
        chunkWith: {
          sequences: query.running.sequences + 1,
          newTokens: query.running.newTokens + chunk,
          contextTokens: query.running.contextTokens + chunk,
        },
        chunkWithout: query.running,
        reservedWithout: query.reservedTokens,
        reservedWith,
        candidatePrefillIterations: Math.ceil(
          query.candidateTokens / Math.max(1, query.chunkTokens),
        ),
        candidateWaitedMs: query.waitedMs,
        prefilling: query.prefilling.map((p) => ({
          iterationsLeft: p.iterationsLeft,
          msLeft: slo.ttftMs - p.waitedMs,
        })),
        bandwidthBytesPerS: bandwidthOf(status),
        slo,
        timeScale,
      });
      if (!decision.admit) {
        return {
          admit: false,
          predictedTtftMs: decision.predictedTtftMs,
          predictedTpotMs: decision.predictedTpotMs,
          reason: `${decision.reason}: ${decision.detail}`,
        };
      }
      return {
        admit: true,
        predictedTtftMs: decision.predictedTtftMs,
        predictedTpotMs: decision.predictedTpotMs,
        ttftMet: query.resumed || decision.ttftMet,
      };
    },
  };
}
