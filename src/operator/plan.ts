// The initial plan of a SelectNDeployment: interval range and host memory per pod, from the
// planner when it knows the model and the GPU, else from spec.offload alone ("fallback": the
// server then derives its own range at start-up within the bounds and the pod's memory).
import {
  formatBytes,
  quantityToBytes,
  type PlanStatus,
  type PlanWire,
  type SelectNDeploymentSpec,
  DEGRADED_REASONS,
  WIRE_SCHEMA_VERSION,
} from '../api/index.ts';
import { InvalidSpecError } from './errors.ts';

export interface RangeRequest {
  model: string;
  hardware: string;
  slo: { ttftMs: number; tpotMs: number };
  maxBatchSize: number;
  maxModelLen: number | undefined;
  pattern: 'nested' | 'strided';
  bounds: { min: number; max: number } | undefined;
  /** spec.model.dtype: the width the weights are stored at (auto: the checkpoint's). */
  dtype?: WeightDtypeRequest;
}

/** spec.model.dtype. */
export type WeightDtypeRequest = 'auto' | 'float32' | 'float16' | 'bfloat16';

export interface RangeAnswer {
  /** Smallest N; null: nothing offloaded (N = infinity). */
  intervalMin: number | null;
  /** Largest N; null: up to nothing offloaded. */
  intervalMax: number | null;
  offloadedLayers: number;
  hostMemoryBytes: number;
  detail: string;
}

/**
 * What the operator needs from src/planner. `knowsModel`/`knowsHardware` say whether the
 * catalogs have an entry; `range` computes the offline range and throws when no interval meets
 * the SLO (PlanInfeasible); `hostMemoryAt` sizes the host pool for one interval.
 */
export interface PlannerPort {
  knowsModel(name: string): boolean;
  knowsHardware(name: string): boolean;
  range(request: RangeRequest): RangeAnswer;
  hostMemoryAt(
    model: string,
    interval: number,
    pattern: 'nested' | 'strided',
    dtype?: WeightDtypeRequest,
  ): { bytes: number; layers: number };
}

