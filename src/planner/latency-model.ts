// Binds a model, a layer profile and an offload family into one predictor: the single latency
// model that the planner, the online chooser, admission and the simulator all use.
import type { BatchShape, LayerProfile } from './profile.ts';
import { decoderLayerBytes, type ModelDescription } from './model.ts';
import { offloadFamily, type OffloadFamily, type OffloadPattern } from './offload-sets.ts';
import {
  predictIteration,
  predictIterationDetail,
  type TimelineDetail,
  type TimelineResult,
} from './timeline.ts';

export interface LatencyModel {
  readonly model: ModelDescription;
  readonly profile: LayerProfile;
  readonly family: OffloadFamily;
  readonly stagingSlots: number;
  readonly layerBytes: number;
  /** Predicted iteration for interval N, batch shape and copy bandwidth (bytes/s). */
  predict(interval: number, shape: BatchShape, bandwidthBytesPerS: number): TimelineResult;
  /** The same with per-layer start, end and copy windows. */
  predictDetail(interval: number, shape: BatchShape, bandwidthBytesPerS: number): TimelineDetail;
  /** Fills the profile's layer times for a shape once, for repeated predictions on it. */
  prepare(shape: BatchShape): PreparedShape;
}

/** Layer times of one batch shape, reused across intervals (the online chooser's inner loop). */
export interface PreparedShape {
  readonly computeMs: Float64Array;
  readonly outsideLayersMs: number;
  predict(interval: number, bandwidthBytesPerS: number): TimelineResult;
}

export function latencyModel(
  model: ModelDescription,
  profile: LayerProfile,
  options: { stagingSlots?: number; pattern?: OffloadPattern } = {},
): LatencyModel {
  const stagingSlots = options.stagingSlots ?? 2;
  const family = offloadFamily(model.numLayers, options.pattern ?? 'nested');
  const layerBytes = decoderLayerBytes(model);
  const L = model.numLayers;
  const copyMsAt = (bandwidth: number): number => (layerBytes / bandwidth) * 1000;
  const setOf = (interval: number): Int32Array => {
    const set = family.setsByInterval[interval];
    if (!set) throw new RangeError(`interval ${interval} is outside 1..${L} and NO_OFFLOAD`);
    return set;
  };

  const prepare = (shape: BatchShape, into?: Float64Array): PreparedShape => {
    const computeMs = into ?? new Float64Array(L);
    profile.fillLayerComputeMs(shape, computeMs);
    const outsideLayersMs = profile.outsideLayersMs(shape);
    return {
      computeMs,
      outsideLayersMs,
      predict: (interval, bandwidth) =>
        predictIteration({
          computeMs,
          numLayers: L,
          offloaded: setOf(interval),
          copyMs: copyMsAt(bandwidth),
          stagingSlots,
          outsideLayersMs,
        }),
    };
  };

  return {
    model,
    profile,
    family,
    stagingSlots,
    layerBytes,
    predict: (interval, shape, bandwidth) => prepare(shape).predict(interval, bandwidth),
    predictDetail: (interval, shape, bandwidth) => {
      const prepared = prepare(shape);
      return predictIterationDetail({
        computeMs: prepared.computeMs,
        numLayers: L,
        offloaded: setOf(interval),
        copyMs: copyMsAt(bandwidth),
        stagingSlots,
        outsideLayersMs: prepared.outsideLayersMs,
      });
    },
    prepare: (shape) => prepare(shape),
  };
}
