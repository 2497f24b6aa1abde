// Typed wrapper of the model engine (native/binding/engine-binding.cc): load a Hugging Face model
// folder onto an OffloadRuntime, run steps over mixed batches with paged KV block tables, sample.
// Loads and steps are queued on the runtime (OffloadRuntime.withNative), so they never overlap
// its other calls; KV blocks come from the runtime (runtime.kvAlloc / kvFree).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { RuntimeError, RuntimeErrorCode, addonPath, type OffloadRuntime } from './index.ts';

export interface ModelOptions {
  /** Tokens per KV block (default 16). */
  blockSize?: number;
  /** CPU GEMM threads (default: OpenBLAS default). */
  threads?: number;
  /** Initial activation capacity in tokens; grows on demand (default 256). */
  scratchTokens?: number;
  /** Layers that may ever be offloaded (the planner's N_min set); default all layers. */
  hostSet?: number[];
  /** Layers offloaded at load (subset of hostSet), labelled with `interval`. */
  offloadSet?: number[];
  interval?: number;
  /** Stored weight dtype: auto (the checkpoint's, default), float32, float16 or bfloat16. */
  dtype?: WeightDtype;
}

/** Weight dtypes the engine stores (fp16/bf16 are computed in fp32 on the CPU backend). */
export type WeightDtype = 'auto' | 'float32' | 'float16' | 'bfloat16';

export interface ModelInfo {
  arch: 'llama' | 'opt';
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffnSize: number;
  maxPositions: number;
  blockSize: number;
  /** Bytes of one KV block (all layers, K and V): pass to runtime.kvConfigure is done by load. */
  kvBlockBytes: number;
  /** Bytes of one decoder layer's weight blob (the unit the runtime offloads). */
  layerBytes: number;
  /** The dtype the weights are stored in (every memory tier: device, host pool, staging). */
  dtype: Exclude<WeightDtype, 'auto'>;
  bosTokenId: number;
  eosTokenIds: number[];
  /**
   * Positions a query attends to at most (Mistral, Phi-3 sliding_window); 0: all. Block table
   * entries RELEASED_KV_BLOCK are accepted for leading blocks wholly before the window.
   */
  slidingWindow: number;
}

/** A block table entry whose block went back to the pool (SN_KV_BLOCK_RELEASED). */
export const RELEASED_KV_BLOCK = 0xffffffff;

/** One sequence's work in a step. */
export interface SeqStep {
  /** New tokens: a prompt, a prompt chunk or one decode token. */
  tokens: Int32Array;
  /** Tokens already in this sequence's KV cache. */
  nPast: number;
  /** Block table: KV block ids covering at least nPast + tokens.length positions. */
  blockIds: Uint32Array;
  /** Logits for every new token (true) or the last one only (default). */
  allLogits?: boolean;
}

export interface StepTelemetry {
  iteration: number;
  interval: number;
  offloadedLayers: number;
  wallUs: number;
  stallUs: number;
  computeUs: number;
  bytesCopied: number;
  bandwidthBytesPerS: number;
  bandwidthEwma: number;
  switchPending: boolean;
  layerComputeUs: number[];
  layerStallUs: number[];
}

export interface StepResult {
  /** rows * vocabSize logits, rows in sequence order (see SeqStep.allLogits). */
  logits: Float32Array;
  rows: number;
  telemetry: StepTelemetry;
}

export interface SamplingParams {
  /** 0 = greedy (default 1). */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Seed of the sequence; draw k uses (seed, k), so runs are reproducible. */
  seed?: number;
  /** Alternatives to report, 0..20. */
  topLogprobs?: number;
}

export interface SampleResult {
  token: number;
  /** Log-probability of token under the model's raw distribution. */
  logprob: number;
  top: { token: number; logprob: number }[];
}

interface NativeModel {
  info(): ModelInfo;
  step(seqs: SeqStep[]): Promise<StepResult>;
  close(): void;
}

interface EngineAddon {
  loadModel(runtime: object, dir: string, options: ModelOptions): Promise<NativeModel>;
  sample(
    logits: Float32Array,
    params: SamplingParams,
    prompt: Int32Array | undefined,
    output: Int32Array | undefined,
    step: number,
  ): SampleResult;
}

let cached: EngineAddon | undefined;

function engineAddon(): EngineAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new RuntimeError(
      RuntimeErrorCode.AddonMissing,
      `native addon not found at ${path} (run: npm run build:native)`,
    );
  }
  const addon = createRequire(import.meta.url)(path) as Partial<EngineAddon>;
  if (typeof addon.loadModel !== 'function' || typeof addon.sample !== 'function') {
    throw new RuntimeError(
      RuntimeErrorCode.AddonMissing,
      `native addon at ${path} was built without the engine (SELECTN_ENGINE=OFF)`,
    );
  }
  cached = addon as EngineAddon;
  return cached;
}

function toError(err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const known = Object.values(RuntimeErrorCode) as string[];
  return new RuntimeError(
    typeof code === 'string' && known.includes(code)
      ? (code as RuntimeErrorCode)
      : RuntimeErrorCode.Backend,
    message,
  );
}

/** A model loaded on a runtime. */
export class Model {
  readonly info: ModelInfo;
  readonly #native: NativeModel;
  readonly #runtime: OffloadRuntime;
  #closed = false;

  constructor(native: NativeModel, runtime: OffloadRuntime) {
    this.#native = native;
    this.#runtime = runtime;
    this.info = native.info();
  }

  /** Blocks a sequence of `tokens` positions needs. */
  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.info.blockSize);
  }

  /** One iteration over a mixed batch (prefills, chunks and decodes together). */
  step(seqs: SeqStep[]): Promise<StepResult> {
    if (this.#closed) {
      return Promise.reject(new RuntimeError(RuntimeErrorCode.State, 'model is closed'));
    }
    return this.#runtime
      .withNative(() => this.#native.step(seqs))
      .catch((e: unknown) => {
        throw toError(e);
      });
  }

  /** Frees the model's device memory (after any queued step). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#runtime.withNative(() => {
      this.#native.close();
    });
  }
}

/** Loads a Hugging Face model folder onto `runtime` (which must have no layers declared yet). */
export async function loadModel(
  runtime: OffloadRuntime,
  dir: string,
  options: ModelOptions = {},
): Promise<Model> {
  const addon = engineAddon();
  try {
    const native = await runtime.withNative((rt) => addon.loadModel(rt, dir, options));
    return new Model(native, runtime);
  } catch (e: unknown) {
    throw toError(e);
  }
}

/**
 * Samples a token from one row of logits. `step` is the index of this draw in the sequence:
 * with the same seed, the same (logits, history, step) always gives the same token.
 */
export function sample(
  logits: Float32Array,
  params: SamplingParams,
  history: { prompt?: Int32Array; output?: Int32Array; step: number },
): SampleResult {
  try {
    return engineAddon().sample(logits, params, history.prompt, history.output, history.step);
  } catch (e: unknown) {
    throw toError(e);
  }
}

/** Row `i` of a step's logits (a view, no copy). */
export function logitsRow(result: StepResult, vocabSize: number, i: number): Float32Array {
  if (i < 0 || i >= result.rows) throw new RangeError(`row ${i} outside 0..${result.rows - 1}`);
  return result.logits.subarray(i * vocabSize, (i + 1) * vocabSize);
}