/** Computes the plan for `spec` at `generation`; throws InvalidSpecError when it cannot. */
export function computePlan(
  spec: SelectNDeploymentSpec,
  generation: number,
  planner: PlannerPort | undefined,
  now: Date,
): PlanStatus {
  const baseline = quantityToBytes(spec.resources.memory);
  const extra =
    spec.server.device === 'cpu' && spec.server.deviceMemory !== undefined
      ? quantityToBytes(spec.server.deviceMemory)
      : 0;
  const limit =
    spec.offload.hostMemoryLimit === undefined
      ? undefined
      : quantityToBytes(spec.offload.hostMemoryLimit);
  const modelName = spec.model.catalogName ?? spec.model.name;
  const hardwareName = spec.resources.gpu.product;
  const make = (
    intervalMin: number | null,
    intervalMax: number | null,
    layers: number,
    host: number,
    basis: PlanStatus['basis'],
    detail: string,
  ): PlanStatus => ({
    intervalMin,
    intervalMax,
    offloadedLayersMax: layers,
    hostMemoryBytes: host,
    hostMemory: formatBytes(host),
    podMemoryBytes: baseline + extra + host,
    basis,
    detail,
    computedAt: now.toISOString(),
    specGeneration: generation,
  });

  if (
    spec.model.catalogName !== undefined &&
    planner &&
    !planner.knowsModel(spec.model.catalogName)
  ) {
    throw new InvalidSpecError(
      'spec.model.catalogName',
      `"${spec.model.catalogName}" is not in the planner's model catalog`,
    );
  }
  if (spec.offload.mode === 'disabled')
    return make(null, null, 0, 0, 'disabled', 'offloading disabled in spec.offload.mode');

  const known = planner !== undefined && planner.knowsModel(modelName);
  if (spec.offload.mode === 'fixed') {
    const n = spec.offload.interval?.min;
    if (n === undefined)
      throw new InvalidSpecError(
        'spec.offload.interval',
        'mode fixed needs an interval',
        DEGRADED_REASONS.PlanInfeasible,
      );
    if (known) {
      const host = planner.hostMemoryAt(
        modelName,
        n,
        spec.offload.layerSelection,
        spec.model.dtype,
      );
      checkLimit(host.bytes, limit, n);
      return make(
        n,
        n,
        host.layers,
        host.bytes,
        'fixed',
        `fixed interval ${n}: ${host.layers} layers of ${modelName} in host memory`,
      );
    }
    const host = limit ?? 0;
    return make(
      n,
      n,
      0,
      host,
      'fixed',
      `fixed interval ${n}; ${modelName} is not in the planner catalog, host memory from spec.offload.hostMemoryLimit`,
    );
  }

  if (known && hardwareName !== undefined && planner.knowsHardware(hardwareName)) {
    const answer = planner.range({
      model: modelName,
      hardware: hardwareName,
      slo: { ttftMs: spec.slo.ttftMs, tpotMs: spec.slo.tpotMs },
      maxBatchSize: spec.server.maxBatchSize,
      maxModelLen: spec.server.maxModelLen,
      pattern: spec.offload.layerSelection,
      bounds: spec.offload.interval,
      dtype: spec.model.dtype,
    });
    checkLimit(answer.hostMemoryBytes, limit, answer.intervalMin ?? 0);
    return make(
      answer.intervalMin,
      answer.intervalMax,
      answer.offloadedLayers,
      answer.hostMemoryBytes,
      'planner',
      answer.detail,
    );
  }
  const why = !known
    ? `model ${modelName} is not in the planner catalog`
    : hardwareName === undefined
      ? 'spec.resources.gpu.product is not set'
      : `GPU ${hardwareName} is not in the planner catalog`;
  const bounds = spec.offload.interval;
  return make(
    bounds?.min ?? null,
    bounds?.max ?? null,
    0,
    limit ?? 0,
    'fallback',
    `${why}; the server derives its range at start-up${bounds ? ` within [${bounds.min}, ${bounds.max}]` : ''}${limit !== undefined ? ` and host memory up to ${formatBytes(limit)}` : ''}`,
  );
}

function checkLimit(bytes: number, limit: number | undefined, interval: number): void {
  if (limit !== undefined && bytes > limit) {
    throw new InvalidSpecError(
      'spec.offload.hostMemoryLimit',
      `interval ${interval} needs ${formatBytes(bytes)} of host memory, more than the limit ${formatBytes(limit)}`,
      DEGRADED_REASONS.PlanInfeasible,
    );
  }
}

/** The plan as pushed to pods (generation 0 = the plan they start with). */
export function planToWire(
  plan: PlanStatus,
  spec: SelectNDeploymentSpec,
  generation = 0,
): PlanWire {
  return {
    schemaVersion: WIRE_SCHEMA_VERSION,
    generation,
    interval: { min: plan.intervalMin, max: plan.intervalMin === null ? null : plan.intervalMax },
    hostMemoryBytes: plan.hostMemoryBytes,
    bandwidthBudgetBytesPerSecond:
      spec.server.copyBandwidth === undefined ? null : quantityToBytes(spec.server.copyBandwidth),
    layerSelection: spec.offload.layerSelection,
    basis: `${plan.basis}: ${plan.detail}`.slice(0, 4096),
    issuedAt: plan.computedAt,
  };
}

/** "2-8", "2-inf", "4", "off" or "auto" for the printer column. */
export function intervalDisplay(plan: PlanStatus | undefined): string {
  if (!plan) return '-';
  if (plan.basis === 'disabled') return 'off';
  if (plan.intervalMin === null) return 'auto';
  if (plan.intervalMax === plan.intervalMin) return String(plan.intervalMin);
  return `${plan.intervalMin}-${plan.intervalMax ?? 'inf'}`;
}
