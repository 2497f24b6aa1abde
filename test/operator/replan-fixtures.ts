// Planning inputs as a pod sends them, for a model the planner may not know: a catalog model
// renamed, and a layer profile sampled from the planner's analytic model on the grid a pod
// measures (two contexts per new-token count), written in the profile file format.
import type { PlanningInputs } from '../../src/api/index.ts';
import {
  PROFILE_FORMAT_VERSION,
  analyticProfile,
  builtinHardware,
  builtinModel,
  type ProfilePoint,
} from '../../src/planner/index.ts';

export function planningInputs(
  modelName = 'my-finetune',
  hardwareName = 'a100-40gb',
  catalogModel = 'llama-13b',
): PlanningInputs {
  const model = { ...builtinModel(catalogModel), name: modelName };
  const hardware = builtinHardware(hardwareName);
  const analytic = analyticProfile(model, hardware);
  const L = model.numLayers;
  const points: ProfilePoint[] = [];
  const out = new Float64Array(L);
  const add = (sequences: number, newTokens: number, contextTokens: number) => {
    const shape = { sequences, newTokens, contextTokens };
    analytic.fillLayerComputeMs(shape, out);
    points.push({
      sequences,
      newTokens,
      contextTokens,
      layerMs: Array.from(out),
      outsideLayersMs: analytic.outsideLayersMs(shape),
    });
  };
  for (const b of [1, 2, 4, 8, 16, 32]) {
    add(b, b, b * 16);
    add(b, b, b * 2048);
  }
  for (const t of [64, 128, 256, 512, 1024, 2048]) {
    add(1, t, t);
    add(1, t, t + 1024);
  }
  return {
    model: { ...model },
    hardware: { ...hardware, hostLink: { ...hardware.hostLink } },
    profile: {
      version: PROFILE_FORMAT_VERSION,
      model: { name: modelName, numLayers: L },
      hardware: { name: hardware.name },
      points,
    },
    workload: { batchSizes: [1, 8, 32], contextLengths: [512, 2048], prefillChunkTokens: 512 },
    options: {
      gpuMemoryUtilization: 0.95,
      stagingSlots: 2,
      maxBatchTokens: 2048,
      pattern: 'nested',
    },
    copyBandwidthBytesPerSecond: hardware.hostLink.maxBytesPerS,
  };
}
