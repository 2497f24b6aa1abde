// GPU and host memory accounting: one pool of GPU memory shared by resident weights, staging
// slots, activations and paged KV cache (DESIGN.md section 2, elastic GPU pool).
import type { HardwareDescription } from './hardware.ts';
import {
  decoderLayerBytes,
  kvBytesPerToken,
  nonLayerBytes,
  type ModelDescription,
} from './model.ts';
import { offloadedLayerCount } from './offload-sets.ts';

export const KV_BLOCK_TOKENS = 16;

export interface MemoryOptions {
  /** Fraction of GPU memory the server may use (as vLLM's gpu_memory_utilization; default 0.9). */
  gpuMemoryUtilization?: number;
  /** Staging slots for offloaded layers (default 2: double buffering). */
  stagingSlots?: number;
  /** Most tokens one iteration computes; sizes the activation workspace (default 2048). */
  maxBatchTokens?: number;
}

export interface ResolvedMemoryOptions {
  gpuMemoryUtilization: number;
  stagingSlots: number;
  maxBatchTokens: number;
}

export function resolveMemoryOptions(options: MemoryOptions = {}): ResolvedMemoryOptions {
  return {
    gpuMemoryUtilization: options.gpuMemoryUtilization ?? 0.9,
    stagingSlots: options.stagingSlots ?? 2,
    maxBatchTokens: options.maxBatchTokens ?? 2048,
  };
}

/** Activation workspace: hidden states, QKV, MLP intermediates and logits for the largest step. */
export function activationReserveBytes(model: ModelDescription, maxBatchTokens: number): number {
  const perToken = (4 * model.hiddenSize + 3 * model.intermediateSize) * model.dtypeBytes;
  const logits = 256 * model.vocabSize * 4;
  return maxBatchTokens * perToken + logits;
}

export interface GpuMemoryBreakdown {
  /** GPU memory the server may use, bytes. */
  usableBytes: number;
  /** Embeddings, LM head and resident decoder layers, bytes. */
  residentWeightBytes: number;
  /** Staging slots for streamed weights, bytes. */
  stagingBytes: number;
  activationBytes: number;
  /** What is left for KV cache, whole blocks only, bytes (0 when nothing is left). */
  kvBytes: number;
  /** KV cache capacity in tokens (a multiple of the block size). */
  kvCapacityTokens: number;
  /** True when the weights that must stay do not fit at all (kvBytes would be negative). */
  overCommitted: boolean;
}

/** Memory split for given resident and staging weight bytes (any placement, layer or fraction). */
export function gpuMemoryFor(
  model: ModelDescription,
  hardware: HardwareDescription,
  residentWeightBytes: number,
  stagingBytes: number,
  options: ResolvedMemoryOptions,
): GpuMemoryBreakdown {
  const usableBytes = hardware.gpuMemoryBytes * options.gpuMemoryUtilization;
  const activationBytes = activationReserveBytes(model, options.maxBatchTokens);
  const left = usableBytes - residentWeightBytes - stagingBytes - activationBytes;
  const blockBytes = kvBytesPerToken(model) * KV_BLOCK_TOKENS;
  const blocks = left > 0 ? Math.floor(left / blockBytes) : 0;
  return {
    usableBytes,
    residentWeightBytes,
    stagingBytes,
    activationBytes,
    kvBytes: blocks * blockBytes,
    kvCapacityTokens: blocks * KV_BLOCK_TOKENS,
    overCommitted: left < 0,
  };
}

/** Memory split when interval N offloads floor(L/N) whole layers. */
export function gpuMemoryAtInterval(
  model: ModelDescription,
  hardware: HardwareDescription,
  interval: number,
  options: ResolvedMemoryOptions,
): GpuMemoryBreakdown {
  const layerBytes = decoderLayerBytes(model);
  const offloaded = offloadedLayerCount(interval, model.numLayers);
  const resident = nonLayerBytes(model) + (model.numLayers - offloaded) * layerBytes;
  const staging = Math.min(offloaded, options.stagingSlots) * layerBytes;
  return gpuMemoryFor(model, hardware, resident, staging, options);
}

/** Pinned host memory for the layers interval N offloads, bytes. */
export function hostMemoryAtInterval(model: ModelDescription, interval: number): number {
  return offloadedLayerCount(interval, model.numLayers) * decoderLayerBytes(model);
}

/** Memory split when `amountLayers` layers' worth of weights (fractions allowed) are offloaded. */
export function gpuMemoryAtAmount(
  model: ModelDescription,
  hardware: HardwareDescription,
  amountLayers: number,
  options: ResolvedMemoryOptions,
): GpuMemoryBreakdown {
  const layerBytes = decoderLayerBytes(model);
  const resident = nonLayerBytes(model) + (model.numLayers - amountLayers) * layerBytes;
  const staging = Math.min(Math.ceil(amountLayers - 1e-9), options.stagingSlots) * layerBytes;
  return gpuMemoryFor(model, hardware, resident, staging, options);
}
