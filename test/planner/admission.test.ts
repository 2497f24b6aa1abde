// admitWithGrowth and the chooser's KV budget, on llama-13b / A100 40 GB (analytic profile).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  admitWithGrowth,
  analyticProfile,
  builtinHardware,
  builtinModel,
  gpuMemoryAtInterval,
  intervalChooser,
  latencyModel,
  meanIterationMs,
  prefillShare,
  promptTokensPerIteration,
  resolveMemoryOptions,
  type GrowthAdmissionQuery,
} from '../../src/planner/index.ts';

const model = builtinModel('llama-13b');
const hardware = builtinHardware('a100-40gb');
const latency = latencyModel(model, analyticProfile(model, hardware));
const memory = resolveMemoryOptions();
const capacityAt = (n: number): number =>
  gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens;
const chooser = intervalChooser(latency, { intervalMin: 1, intervalMax: 0 }, capacityAt);
const slo = { ttftMs: 2000, tpotMs: 100 };

/** n running sequences reserving `each` tokens, a candidate reserving `candidate`. */
function query(n: number, each: number, candidate: number, bw = 24e9): GrowthAdmissionQuery {
  return {
    decodeWith: { sequences: n + 1, newTokens: n + 1, contextTokens: n * each + candidate },
    decodeWithout: { sequences: n, newTokens: n, contextTokens: n * each },
    prefillWith: {
      sequences: n + 1,
      newTokens: n + 512,
      contextTokens: n * each + candidate + 512,
    },
    prefillShare: 0.05,
    chunkWith: { sequences: n + 1, newTokens: n + 256, contextTokens: n * each + 256 },
    chunkWithout: { sequences: n, newTokens: n, contextTokens: n * each },
    reservedWithout: n * each,
    reservedWith: n * each + candidate,
    candidatePrefillIterations: 1,
    candidateWaitedMs: 0,
    prefilling: [],
    bandwidthBytesPerS: bw,
    slo,
  };
}

