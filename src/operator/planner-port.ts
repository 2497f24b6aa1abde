// The operator's view of src/planner: the built-in model and GPU catalogs, the offline interval
// range from an analytic (roofline) profile, and host-memory sizing. Pods profile the real
// hardware at start-up and refine the range within these bounds. Sizes use the width the pod's
// engine stores the weights at (spec.model.dtype; auto: the catalog checkpoint's), through the
// planner's decoderLayerBytes, the figure the engine's layer blobs have.
import {
  NO_OFFLOAD,
  PlannerError,
  analyticProfile,
  builtinHardware,
  builtinHardwareNames,
  builtinModel,
  builtinModelNames,
  hostMemoryAtInterval,
  intervalOrder,
  offloadedLayerCount,
  planIntervalRange,
} from '../planner/index.ts';
import { DEGRADED_REASONS } from '../api/index.ts';
import { InvalidSpecError } from './errors.ts';
import type { ModelDescription } from '../planner/index.ts';
import type { PlannerPort, RangeAnswer, RangeRequest, WeightDtypeRequest } from './plan.ts';

const toNull = (n: number): number | null => (n === NO_OFFLOAD ? null : n);

const DTYPE_BYTES = { float32: 4, float16: 2, bfloat16: 2 } as const;

/** The catalog model with the weight width the engine will store (auto: the checkpoint's). */
function catalogModel(name: string, dtype: WeightDtypeRequest = 'auto'): ModelDescription {
  const model = builtinModel(name);
  return dtype === 'auto' ? model : { ...model, dtypeBytes: DTYPE_BYTES[dtype] };
}

/** Answers kept per distinct request: many resources share model, GPU and SLO. */
const CACHE_SIZE = 256;

export function plannerPort(): PlannerPort {
  const models = new Set(builtinModelNames());
  const gpus = new Set(builtinHardwareNames());
  const cache = new Map<string, RangeAnswer | InvalidSpecError>();
  const port: PlannerPort = {
    knowsModel: (name) => models.has(name),
    knowsHardware: (name) => gpus.has(name),
    hostMemoryAt: (name, interval, _pattern, dtype) => {
      const model = catalogModel(name, dtype);
      return {
        bytes: hostMemoryAtInterval(model, interval),
        layers: offloadedLayerCount(interval, model.numLayers),
      };
    },
    range: (request: RangeRequest): RangeAnswer => {
      const key = JSON.stringify(request);
      let answer = cache.get(key);
      if (answer === undefined) {
        try {
          answer = computeRange(request);
        } catch (error) {
          if (!(error instanceof InvalidSpecError)) throw error;
          answer = error;
        }
        if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
        cache.set(key, answer);
      }
      if (answer instanceof InvalidSpecError) throw answer;
      return answer;
    },
  };
  return port;
}

function computeRange(request: RangeRequest): RangeAnswer {
  const model = catalogModel(request.model, request.dtype);
  const hardware = builtinHardware(request.hardware);
  const context = Math.min(
    request.maxModelLen ?? model.maxPositionEmbeddings,
    model.maxPositionEmbeddings,
  );
  let plan;
  try {
    plan = planIntervalRange({
      model,
      hardware,
      profile: analyticProfile(model, hardware),
      slo: request.slo,
      workload: {
        batchSizes: [...new Set([1, request.maxBatchSize])],
        contextLengths: [context],
      },
      options: { pattern: request.pattern === 'strided' ? 'every-nth' : 'nested' },
    });
  } catch (error) {
    if (error instanceof PlannerError) {
      throw new InvalidSpecError('spec.slo', error.message, DEGRADED_REASONS.PlanInfeasible);
    }
    throw error;
  }
  let min = plan.intervalMin;
  let max = plan.intervalMax;
  if (request.bounds) {
    if (intervalOrder(min) < request.bounds.min) min = request.bounds.min;
    if (intervalOrder(max) > request.bounds.max) max = request.bounds.max;
    if (intervalOrder(min) > intervalOrder(max)) {
      throw new InvalidSpecError(
        'spec.offload.interval',
        `the planner's range [${plan.intervalMin}, ${plan.intervalMax === NO_OFFLOAD ? 'inf' : plan.intervalMax}] does not meet the bounds [${request.bounds.min}, ${request.bounds.max}]`,
        DEGRADED_REASONS.PlanInfeasible,
      );
    }
  }
  return {
    intervalMin: toNull(min),
    intervalMax: toNull(max),
    offloadedLayers: offloadedLayerCount(min, model.numLayers),
    hostMemoryBytes: hostMemoryAtInterval(model, min),
    detail: `${model.name} on ${hardware.name}: ${plan.explanation.join(' ')}`.slice(0, 4000),
  };
}
