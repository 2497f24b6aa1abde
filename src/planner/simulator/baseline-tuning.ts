// Offline settings of the baselines: FlexGen-style static placement (throughput-optimal split,
// blind to the SLO) and the offload amount zero-copy needs to load the model.
import { decoderLayerBytes, nonLayerBytes } from '../model.ts';
import { gpuMemoryFor } from '../memory.ts';
import { predictIteration } from '../timeline.ts';
import type { PolicyContext } from './policies.ts';

/**
 * FlexGen-style: the fraction of every layer's weights kept in host memory that maximizes decode
 * throughput with the batch as large as the KV cache allows, ignoring the SLO. Searched over a
 * 5% grid, as FlexGen's policy search works on percentages.
 */
export function throughputOptimalFraction(
  ctx: PolicyContext,
  meanSequenceTokens: number,
  bandwidthBytesPerS: number,
): { fraction: number; batch: number; tokensPerS: number } | null {
  const { model, hardware, memory, profile } = ctx;
  const L = model.numLayers;
  const layerBytes = decoderLayerBytes(model);
  const all = Int32Array.from({ length: L }, (_, i) => i);
  const computeMs = new Float64Array(L);
  let best: { fraction: number; batch: number; tokensPerS: number } | null = null;
  for (let step = 0; step <= 20; step++) {
    const fraction = step / 20;
    const resident = nonLayerBytes(model) + L * layerBytes * (1 - fraction);
    const staging = fraction > 0 ? memory.stagingSlots * layerBytes * fraction : 0;
    const kv = gpuMemoryFor(model, hardware, resident, staging, memory).kvCapacityTokens;
    const batch = Math.floor(kv / meanSequenceTokens);
    if (batch < 1) continue;
    const shape = {
      sequences: batch,
      newTokens: batch,
      contextTokens: Math.round((batch * meanSequenceTokens) / 2),
    };
    profile.fillLayerComputeMs(shape, computeMs);
    const { iterationMs } = predictIteration({
      computeMs,
      numLayers: L,
      offloaded: fraction > 0 ? all : new Int32Array(0),
      copyMs: ((layerBytes * fraction) / bandwidthBytesPerS) * 1000,
      stagingSlots: memory.stagingSlots,
      outsideLayersMs: profile.outsideLayersMs(shape),
    });
    const tokensPerS = (batch / iterationMs) * 1000;
    if (!best || tokensPerS > best.tokensPerS) best = { fraction, batch, tokensPerS };
  }
  return best;
}

/** Whole layers vLLM's --cpu-offload-gb must move to host memory to leave room for minKvTokens. */
export function layersToFit(ctx: PolicyContext, minKvTokens: number): number | null {
  const { model, hardware, memory } = ctx;
  const layerBytes = decoderLayerBytes(model);
  for (let k = 0; k <= model.numLayers; k++) {
    const resident = nonLayerBytes(model) + (model.numLayers - k) * layerBytes;
    if (gpuMemoryFor(model, hardware, resident, 0, memory).kvCapacityTokens >= minKvTokens)
      return k;
  }
  return null;
}