describe('admitWithGrowth', () => {
  it('admits at the least offloading holding the reservations when it meets the TPOT', () => {
    const d = admitWithGrowth(chooser, query(8, 768, 768));
    expect(d).toMatchObject({ admit: true, interval: 0, ttftMet: true });
    if (d.admit) expect(d.predictedTpotMs).toBeLessThanOrEqual(slo.tpotMs);
  });

  it('refuses what no interval holds, and what breaks the TPOT at the interval that holds it', () => {
    const huge = admitWithGrowth(chooser, query(10, 1000, 1e6));
    expect(huge).toMatchObject({ admit: false, reason: 'kv-capacity' });
    // Reservations past N = none's capacity: the holding interval streams layers over PCIe 4.
    const each = Math.ceil(capacityAt(0) / 20);
    const deep = admitWithGrowth(chooser, query(20, each, capacityAt(1) - 20 * each - 16));
    expect(deep).toMatchObject({ admit: false, reason: 'latency' });
  });

  it('offloads to admit only when decode throughput rises (not on PCIe 4, yes on a 200 GB/s link)', () => {
    const n = 24;
    const each = Math.floor(capacityAt(0) / n);
    const candidate = 512;
    expect(admitWithGrowth(chooser, query(n, each, candidate, 24e9))).toMatchObject({
      admit: false,
      reason: 'throughput',
    });
    const fast = admitWithGrowth(chooser, query(n, each, candidate, 200e9));
    expect(fast.admit).toBe(true);
    if (fast.admit) expect(fast.interval).not.toBe(0);
  });

  it('refuses a candidate whose prefill chunk would push a running prefill past its TTFT', () => {
    const q = query(8, 768, 768);
    const withMs = latency.predict(0, q.chunkWith, 24e9).iterationMs;
    const withoutMs = latency.predict(0, q.chunkWithout, 24e9).iterationMs;
    expect(withMs).toBeGreaterThan(withoutMs);
    const iterationsLeft = 10;
    const msLeft = (iterationsLeft * (withMs + withoutMs)) / 2;
    expect(
      admitWithGrowth(chooser, { ...q, prefilling: [{ iterationsLeft, msLeft }] }),
    ).toMatchObject({ admit: false, reason: 'ttft' });
    // Already lost without the candidate: refusing would not save it.
    expect(
      admitWithGrowth(chooser, {
        ...q,
        prefilling: [{ iterationsLeft, msLeft: iterationsLeft * withoutMs * 0.5 }],
      }).admit,
    ).toBe(true);
  });

  it('prices the mean TPOT over the batch life, not every iteration as carrying a full chunk', () => {
    // Four running requests of 256-token prompts and 128-token outputs: one iteration in ~40
    // carries a chunk. The chunk iteration alone exceeds a 70 ms TPOT; the mean does not.
    const tight = { ttftMs: 2000, tpotMs: 70 };
    const q = { ...query(4, 384, 384), slo: tight, prefillShare: prefillShare(5 * 2, 512) };
    expect(latency.predict(0, q.prefillWith, 24e9).iterationMs).toBeGreaterThan(tight.tpotMs);
    const d = admitWithGrowth(chooser, q);
    expect(d).toMatchObject({ admit: true, interval: 0 });
    expect(d.predictedTpotMs).toBeCloseTo(
      meanIterationMs(
        latency.predict(0, q.decodeWith, 24e9).iterationMs,
        latency.predict(0, q.prefillWith, 24e9).iterationMs,
        q.prefillShare,
      ),
      6,
    );
    // Prompts long against their outputs (every iteration carries a chunk): refused.
    const heavy = admitWithGrowth(chooser, { ...q, prefillShare: 1 });
    expect(heavy).toMatchObject({ admit: false, reason: 'latency' });
  });

  it('admits a late candidate (waiting cannot help it) and says its TTFT is missed', () => {
    const d = admitWithGrowth(chooser, { ...query(4, 512, 512), candidateWaitedMs: 5000 });
    expect(d).toMatchObject({ admit: true, ttftMet: false });
  });

  it('every admission meets the TPOT and holds the reservations at its interval (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 64, max: 2048 }),
        fc.integer({ min: 64, max: 2048 }),
        fc.double({ min: 4e9, max: 200e9, noNaN: true }),
        (n, each, candidate, bw) => {
          const d = admitWithGrowth(chooser, query(n, each, candidate, bw));
          if (!d.admit) return;
          expect(d.predictedTpotMs).toBeLessThanOrEqual(slo.tpotMs);
          expect(capacityAt(d.interval)).toBeGreaterThanOrEqual(n * each + candidate);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe('kvBudgetTokens', () => {
  it('is the capacity of the most offloading interval meeting the target, N = none when none does', () => {
    const shape = { sequences: 16, newTokens: 16, contextTokens: 16 * 512 };
    expect(chooser.kvBudgetTokens(shape, 24e9, 100)).toBeLessThan(capacityAt(1));
    expect(chooser.kvBudgetTokens(shape, 24e9, 100)).toBeGreaterThanOrEqual(capacityAt(0));
    expect(chooser.kvBudgetTokens(shape, 24e9, 1)).toBe(capacityAt(0));
    expect(chooser.kvBudgetTokens(shape, 24e9, 1e6)).toBe(capacityAt(1));
    // A slower link never allows more.
    expect(chooser.kvBudgetTokens(shape, 12e9, 100)).toBeLessThanOrEqual(
      chooser.kvBudgetTokens(shape, 24e9, 100),
    );
  });
});

describe('mean TPOT over a batch life', () => {
  it('takes prefill intake per decode step over the chunk size as the share of chunk iterations', () => {
    const batch = [
      { promptTokens: 256, outputTokens: 128 },
      { promptTokens: 1024, outputTokens: 64 },
    ];
    expect(promptTokensPerIteration(batch)).toBe(18);
    expect(prefillShare(18, 512)).toBeCloseTo(18 / 512, 12);
    expect(prefillShare(2000, 512)).toBe(1);
    expect(prefillShare(-1, 512)).toBe(0);
    expect(() => prefillShare(1, 0)).toThrow(/chunkTokens must be positive/);
    expect(meanIterationMs(20, 120, 0.1)).toBeCloseTo(30, 12);
    expect(meanIterationMs(20, 120, 0)).toBe(20);
    expect(meanIterationMs(20, 120, 1)).toBe(120);
  });
});
