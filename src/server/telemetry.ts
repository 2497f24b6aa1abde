// The telemetry snapshot the operator reads (GET /v1/selectn/telemetry, schema in src/api/wire.ts):
// hardware, bus identity, pools, bandwidth, interval choices, SLO attainment, throughput, plan.
import { freemem, totalmem } from 'node:os';
import { WIRE_SCHEMA_VERSION, type TelemetrySnapshot } from '../api/index.ts';
import type { ServeConfig } from './config.ts';
import type { HardwareInfo } from './engine-port.ts';
import { intervalToWire } from './plan-controller.ts';
import { Phase, type Serving, type ServingState } from './state.ts';

export function telemetrySnapshot(
  config: ServeConfig,
  state: ServingState,
  serving: Serving,
  hardware: HardwareInfo,
): TelemetrySnapshot {
  const status = serving.engine.status();
  const stats = serving.stats;
  const slo = stats.sloSummary();
  const throughput = stats.throughput();
  const intervals = stats.intervals();
  const budget = status.bandwidthBudgetBytesPerS;
  const limitBytes = config.hostMemory ?? Infinity;
  return {
    schemaVersion: WIRE_SCHEMA_VERSION,
    pod: { name: config.podName ?? null, namespace: config.podNamespace ?? null },
    observedAt: new Date().toISOString(),
    windowSeconds: stats.windowSeconds(),
    uptimeSeconds: (Date.now() - state.startedMs) / 1000,
    ready: state.phase === Phase.READY,
    model: {
      name: serving.modelName,
      numLayers: serving.modelInfo.numLayers,
      layerBytes: serving.modelInfo.layerBytes,
      dtype: serving.modelInfo.dtype,
    },
    hardware: {
      backend: hardware.backend,
      nodeName: config.nodeName ?? null,
      devices: [
        {
          index: 0,
          name: hardware.deviceName,
          uuid: null,
          memoryTotalBytes: Math.round(status.deviceBytesTotal),
          memoryUsedBytes: Math.round(status.deviceBytesUsed),
          computeUtilization: stats.busyFraction(),
          bus:
            hardware.pciBusId === null
              ? null
              : {
                  pciBusId: hardware.pciBusId,
                  switchId: null,
                  rootPortId: null,
                  numaNode: null,
                  linkGeneration: null,
                  linkWidth: null,
                },
        },
      ],
      hostMemoryTotalBytes: Math.min(totalmem(), limitBytes),
      hostMemoryAvailableBytes: freemem(),
      computeSlowdown: stats.computeSlowdown(),
    },
    pools: {
      gpuTotalBytes: Math.round(status.deviceBytesTotal),
      gpuResidentWeightsBytes: Math.round(status.deviceWeightsBytes),
      gpuStagingBytes: Math.round(status.deviceStagingBytes),
      gpuKvBytes: Math.round(status.deviceKvBytes),
      gpuFreeBytes: Math.max(0, Math.round(status.deviceBytesTotal - status.deviceBytesUsed)),
      kvBlocksTotal: status.kvBlocksTotal,
      kvBlocksUsed: status.kvBlocksTotal - status.kvBlocksFree,
      hostCapacityBytes: Math.round(status.hostBytesTotal),
      hostUsedBytes: Math.round(status.hostBytesUsed),
      offloadedLayers: status.offloadedLayers,
      residentLayers: status.residentLayers,
    },
    bandwidth: {
      h2dBytesPerSecond: stats.bandwidth(),
      demandBytesPerSecond: stats.copyDemandBytesPerS(),
      budgetBytesPerSecond: Number.isFinite(budget) ? budget : null,
      copiedBytesTotal: Math.round(status.bytesCopiedTotal),
      stallMsTotal: status.stallMsTotal,
      stallMs: stats.stalls(),
    },
    interval: {
      current: intervalToWire(intervals.current ?? status.interval),
      mean: intervals.mean,
      min: intervals.min === undefined ? null : intervalToWire(intervals.min),
      max: intervals.max === undefined ? null : intervalToWire(intervals.max),
      histogram: intervals.histogram.map((h) => ({
        interval: intervalToWire(h.interval),
        iterations: h.iterations,
      })),
      changes: intervals.changes,
      iterations: intervals.iterations,
    },
    slo: {
      ttftMs: config.sloTtftMs,
      tpotMs: config.sloTpotMs,
      percentile: config.sloPercentile,
      ...slo,
    },
    throughput: {
      ...throughput,
      waiting: serving.engine.waitingCount,
      running: serving.engine.runningCount,
      rejectedTotal: stats.rejectedTotal,
      preemptionsTotal: stats.preemptionsTotal,
    },
    plan: serving.plan.current(),
    ...(hardware.planning ? { planning: hardware.planning } : {}),
  };
}
