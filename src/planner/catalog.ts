// Built-in models and GPUs with published figures, looked up by name.
import type { HardwareDescription } from './hardware.ts';
import type { ModelDescription } from './model.ts';
import { PlannerError, PlannerErrorCode } from './errors.ts';

const GB = 1e9;
const MiB = 1024 * 1024;
const TFLOPS = 1e12;

/** Shapes from the models' Hugging Face config.json files. */
export const BUILTIN_MODELS: readonly ModelDescription[] = [
  {
    name: 'llama-13b',
    architecture: 'llama',
    numLayers: 40,
    hiddenSize: 5120,
    numAttentionHeads: 40,
    numKeyValueHeads: 40,
    intermediateSize: 13824,
    vocabSize: 32000,
    maxPositionEmbeddings: 2048,
    dtypeBytes: 2,
    tiedEmbeddings: false,
  },
  {
    name: 'opt-13b',
    architecture: 'opt',
    numLayers: 40,
    hiddenSize: 5120,
    numAttentionHeads: 40,
    numKeyValueHeads: 40,
    intermediateSize: 20480,
    vocabSize: 50272,
    maxPositionEmbeddings: 2048,
    dtypeBytes: 2,
    tiedEmbeddings: true,
  },
  {
    name: 'llama-3-8b',
    architecture: 'llama',
    numLayers: 32,
    hiddenSize: 4096,
    numAttentionHeads: 32,
    numKeyValueHeads: 8,
    intermediateSize: 14336,
    vocabSize: 128256,
    maxPositionEmbeddings: 8192,
    dtypeBytes: 2,
    tiedEmbeddings: false,
  },
  {
    name: 'llama-3-70b',
    architecture: 'llama',
    numLayers: 80,
    hiddenSize: 8192,
    numAttentionHeads: 64,
    numKeyValueHeads: 8,
    intermediateSize: 28672,
    vocabSize: 128256,
    maxPositionEmbeddings: 8192,
    dtypeBytes: 2,
    tiedEmbeddings: false,
  },
];

const PCIE4 = { name: 'PCIe 4.0 x16', minBytesPerS: 12 * GB, maxBytesPerS: 24 * GB };
const PCIE5 = { name: 'PCIe 5.0 x16', minBytesPerS: 25 * GB, maxBytesPerS: 48 * GB };

/**
 * Datasheet figures (dense FP16 tensor FLOPs, memory bandwidth; memory as nvidia-smi reports it).
 * Host links: effective pinned cudaMemcpyAsync H2D rates (PCIe 4 x16 ~24 GB/s of 32 GB/s raw,
 * PCIe 5 x16 ~48 GB/s of 64 GB/s raw); the minimum is about half, two GPUs sharing one switch.
 */
export const BUILTIN_HARDWARE: readonly HardwareDescription[] = [
  {
    name: 'a100-40gb',
    gpuMemoryBytes: 40960 * MiB,
    memoryBandwidthBytesPerS: 1555 * GB,
    peakFlopsPerS: 312 * TFLOPS,
    hostLink: PCIE4,
    source: 'NVIDIA A100 PCIe 40GB datasheet: 1555 GB/s HBM2, 312 TFLOPS FP16 tensor (dense)',
  },
  {
    name: 'a100-80gb',
    gpuMemoryBytes: 81920 * MiB,
    memoryBandwidthBytesPerS: 2039 * GB,
    peakFlopsPerS: 312 * TFLOPS,
    hostLink: PCIE4,
    source: 'NVIDIA A100 SXM4 80GB datasheet: 2039 GB/s HBM2e, 312 TFLOPS FP16 tensor (dense)',
  },
  {
    name: 'h100-80gb',
    gpuMemoryBytes: 81559 * MiB,
    memoryBandwidthBytesPerS: 2000 * GB,
    peakFlopsPerS: 756 * TFLOPS,
    hostLink: PCIE5,
    source: 'NVIDIA H100 PCIe 80GB datasheet: 2.0 TB/s HBM2e, 756 TFLOPS FP16 tensor (dense)',
  },
  {
    name: 'l4',
    gpuMemoryBytes: 23034 * MiB,
    memoryBandwidthBytesPerS: 300 * GB,
    peakFlopsPerS: 121 * TFLOPS,
    hostLink: PCIE4,
    source: 'NVIDIA L4 datasheet: 24 GB GDDR6 at 300 GB/s, 121 TFLOPS FP16 tensor (dense)',
  },
  {
    name: 'a10g',
    gpuMemoryBytes: 23028 * MiB,
    memoryBandwidthBytesPerS: 600 * GB,
    peakFlopsPerS: 70 * TFLOPS,
    hostLink: PCIE4,
    source: 'AWS G5 NVIDIA A10G: 24 GB GDDR6 at 600 GB/s, ~70 TFLOPS FP16 tensor (dense)',
  },
];

export function builtinModelNames(): string[] {
  return BUILTIN_MODELS.map((m) => m.name);
}

export function builtinHardwareNames(): string[] {
  return BUILTIN_HARDWARE.map((h) => h.name);
}

export function builtinModel(name: string): ModelDescription {
  const found = BUILTIN_MODELS.find((m) => m.name === name);
  if (!found) {
    throw new PlannerError(
      PlannerErrorCode.UnknownName,
      `unknown model "${name}"; built-in models: ${builtinModelNames().join(', ')}`,
      'model',
    );
  }
  return found;
}

export function builtinHardware(name: string): HardwareDescription {
  const found = BUILTIN_HARDWARE.find((h) => h.name === name);
  if (!found) {
    throw new PlannerError(
      PlannerErrorCode.UnknownName,
      `unknown GPU "${name}"; built-in GPUs: ${builtinHardwareNames().join(', ')}`,
      'gpu',
    );
  }
  return found;
}
