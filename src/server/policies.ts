// The interval policies the scheduler plugs in, all over the planner's one latency model (so the
// server, the simulator and the operator never disagree): `select-n` (online choice of N inside
// the plan's range), `fixed-n-K`, `no-offload` and `full-streaming` (the simulator's names).
// Admission is SLO-aware for every policy, at the intervals that policy may use: a request joins
// the running batch only when some allowed N keeps the iteration within the TPOT target (so the
// running requests keep their TPOT, and those still prefilling their TTFT) with KV room for it.
import { intervalChooser, type IntervalChooser, type LatencyModel } from '../planner/index.ts';
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
}

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
    chooseInterval(shape: BatchShape, status: RuntimeStatus): IntervalChoice {
      // The least offloading that holds the KV cache in use and meets the target (the
      // simulator's Select-N rule): memory is freed only when admission decided it pays.
      const choice = chooser.chooseHolding(
        shape,
        bandwidthOf(status),
        slo.tpotMs,
        kvTokensInUse(status),
      );
      return { interval: choice.interval, predictedMs: choice.predictedMs };
    },
    admit(query: AdmissionQuery, status: RuntimeStatus): AdmissionDecision {
      const chunk = Math.min(query.candidateTokens, query.chunkTokens);
      const shape: BatchShape = {
        sequences: query.running.sequences + 1,
        newTokens: query.running.newTokens + chunk,
        contextTokens: query.running.contextTokens + chunk,
      };
      const inUse = kvTokensInUse(status);
      const needed = inUse + query.candidateTokens + 1;
      const decision = chooser.admitOffloading(
        shape,
        needed,
        query.running,
        inUse,
        bandwidthOf(status),
        slo.tpotMs,
      );
      if (!decision.admit) {
        return {
          admit: false,
          predictedTtftMs: Infinity,
          predictedTpotMs: Infinity,
          reason: `${decision.reason}: ${decision.detail}`,
        };
      }
      // The candidate's own TTFT is reported, not enforced: holding it back would not help it.
      const iterations = Math.ceil(query.candidateTokens / Math.max(1, query.chunkTokens));
      const ttft = query.waitedMs + iterations * decision.predictedMs;
      return { admit: true, predictedTtftMs: ttft, predictedTpotMs: decision.predictedMs };
    },
  };
}
