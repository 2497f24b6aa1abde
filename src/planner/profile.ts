// Layer profiles: compute time of every decoder layer as a function of the batch shape. Two
// sources behind one interface: the analytic roofline here, measured points in measured-profile.ts.
import type { HardwareDescription } from './hardware.ts';
import {
  decoderLayerParams,
  headDimOf,
  kvBytesPerTokenPerLayer,
  type ModelDescription,
} from './model.ts';

/** The shape of one iteration's batch: what determines its compute time. */
export interface BatchShape {
  /** Sequences in the iteration (decodes plus sequences with a prefill chunk). */
  sequences: number;
  /** Tokens computed this iteration: prefill chunk tokens plus one per decoding sequence. */
  newTokens: number;
  /** KV cache tokens attended, summed over the sequences (their context after this iteration). */
  contextTokens: number;
}

export interface LayerProfile {
  readonly source: 'analytic' | 'measured';
  readonly numLayers: number;
  /** Writes the compute time in ms of decoder layer i into out[i] (out.length >= numLayers). */
  fillLayerComputeMs(shape: BatchShape, out: Float64Array): void;
  /** Time in ms outside the decoder layers: embedding, final norm, LM head, sampling, step overhead. */
  outsideLayersMs(shape: BatchShape): number;
}

export interface AnalyticProfileOptions {
  /** Fraction of peak tensor FLOPs that GEMMs reach (default 0.6). */
  computeEfficiency?: number;
  /** Fraction of peak memory bandwidth that weight and KV reads reach (default 0.8). */
  memoryEfficiency?: number;
  /** Fixed cost per decoder layer for kernel launches and small ops, ms (default 0.03). */
  layerOverheadMs?: number;
  /** Fixed cost per iteration for scheduling and sampling, ms (default 1). */
  stepOverheadMs?: number;
}

/**
 * Query-key pairs attended in the iteration; exact for decodes and for whole causal prefills.
 * With a sliding window a query attends at most `window` positions: past the window every query
 * counts `window` pairs (exact once the chunk's first token is `window` positions in).
 */
export function attendedPairs(shape: BatchShape, window?: number): number {
  if (shape.sequences <= 0 || shape.newTokens <= 0) return 0;
  const meanContext = shape.contextTokens / shape.sequences;
  const meanNew = shape.newTokens / shape.sequences;
  const causal = Math.max(0, shape.newTokens * (meanContext - meanNew / 2));
  return window === undefined ? causal : Math.min(causal, shape.newTokens * window);
}

/**
 * Roofline estimate: each layer takes max(FLOPs / (peak * computeEfficiency),
 * bytes / (bandwidth * memoryEfficiency)) plus a fixed overhead. FLOPs are 2 per parameter per
 * new token plus 4 * qDim per attended query-key pair; bytes are the layer's weights, the KV
 * read and written, and the activations in and out.
 */
export function analyticProfile(
  model: ModelDescription,
  hardware: HardwareDescription,
  options: AnalyticProfileOptions = {},
): LayerProfile {
  const computeEfficiency = options.computeEfficiency ?? 0.6;
  const memoryEfficiency = options.memoryEfficiency ?? 0.8;
  const layerOverheadMs = options.layerOverheadMs ?? 0.03;
  const stepOverheadMs = options.stepOverheadMs ?? 1;
  const flopsPerMs = (hardware.peakFlopsPerS * computeEfficiency) / 1000;
  const bytesPerMs = (hardware.memoryBandwidthBytesPerS * memoryEfficiency) / 1000;
  const params = decoderLayerParams(model);
  const weightBytes = params * model.dtypeBytes;
  const kvPerToken = kvBytesPerTokenPerLayer(model);
  const qDim = model.numAttentionHeads * headDimOf(model);
  const activationBytesPerToken = 4 * model.hiddenSize * model.dtypeBytes;
  const headBytes = model.vocabSize * model.hiddenSize * model.dtypeBytes;

  const layerMs = (shape: BatchShape): number => {
    const flops =
      2 * params * shape.newTokens + 4 * qDim * attendedPairs(shape, model.slidingWindow);
    const window = model.slidingWindow;
    const kvRead =
      window === undefined
        ? shape.contextTokens
        : Math.min(shape.contextTokens, shape.sequences * window);
    const bytes =
      weightBytes +
      kvPerToken * (kvRead + shape.newTokens) +
      activationBytesPerToken * shape.newTokens;
    return Math.max(flops / flopsPerMs, bytes / bytesPerMs) + layerOverheadMs;
  };

  return {
    source: 'analytic',
    numLayers: model.numLayers,
    fillLayerComputeMs(shape, out) {
      const t = layerMs(shape);
      for (let i = 0; i < model.numLayers; i++) out[i] = t;
    },
    outsideLayersMs(shape) {
      // LM head over the last token of each sequence.
      const flops = 2 * model.vocabSize * model.hiddenSize * shape.sequences;
      return Math.max(flops / flopsPerMs, headBytes / bytesPerMs) + stepOverheadMs;
    },
  };
}
