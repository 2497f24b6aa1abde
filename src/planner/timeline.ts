// The per-iteration latency model (DESIGN.md section 2): decoder layers run in order on the
// compute stream; offloaded layers are copied host-to-device in layer order by one serial copy
// engine into S staging slots; the copy into a slot starts only after the layer that last used
// that slot has run; a layer starts when the previous layer has finished and its weights are in.
//
// Iteration start (our choice): every iteration starts with all S slots free and the copy engine
// idle, and the copies for this iteration start at its first instant (time 0, when layer 0 starts).
// Nothing is prefetched during the previous iteration's tail: the tail (LM head, sampling) is
// short, and this keeps iterations independent and the prediction conservative.

export interface TimelineInput {
  /** Compute time in ms of each decoder layer (index = layer). */
  computeMs: ArrayLike<number>;
  /** Decoder layers. */
  numLayers: number;
  /** Offloaded layer indices, strictly increasing. */
  offloaded: ArrayLike<number>;
  /** How many entries of `offloaded` to use (default all). */
  offloadedCount?: number;
  /** Time to copy one offloaded layer at the current bandwidth, ms. */
  copyMs: number;
  /** Staging slots on the GPU (at least 1). */
  stagingSlots: number;
  /** Time after the last decoder layer (LM head, sampling, step overhead), ms. */
  outsideLayersMs: number;
  /**
   * One offloaded layer of which only a fraction lives in host memory (a split tensor set at the
   * end of the nested order): its copy takes partialFraction x copyMs.
   */
  partialLayer?: number;
  partialFraction?: number;
}

export interface TimelineResult {
  /** Predicted iteration time, ms. */
  iterationMs: number;
  /** Time the compute stream waited for weights, ms. */
  stallMs: number;
}

export interface LayerTiming {
  layer: number;
  startMs: number;
  endMs: number;
  /** Copy of this layer's weights, for offloaded layers. */
  copyStartMs?: number;
  copyEndMs?: number;
  slot?: number;
}

export interface TimelineDetail extends TimelineResult {
  layers: LayerTiming[];
}

let scratch = new Float64Array(128);

/** O(L) prediction of one iteration; allocation-free in steady state. */
export function predictIteration(input: TimelineInput): TimelineResult {
  const { computeMs, numLayers, offloaded, copyMs, outsideLayersMs } = input;
  const count = input.offloadedCount ?? offloaded.length;
  const slots = Math.max(1, Math.floor(input.stagingSlots));
  if (scratch.length < count) scratch = new Float64Array(Math.max(count, scratch.length * 2));
  const endOfOffloaded = scratch;
  let t = 0;
  let computeTotal = 0;
  let copyEngineFree = 0;
  let j = 0;
  let nextOffloaded = count > 0 ? offloaded[0] : -1;
  const partialLayer = input.partialLayer ?? -1;
  const partialCopyMs = copyMs * (input.partialFraction ?? 1);
  for (let i = 0; i < numLayers; i++) {
    const c = computeMs[i] ?? 0;
    computeTotal += c;
    if (i === nextOffloaded) {
      const slotFree = j < slots ? 0 : (endOfOffloaded[j - slots] ?? 0);
      const copyStart = copyEngineFree > slotFree ? copyEngineFree : slotFree;
      const copyEnd = copyStart + (i === partialLayer ? partialCopyMs : copyMs);
      copyEngineFree = copyEnd;
      if (copyEnd > t) t = copyEnd;
      t += c;
      endOfOffloaded[j] = t;
      j++;
      nextOffloaded = j < count ? (offloaded[j] ?? -1) : -1;
    } else {
      t += c;
    }
  }
  const iterationMs = t + outsideLayersMs;
  return { iterationMs, stallMs: Math.max(0, t - computeTotal) };
}

/** The same timeline with every layer's start and end and every copy's window. */
export function predictIterationDetail(input: TimelineInput): TimelineDetail {
  const { computeMs, numLayers, offloaded, copyMs, outsideLayersMs } = input;
  const count = input.offloadedCount ?? offloaded.length;
  const slots = Math.max(1, Math.floor(input.stagingSlots));
  const layers: LayerTiming[] = [];
  const endOfOffloaded: number[] = [];
  let t = 0;
  let computeTotal = 0;
  let copyEngineFree = 0;
  let j = 0;
  for (let i = 0; i < numLayers; i++) {
    const c = computeMs[i] ?? 0;
    computeTotal += c;
    if (j < count && offloaded[j] === i) {
      const slotFree = j < slots ? 0 : (endOfOffloaded[j - slots] ?? 0);
      const copyStartMs = Math.max(copyEngineFree, slotFree);
      const copyEndMs =
        copyStartMs + (i === input.partialLayer ? copyMs * (input.partialFraction ?? 1) : copyMs);
      copyEngineFree = copyEndMs;
      const startMs = Math.max(t, copyEndMs);
      t = startMs + c;
      endOfOffloaded.push(t);
      layers.push({ layer: i, startMs, endMs: t, copyStartMs, copyEndMs, slot: j % slots });
      j++;
    } else {
      layers.push({ layer: i, startMs: t, endMs: t + c });
      t += c;
    }
  }
  return {
    iterationMs: t + outsideLayersMs,
    stallMs: Math.max(0, t - computeTotal),
    layers,
  };
}

/**
 * Offloaded weights read over the bus during compute with no overlap (vLLM --cpu-offload-gb):
 * every offloaded layer costs its compute plus its copy.
 */
export function predictSerialCopyIteration(input: TimelineInput): TimelineResult {
  const count = input.offloadedCount ?? input.offloaded.length;
  let computeTotal = 0;
  for (let i = 0; i < input.numLayers; i++) computeTotal += input.computeMs[i] ?? 0;
  const stallMs = count * input.copyMs;
  return { iterationMs: computeTotal + stallMs + input.outsideLayersMs, stallMs };
}
