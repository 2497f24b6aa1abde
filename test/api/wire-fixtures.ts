// Fixture builders for the operator<->pod wire formats.
import type { PlanWire, TelemetrySnapshot } from '../../src/api/index.ts';

export function samplePlan(overrides: Partial<PlanWire> = {}): PlanWire {
  return {
    schemaVersion: 1,
    generation: 0,
    interval: { min: 2, max: 8 },
    hostMemoryBytes: 6 * 2 ** 30,
    bandwidthBudgetBytesPerSecond: null,
    layerSelection: 'nested',
    basis: 'planner: llama-13b on a100-40gb',
    issuedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const pct = (p50: number, p90: number, p99: number, samples = 100) => ({
  p50,
  p90,
  p99,
  mean: p50,
  samples,
});

export function sampleTelemetry(overrides: Partial<TelemetrySnapshot> = {}): TelemetrySnapshot {
  return {
    schemaVersion: 1,
    pod: { name: 'demo-abc12', namespace: 'default' },
    observedAt: '2025-01-01T00:00:10.000Z',
    windowSeconds: 30,
    uptimeSeconds: 120,
    ready: true,
    model: { name: 'tiny-llama', numLayers: 40, layerBytes: 600 * 2 ** 20, dtype: 'float16' },
    hardware: {
      backend: 'cuda',
      nodeName: 'gpu-node-0',
      devices: [
        {
          index: 0,
          name: 'NVIDIA A100-SXM4-40GB',
          uuid: 'GPU-0000',
          memoryTotalBytes: 40 * 2 ** 30,
          memoryUsedBytes: 38 * 2 ** 30,
          computeUtilization: 0.8,
          bus: {
            pciBusId: '0000:3b:00.0',
            switchId: '0000:36:00.0',
            rootPortId: '0000:35:00.0',
            numaNode: 0,
            linkGeneration: 4,
            linkWidth: 16,
          },
        },
      ],
      hostMemoryTotalBytes: 256 * 2 ** 30,
      hostMemoryAvailableBytes: 200 * 2 ** 30,
      computeSlowdown: 1.02,
    },
    pools: {
      gpuTotalBytes: 38 * 2 ** 30,
      gpuResidentWeightsBytes: 18 * 2 ** 30,
      gpuStagingBytes: 2 ** 30,
      gpuKvBytes: 19 * 2 ** 30,
      gpuFreeBytes: 0,
      kvBlocksTotal: 1216,
      kvBlocksUsed: 900,
      hostCapacityBytes: 6 * 2 ** 30,
      hostUsedBytes: 6 * 2 ** 30,
      offloadedLayers: 10,
      residentLayers: 30,
    },
    bandwidth: {
      h2dBytesPerSecond: pct(20e9, 22e9, 24e9),
      demandBytesPerSecond: 12e9,
      budgetBytesPerSecond: null,
      copiedBytesTotal: 10 * 2 ** 40,
      stallMsTotal: 12.5,
      stallMs: pct(0, 0, 0.4),
    },
    interval: {
      current: 4,
      mean: 4.4,
      min: 2,
      max: 8,
      histogram: [
        { interval: 2, iterations: 10 },
        { interval: 4, iterations: 80 },
        { interval: 8, iterations: 10 },
      ],
      changes: 12,
      iterations: 100,
    },
    slo: {
      ttftMs: 500,
      tpotMs: 50,
      percentile: 99,
      attainment: 0.995,
      ttftAttainment: 0.998,
      tpotAttainment: 0.997,
      ttft: pct(120, 300, 480),
      tpot: pct(30, 40, 48),
      requestsFinished: 400,
      requestsViolated: 2,
    },
    throughput: {
      generatedTokensPerSecond: 900,
      promptTokensPerSecond: 3000,
      requestsPerSecond: 13.3,
      iterationsPerSecond: 30,
      batchSize: pct(24, 30, 32),
      waiting: 3,
      running: 28,
      rejectedTotal: 0,
      preemptionsTotal: 1,
    },
    plan: samplePlan(),
    ...overrides,
  };
}
