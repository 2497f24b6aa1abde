import { describe, expect, it } from 'vitest';
import {
  NO_OFFLOAD,
  PlannerError,
  PlannerErrorCode,
  analyticProfile,
  builtinHardware,
  builtinModel,
  decoderLayerBytes,
  gpuMemoryAtInterval,
  hostMemoryAtInterval,
  intervalOrder,
  latencyModel,
  offloadedLayers,
  planIntervalRange,
  resolveMemoryOptions,
  type PlanInput,
} from '../../src/planner/index.ts';

function input(model: string, gpu: string, ttftMs: number, tpotMs: number): PlanInput {
  const m = builtinModel(model);
  const h = builtinHardware(gpu);
  return {
    model: m,
    hardware: h,
    profile: analyticProfile(m, h),
    slo: { ttftMs, tpotMs },
    workload: { batchSizes: [1, 8, 32], contextLengths: [512, 2048], prefillChunkTokens: 512 },
  };
}

function planError(fn: () => unknown): PlannerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PlannerError) return error;
    throw error;
  }
  throw new Error('expected a PlannerError');
}

describe('offline interval range', () => {
  it('plans llama-13b on a100-40gb: a range that ends at no offloading, host memory = the N_min set', () => {
    const plan = planIntervalRange(input('llama-13b', 'a100-40gb', 2000, 100));
    const model = builtinModel('llama-13b');
    expect(intervalOrder(plan.intervalMin)).toBeLessThan(intervalOrder(plan.intervalMax));
    expect(plan.intervalMax).toBe(NO_OFFLOAD);
    expect(plan.hostMemoryBytes).toBe(plan.offloadedLayersAtMin.length * decoderLayerBytes(model));
    expect(plan.hostMemoryBytes).toBe(hostMemoryAtInterval(model, plan.intervalMin));
    expect(plan.offloadedLayersAtMin).toEqual([...offloadedLayers(plan.intervalMin, 40)]);
    expect(plan.kvCapacityTokensAtMin).toBeGreaterThanOrEqual(plan.kvCapacityTokensAtMax);
    expect(plan.explanation.join(' ')).toContain('fit in a100-40gb without offloading');
  });

  it('sizes host memory for N_min and every interval in the range offloads a subset of it', () => {
    for (const [m, g, ttft, tpot] of [
      ['llama-13b', 'a100-40gb', 2000, 150],
      ['opt-13b', 'a100-40gb', 3000, 200],
      ['llama-13b', 'l4', 10000, 600],
      ['llama-3-8b', 'a10g', 3000, 120],
    ] as const) {
      const plan = planIntervalRange(input(m, g, ttft, tpot));
      const hostSet = new Set(plan.offloadedLayersAtMin);
      for (const entry of plan.intervals) {
        for (const layer of offloadedLayers(entry.interval, builtinModel(m).numLayers))
          expect(hostSet.has(layer)).toBe(true);
        expect(entry.hostMemoryBytes).toBeLessThanOrEqual(plan.hostMemoryBytes);
      }
    }
  });

  it('makes every feasible condition meet its target at its smallest interval', () => {
    const i = input('llama-13b', 'a100-40gb', 2000, 100);
    const plan = planIntervalRange(i);
    const latency = latencyModel(i.model, i.profile);
    for (const c of plan.conditions.filter(
      (x) => x.kind === 'decode' && x.smallestInterval !== null,
    )) {
      const shape = {
        sequences: c.batchSize,
        newTokens: c.batchSize,
        contextTokens: c.batchSize * c.contextTokens,
      };
      expect(
        latency.predict(c.smallestInterval ?? 0, shape, c.bandwidthBytesPerS).iterationMs,
      ).toBeLessThanOrEqual(c.targetMs);
    }
  });

  it('must offload when the model does not fit: llama-13b on an L4 never runs without offloading', () => {
    const plan = planIntervalRange(input('llama-13b', 'l4', 10000, 600));
    expect(plan.intervalMax).not.toBe(NO_OFFLOAD);
    const memory = resolveMemoryOptions();
    expect(
      gpuMemoryAtInterval(builtinModel('llama-13b'), builtinHardware('l4'), NO_OFFLOAD, memory)
        .overCommitted,
    ).toBe(true);
    expect(plan.explanation.join(' ')).toContain('do not fit');
  });

  it('explains an SLO that no interval can meet', () => {
    const error = planError(() => planIntervalRange(input('llama-13b', 'a100-40gb', 2000, 10)));
    expect(error.code).toBe(PlannerErrorCode.SloUnmeetable);
    expect(error.message).toMatch(
      /even with no offloading at the lightest load: TPOT 10 ms: decode of batch 1/,
    );
    const l4 = planError(() => planIntervalRange(input('llama-13b', 'l4', 10000, 300)));
    expect(l4.code).toBe(PlannerErrorCode.SloUnmeetable);
    expect(l4.message).toContain('least offloading that fits');
  });

  it('explains a model that cannot fit even with every layer offloaded', () => {
    const tiny = { ...builtinHardware('l4'), name: 'tiny', gpuMemoryBytes: 4e9 };
    const base = input('llama-3-70b', 'l4', 60000, 20000);
    const error = planError(() =>
      planIntervalRange({ ...base, hardware: tiny, profile: analyticProfile(base.model, tiny) }),
    );
    expect(error.code).toBe(PlannerErrorCode.ModelDoesNotFit);
    expect(error.message).toContain('even with every layer offloaded');
  });

  it('rejects bad workload and SLO values naming the field', () => {
    const bad = { ...input('llama-13b', 'a100-40gb', 2000, 100) };
    expect(
      planError(() => planIntervalRange({ ...bad, slo: { ttftMs: -1, tpotMs: 100 } })).message,
    ).toMatch(/^slo\.ttftMs/);
    expect(
      planError(() =>
        planIntervalRange({ ...bad, workload: { batchSizes: [], contextLengths: [512] } }),
      ).message,
    ).toMatch(/^workload\.batchSizes/);
    expect(
      planError(() =>
        planIntervalRange({ ...bad, workload: { batchSizes: [1], contextLengths: [4096] } }),
      ).field,
    ).toBe('workload.contextLengths');
  });
});
