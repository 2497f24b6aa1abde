// Re-planning a pod from what it measured (DESIGN.md section 2, slow loop): the pod's telemetry
// carries the planner's inputs as the pod planned with them at start-up (model, measured layer
// profile, device, workload, options); the operator plans again with the same planner and its own
// SLO, bounds, bandwidth and host-memory ceiling. Works for any model, in the catalog or not.
// Pure: no I/O.
import type { PlanningInputs } from '../api/index.ts';
import {
  NO_OFFLOAD,
  PlannerError,
  decoderLayerBytes,
  formatInterval,
  hostMemoryAtInterval,
  intervalOrder,
  measuredProfile,
  offloadedLayerCount,
  planIntervalRange,
  smallestIntervalForCount,
  validateHardwareDescription,
  validateModelDescription,
  validateProfileFile,
} from '../planner/index.ts';

export interface ReplanInput {
  planning: PlanningInputs;
  slo: { ttftMs: number; tpotMs: number };
  /** spec.offload.interval, if set. */
  bounds: { min: number; max: number } | undefined;
  /** Most pinned host memory the pod may hold now; Infinity: no ceiling. */
  hostCeilingBytes: number;
  /** Copy bandwidth to plan for; default: the range the pod measured at start-up. */
  bandwidthBytesPerS?: { min: number; max: number };
}

export interface MeasuredPlan {
  /** Smallest N; null: nothing offloaded. */
  intervalMin: number | null;
  /** Largest N; null: up to nothing offloaded. */
  intervalMax: number | null;
  offloadedLayers: number;
  /** Pinned host bytes of the N_min set. */
  hostMemoryBytes: number;
  /** Why, in one line (model, bandwidth, what held the range). */
  detail: string;
}

export const REPLAN_FAILURES = {
  /** The planning inputs fail the planner's schemas. */
  InvalidInputs: 'InvalidInputs',
  /** No interval meets the SLO (or the bounds, or the host-memory ceiling). */
  Infeasible: 'Infeasible',
} as const;
export type ReplanFailure = (typeof REPLAN_FAILURES)[keyof typeof REPLAN_FAILURES];

export class ReplanError extends Error {
  readonly failure: ReplanFailure;
  constructor(failure: ReplanFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReplanError';
    this.failure = failure;
  }
}

const toWire = (n: number): number | null => (n === NO_OFFLOAD ? null : n);

export function planFromMeasurement(input: ReplanInput): MeasuredPlan {
  let model, hardware, layerProfile;
  try {
    model = validateModelDescription(input.planning.model, 'planning.model');
    hardware = validateHardwareDescription(input.planning.hardware, 'planning.hardware');
    const file = validateProfileFile(input.planning.profile);
    layerProfile = measuredProfile(file, model);
  } catch (error) {
    if (!(error instanceof PlannerError)) throw error;
    throw new ReplanError(REPLAN_FAILURES.InvalidInputs, error.message, { cause: error });
  }
  const bandwidth = input.bandwidthBytesPerS ?? {
    min: hardware.hostLink.minBytesPerS,
    max: hardware.hostLink.maxBytesPerS,
  };
  let plan;
  try {
    plan = planIntervalRange({
      model,
      hardware,
      profile: layerProfile,
      slo: input.slo,
      workload: input.planning.workload,
      options: { ...input.planning.options, bandwidthBytesPerS: bandwidth },
    });
  } catch (error) {
    if (!(error instanceof PlannerError)) throw error;
    throw new ReplanError(REPLAN_FAILURES.Infeasible, error.message, { cause: error });
  }
  let min = plan.intervalMin;
  let max = plan.intervalMax;
  const held: string[] = [];
  if (input.bounds) {
    if (intervalOrder(min) < input.bounds.min) min = input.bounds.min;
    if (intervalOrder(max) > input.bounds.max) max = input.bounds.max;
    if (intervalOrder(min) > intervalOrder(max)) {
      throw new ReplanError(
        REPLAN_FAILURES.Infeasible,
        `the measured range [${formatInterval(plan.intervalMin)}, ${formatInterval(plan.intervalMax)}] does not meet spec.offload.interval [${input.bounds.min}, ${input.bounds.max}]`,
      );
    }
  }
  const L = model.numLayers;
  const layerBytes = decoderLayerBytes(model);
  if (hostMemoryAtInterval(model, min) > input.hostCeilingBytes) {
    const fits = Math.floor(input.hostCeilingBytes / layerBytes);
    const lowest = smallestIntervalForCount(Math.min(fits, L), L);
    if (intervalOrder(lowest) > intervalOrder(max)) {
      throw new ReplanError(
        REPLAN_FAILURES.Infeasible,
        `the pod's host memory (${input.hostCeilingBytes} bytes) holds ${fits} layers, fewer than interval ${formatInterval(max)} offloads`,
      );
    }
    held.push(
      `interval.min held at ${formatInterval(lowest)} (planner: ${formatInterval(min)}) by the pod's ${input.hostCeilingBytes} bytes of host memory`,
    );
    min = lowest;
  }
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB/s`;
  const detail = [
    `${model.name}: measured profile, bandwidth ${mb(bandwidth.min)}-${mb(bandwidth.max)}, SLO ${input.slo.ttftMs}/${input.slo.tpotMs} ms`,
    `range [${formatInterval(min)}, ${formatInterval(max)}]`,
    ...held,
  ].join('; ');
  return {
    intervalMin: toWire(min),
    intervalMax: toWire(max),
    offloadedLayers: offloadedLayerCount(min, L),
    hostMemoryBytes: hostMemoryAtInterval(model, min),
    detail,
  };
}
