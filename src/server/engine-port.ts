// What the scheduler and the engine loop need from a model executor, and nothing more. The
// production adapter (engine-adapter.ts) wraps src/runtime/engine.ts; scheduler tests use a small
// deterministic executor. Outputs are plain data; only what changed crosses the boundary.
import type { PlanningInputs } from '../api/index.ts';

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  repetitionPenalty: number;
  /** Per-request seed; the same seed and prompt give the same tokens. */
  seed: number;
  /** Number of top alternatives to return with each sampled token; null: no logprobs. */
  logprobs: number | null;
}

/**
 * Block table entry of a block given back to the pool because no query of the sequence will read
 * it again (sliding window); the engine's SN_KV_BLOCK_RELEASED.
 */
export { RELEASED_KV_BLOCK } from '../runtime/engine.ts';

/** One sequence's share of an iteration: a prefill chunk, a recompute, or one decode token. */
export interface SeqWork {
  requestId: string;
  /** Tokens whose keys/values this iteration computes, at positions start .. start+length-1. */
  tokenIds: readonly number[];
  startPosition: number;
  /**
   * KV blocks of the sequence, in order; they cover every position up to the end of this work.
   * With a sliding window, leading blocks before the window are RELEASED_KV_BLOCK.
   */
  blockTable: readonly number[];
  /** Sample a next token after the last of tokenIds (false for a prefill chunk that is not last). */
  sample: boolean;
  sampling: SamplingParams;
  /** Tokens generated so far (for penalties). */
  outputTokenIds: readonly number[];
  /** Prompt tokens (for the repetition penalty). */
  promptTokenIds: readonly number[];
}

export interface ExecuteBatch {
  /** Offload interval N requested for this iteration (0: nothing offloaded, as in the planner). */
  interval: number;
  seqs: readonly SeqWork[];
}

export interface TokenLogprob {
  tokenId: number;
  logprob: number;
}

export interface SampledToken {
  requestId: string;
  tokenId: number;
  /** Present when the work asked for logprobs. */
  logprob?: number;
  topLogprobs?: readonly TokenLogprob[];
}

export interface ExecuteResult {
  sampled: readonly SampledToken[];
  /** Interval actually in force during the iteration (a raise takes effect once copied in). */
  interval: number;
  /** Wall time of the iteration, milliseconds. */
  elapsedMs: number;
  /** Time compute waited for weights, milliseconds. */
  stallMs: number;
  /** Bytes copied host-to-device for the iteration's streamed layers. */
  bytesCopied: number;
  /** Achieved copy bandwidth in the iteration, bytes/s (0 when nothing was copied). */
  copyBandwidthBytesPerS: number;
}

/** The runtime's KV block pool as the scheduler sees it: it hides its blocks and says "no room". */
export interface KvPoolPort {
  readonly blockSize: number;
  totalBlocks(): number;
  freeBlocks(): number;
  /** Allocates count blocks, or returns null (and allocates nothing) when there is no room. */
  allocate(count: number): number[] | null;
  free(blocks: readonly number[]): void;
}

/** Hardware and pool status measured now, as the online policy and telemetry read it. */
export interface RuntimeStatus {
  /** Interval in force. */
  interval: number;
  /** Achieved host-to-device copy bandwidth, bytes/s (EWMA) and its p10 over a window. */
  copyBandwidthBytesPerS: number;
  copyBandwidthP10BytesPerS: number;
  /** Pacing budget in force, bytes/s (Infinity: unpaced). */
  bandwidthBudgetBytesPerS: number;
  /** Compute stall waiting for weights, total milliseconds since start. */
  stallMsTotal: number;
  bytesCopiedTotal: number;
  deviceBytesTotal: number;
  deviceBytesUsed: number;
  deviceWeightsBytes: number;
  deviceStagingBytes: number;
  deviceKvBytes: number;
  hostBytesTotal: number;
  hostBytesUsed: number;
  kvBlocksTotal: number;
  kvBlocksFree: number;
  /** Layers streamed from host memory at the interval in force, and layers resident. */
  offloadedLayers: number;
  residentLayers: number;
}

/** What the hardware is; constant for the life of the process. */
export interface HardwareInfo {
  backend: 'cpu' | 'cuda';
  deviceName: string;
  /** PCI identity of the device; null on the CPU backend. */
  pciBusId: string | null;
  /** What the process measured and planned with at start-up (sent in telemetry for re-planning). */
  planning?: PlanningInputs;
}

export interface EnginePort {
  readonly kv: KvPoolPort;
  /** Longest sequence (prompt + output) the engine can hold. */
  readonly maxModelLen: number;
  /** Positions a query attends to at most (sliding window); absent: all. */
  readonly slidingWindow?: number;
  /**
   * Between iterations, before scheduling: settle what the runtime does in the background
   * (adopt a finished interval switch, top up or give back reserved KV blocks). Optional.
   */
  refresh?(): Promise<void>;
  /** Runs one iteration. Long work runs off the event loop. */
  execute(batch: ExecuteBatch): Promise<ExecuteResult>;
  status(): RuntimeStatus;
  /** Changes the pacing budget of copies (bytes/s; Infinity: unpaced). */
  setBandwidthBudget(bytesPerS: number): void;
  /** Resizes the host pool to hold the offload set of interval nMin; throws when it cannot. */
  setHostInterval(nMin: number): void;
}
