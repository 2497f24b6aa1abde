// The start-up profiling pass (shared with `selectn profile`): runs real forward passes over a
// grid of batch shapes on the loaded model and records each decoder layer's compute time and the
// time outside the layers, as the planner's profile file (src/planner/measured-profile.ts). The
// planner fits a line in context tokens per distinct new-token count, so every new-token count is
// measured at two context sizes. Decode shapes attend to KV blocks that hold whatever they held:
// the work, and so the time, does not depend on the values.
import { PROFILE_FORMAT_VERSION, type ProfileFile, type ProfilePoint } from '../planner/index.ts';
import { logitsRow, sample, type Model, type SeqStep } from '../runtime/engine.ts';
import { RuntimeErrorCode, type OffloadRuntime } from '../runtime/index.ts';

export interface ProfileOptions {
  /** Most sequences in one iteration. */
  maxNumSeqs: number;
  /** Token budget of one iteration (largest prefill chunk). */
  maxNumBatchedTokens: number;
  /** Longest context. */
  maxModelLen: number;
  /** Timed repetitions per shape (the median is kept), after one warm-up. */
  repeats?: number;
  modelName: string;
  hardwareName: string;
  device?: string;
}

export interface GridShape {
  sequences: number;
  /** Tokens computed per sequence. */
  tokensPerSeq: number;
  /** Tokens already in each sequence's KV cache. */
  pastPerSeq: number;
}

function powersOfTwoUpTo(max: number, from = 1): number[] {
  const out: number[] = [];
  for (let v = from; v < max; v *= 2) out.push(v);
  out.push(max);
  return [...new Set(out)].filter((v) => v >= 1 && v <= max);
}

/** Decode batches at short and long context, and prefill chunks with and without a past. */
export function profileGrid(opts: ProfileOptions): GridShape[] {
  const shapes: GridShape[] = [];
  const longPast = Math.max(2, Math.min(opts.maxModelLen - 1, 256));
  const shortPast = Math.max(1, Math.min(16, longPast - 1));
  for (const b of powersOfTwoUpTo(Math.min(opts.maxNumSeqs, opts.maxNumBatchedTokens))) {
    shapes.push({ sequences: b, tokensPerSeq: 1, pastPerSeq: shortPast });
    shapes.push({ sequences: b, tokensPerSeq: 1, pastPerSeq: longPast });
  }
  const maxChunk = Math.min(opts.maxNumBatchedTokens, opts.maxModelLen - 1);
  for (const t of powersOfTwoUpTo(maxChunk, 64)) {
    if (t <= Math.min(opts.maxNumSeqs, opts.maxNumBatchedTokens)) continue; // a decode knot
    shapes.push({ sequences: 1, tokensPerSeq: t, pastPerSeq: 0 });
    const past = Math.min(longPast, opts.maxModelLen - t);
    if (past > 0) shapes.push({ sequences: 1, tokensPerSeq: t, pastPerSeq: past });
  }
  return shapes;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Times one shape: returns the median per-layer compute and outside-layer time in ms. */
async function timeShape(
  runtime: OffloadRuntime,
  model: Model,
  shape: GridShape,
  repeats: number,
): Promise<ProfilePoint> {
  const { vocabSize } = model.info;
  const perSeq = model.blocksFor(shape.pastPerSeq + shape.tokensPerSeq);
  const blocks = await runtime.kvAlloc(perSeq * shape.sequences);
  try {
    const seqs: SeqStep[] = [];
    for (let s = 0; s < shape.sequences; s++) {
      const tokens = new Int32Array(shape.tokensPerSeq);
      for (let k = 0; k < tokens.length; k++) tokens[k] = (s * 7919 + k * 104729) % vocabSize;
      seqs.push({
        tokens,
        nPast: shape.pastPerSeq,
        blockIds: Uint32Array.from(blocks.slice(s * perSeq, (s + 1) * perSeq)),
      });
    }
    const layerRuns: number[][] = [];
    const outside: number[] = [];
    for (let r = 0; r <= repeats; r++) {
      const t0 = performance.now();
      const result = await model.step(seqs);
      for (let i = 0; i < result.rows; i++) {
        sample(logitsRow(result, vocabSize, i), { temperature: 1, seed: i }, { step: 0 });
      }
      const wallMs = performance.now() - t0;
      if (r === 0) continue; // warm-up (scratch growth, caches)
      const layers = result.telemetry.layerComputeUs.map((us) => us / 1000);
      const inLayers = layers.reduce((a, b) => a + b, 0) + result.telemetry.stallUs / 1000;
      layerRuns.push(layers);
      outside.push(Math.max(0, wallMs - inLayers));
    }
    const L = model.info.layers;
    const layerMs = Array.from({ length: L }, (_, i) => median(layerRuns.map((l) => l[i] ?? 0)));
    return {
      sequences: shape.sequences,
      newTokens: shape.sequences * shape.tokensPerSeq,
      contextTokens: shape.sequences * (shape.pastPerSeq + shape.tokensPerSeq),
      layerMs,
      outsideLayersMs: median(outside),
    };
  } finally {
    await runtime.kvFree(blocks);
  }
}

/** Runs the grid on the model (at whatever interval is in force; best with nothing offloaded). */
export async function profileModel(
  runtime: OffloadRuntime,
  model: Model,
  opts: ProfileOptions,
  onPoint?: (point: ProfilePoint, index: number, total: number) => void,
): Promise<ProfileFile> {
  const grid = profileGrid(opts);
  const points: ProfilePoint[] = [];
  for (const [index, shape] of grid.entries()) {
    let point: ProfilePoint;
    try {
      point = await timeShape(runtime, model, shape, opts.repeats ?? 3);
    } catch (error) {
      // A shape whose KV cache does not fit the device pool is left out; the fit extrapolates.
      if ((error as { code?: unknown }).code === RuntimeErrorCode.NoDeviceRoom) continue;
      throw error;
    }
    points.push(point);
    onPoint?.(point, index, grid.length);
  }
  if (points.length === 0) {
    throw new Error('profiling: not even one batch shape fits the device pool');
  }
  const hardware: ProfileFile['hardware'] = { name: opts.hardwareName };
  if (opts.device !== undefined) hardware.device = opts.device;
  return {
    version: PROFILE_FORMAT_VERSION,
    model: { name: opts.modelName, numLayers: model.info.layers },
    hardware,
    createdAt: new Date().toISOString(),
    tool: 'selectn profile',
    points,
  };
}
