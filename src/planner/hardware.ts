// Hardware descriptions: one GPU and its link to host memory, validated with zod.
import { z } from 'zod';

const positive = z.number().positive();

export const HostLink = z
  .object({
    name: z.string().min(1).describe('The link, e.g. "PCIe 4.0 x16"'),
    minBytesPerS: positive.describe(
      'Effective pinned host-to-device copy bandwidth under contention (GPUs sharing a switch or root port), bytes/s',
    ),
    maxBytesPerS: positive.describe(
      'Effective pinned host-to-device copy bandwidth with the link to itself (measured, not the spec rate), bytes/s',
    ),
  })
  .strict()
  .refine((l) => l.minBytesPerS <= l.maxBytesPerS, {
    error: 'minBytesPerS must not exceed maxBytesPerS',
    path: ['minBytesPerS'],
  })
  .describe('Host-to-device copy path used to stream offloaded layers');
export type HostLink = z.infer<typeof HostLink>;

export const HardwareDescription = z
  .object({
    name: z.string().min(1).describe('Short name used in plans and reports, e.g. a100-40gb'),
    gpuMemoryBytes: positive.describe(
      'Device memory as the driver reports it (nvidia-smi total), bytes',
    ),
    memoryBandwidthBytesPerS: positive.describe('Peak device memory (HBM/GDDR) bandwidth, bytes/s'),
    peakFlopsPerS: positive.describe('Peak dense FP16/BF16 tensor-core throughput, FLOP/s'),
    hostLink: HostLink,
    source: z.string().optional().describe('Where the figures come from (datasheet, measurement)'),
  })
  .strict()
  .describe('One GPU: memory, compute and the bandwidth range of its link to host memory');
export type HardwareDescription = z.infer<typeof HardwareDescription>;
