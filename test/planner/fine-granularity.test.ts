// Beyond the paper (issue 14 part 4): offload sets that include a fraction of a layer, nested in
// the paper's order, so any host-memory amount is reachable (also the 41-79 layers of an 80-layer
// model that whole intervals skip), and Select-N choosing among them online.
import { describe, expect, it } from 'vitest';
import {
  amountChooser,
  analyticProfile,
  builtinHardware,
  builtinModel,
  fineOffloadSet,
  fineSelectNPolicy,
  gpuMemoryAtAmount,
  gpuMemoryAtInterval,
  intervalPolicy,
  latencyModel,
  nestedOffloadOrder,
  offloadedLayerCount,
  offloadedLayers,
  predictIteration,
  resolveMemoryOptions,
  searchCapacity,
  type PolicyContext,
} from '../../src/planner/index.ts';

describe('fine offload sets', () => {
  it('take whole layers in the nested order and a fraction of the next one', () => {
    const L = 40;
    const order = nestedOffloadOrder(L);
    const whole = fineOffloadSet(4, L);
    expect(Array.from(whole.layers)).toEqual(Array.from(offloadedLayers(10, L)));
    expect(whole).toMatchObject({ partialLayer: -1, partialFraction: 0 });
    const split = fineOffloadSet(4.25, L);
    expect(split.partialLayer).toBe(order[4]);
    expect(split.partialFraction).toBeCloseTo(0.25, 12);
    expect(Array.from(split.layers)).toContain(order[4]);
    expect(split.layers).toHaveLength(5);
    // Nested: every smaller amount's layers are in every larger one's.
    for (let a = 0; a < L; a += 0.5) {
      const small = new Set(fineOffloadSet(a, L).layers);
      const big = new Set(fineOffloadSet(a + 0.5, L).layers);
      for (const layer of small) expect(big.has(layer)).toBe(true);
    }
    expect(() => fineOffloadSet(40.5, L)).toThrow(/outside 0..40/);
  });

  it('copy only their fraction of the split layer', () => {
    const L = 8;
    const computeMs = new Float64Array(L).fill(1);
    const base = { computeMs, numLayers: L, offloaded: [3], copyMs: 10, stagingSlots: 2 };
    const full = predictIteration({ ...base, outsideLayersMs: 0 });
    const quarter = predictIteration({
      ...base,
      outsideLayersMs: 0,
      partialLayer: 3,
      partialFraction: 0.25,
    });
    expect(full.iterationMs).toBe(8 + 10 - 3);
    expect(quarter.iterationMs).toBe(8);
    const half = predictIteration({
      ...base,
      outsideLayersMs: 0,
      partialLayer: 3,
      partialFraction: 0.5,
    });
    expect(half.iterationMs).toBe(8 + 5 - 3);
  });

  it('reach host-memory amounts whole intervals cannot: 41-79 layers of an 80-layer model', () => {
    const model = builtinModel('llama-3-70b');
    const hardware = builtinHardware('a100-80gb');
    const memory = resolveMemoryOptions({ maxBatchTokens: 512 });
    expect(model.numLayers).toBe(80);
    const wholeCounts = new Set<number>();
    for (let n = 1; n <= 80; n++) wholeCounts.add(offloadedLayerCount(n, 80));
    expect(wholeCounts.has(50)).toBe(false);
    const at50 = gpuMemoryAtAmount(model, hardware, 50, memory).kvCapacityTokens;
    const at40 = gpuMemoryAtInterval(model, hardware, 2, memory).kvCapacityTokens;
    const at80 = gpuMemoryAtInterval(model, hardware, 1, memory).kvCapacityTokens;
    expect(at50).toBeGreaterThan(at40);
    expect(at50).toBeLessThan(at80);
    // At whole amounts the accounting is the interval's.
    expect(gpuMemoryAtAmount(model, hardware, 40, memory).kvCapacityTokens).toBe(at40);
    const latency = latencyModel(model, analyticProfile(model, hardware));
    const amounts = [50.5, 50.25, 50, 41];
    const chooser = amountChooser(
      latency,
      amounts,
      (a) => gpuMemoryAtAmount(model, hardware, a, memory).kvCapacityTokens,
    );
    expect(chooser.candidates).toEqual(amounts);
    // The least offloading holding the KV in use.
    expect(chooser.holdingIndex(at50)).toBe(2);
    expect(() => amountChooser(latency, [2, 3], () => 0)).toThrow(/strictly decreasing/);
  });
});

describe('select-n with fine offload amounts', () => {
  it('serves at least the capacity of whole-layer select-n where memory binds (llama-13b, L4)', () => {
    const model = builtinModel('llama-13b');
    const hardware = builtinHardware('l4');
    const profile = analyticProfile(model, hardware);
    const slo = { ttftMs: 10_000, tpotMs: 600 };
    const ctx: PolicyContext = {
      model,
      hardware,
      profile,
      latency: latencyModel(model, profile),
      memory: resolveMemoryOptions({ maxBatchTokens: 512 }),
      slo,
    };
    const scheduler = {
      tokenBudget: 512,
      maxRunningSequences: 256,
      outputReserveTokens: 128,
      maxSimulatedMs: Infinity,
    };
    const search = {
      trace: { arrivals: 'poisson' as const, requests: 300 },
      seeds: [1, 2, 3],
      targets: [0.99],
      startRatePerS: 0.1,
      relativeTolerance: 0.05,
      minRatePerS: 1 / 256,
      maxRatePerS: 64,
    };
    const bw = { initialBytesPerS: hardware.hostLink.maxBytesPerS };
    const whole = intervalPolicy(ctx, 'select-n', { intervalMin: 2, intervalMax: 0 }, 2048);
    const fine = fineSelectNPolicy(ctx, 'select-n-fine', 22.5, 0.25, 2048);
    expect(fine.hostMemoryBytes).toBeGreaterThan(whole.hostMemoryBytes);
    const w = searchCapacity(whole, slo, bw, scheduler, search).results[0];
    const f = searchCapacity(fine, slo, bw, scheduler, search).results[0];
    expect(f?.capacityRps ?? 0).toBeGreaterThanOrEqual(w?.capacityRps ?? Infinity);
    expect(f?.sloAttainment).toBeGreaterThanOrEqual(0.99);
  });
});
