// The production policies over the planner's real latency model (LLaMA-13B on an A100-40GB,
// analytic profile): the scheduler's N follows the planner's online choice, baselines stay fixed,
// and admission refuses what would break the TPOT target at every allowed N.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyticProfile,
  builtinHardware,
  builtinModel,
  gpuMemoryAtInterval,
  intervalChooser,
  latencyModel,
  resolveMemoryOptions,
} from '../../src/planner/index.ts';
import { createPolicy, fixedIntervalOf } from '../../src/server/policies.ts';
import type { RuntimeStatus } from '../../src/server/engine-port.ts';

const model = builtinModel('llama-13b');
const hardware = builtinHardware('a100-40gb');
const latency = latencyModel(model, analyticProfile(model, hardware));
const memory = resolveMemoryOptions();
const kvCapacityAt = (n: number) =>
  gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens;
const slo = { ttftMs: 2000, tpotMs: 100 };

function status(bandwidth: number, kvBlocksUsed = 0): RuntimeStatus {
  return {
    interval: 0,
    copyBandwidthBytesPerS: bandwidth,
    copyBandwidthP10BytesPerS: bandwidth,
    bandwidthBudgetBytesPerS: Infinity,
    stallMsTotal: 0,
    bytesCopiedTotal: 0,
    deviceBytesTotal: 0,
    deviceBytesUsed: 0,
    deviceWeightsBytes: 0,
    deviceStagingBytes: 0,
    deviceKvBytes: 0,
    hostBytesTotal: 0,
    hostBytesUsed: 0,
    kvBlocksTotal: 100000,
    kvBlocksFree: 100000 - kvBlocksUsed,
    offloadedLayers: 0,
    residentLayers: model.numLayers,
  };
}

const deps = { latency, kvCapacityAt, slo, blockSize: 16, fallbackBandwidthBytesPerS: 12e9 };

describe('serving policies', () => {
  it('select-n picks exactly the planner chooser interval (least offloading holding the KV) for every batch and bandwidth (property)', () => {
    const policy = createPolicy('select-n', deps, { min: 1, max: 0 });
    const chooser = intervalChooser(latency, { intervalMin: 1, intervalMax: 0 }, kvCapacityAt);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 2048 }),
        fc.double({ min: 2e9, max: 32e9, noNaN: true }),
        (seqs, context, bw) => {
          const shape = { sequences: seqs, newTokens: seqs, contextTokens: seqs * context };
          const got = policy.chooseInterval(shape, status(bw), 0);
          const want = chooser.chooseHolding(shape, bw, slo.tpotMs, 0);
          expect(got.interval).toBe(want.interval);
          if (want.meetsTarget) expect(got.predictedMs).toBeLessThanOrEqual(slo.tpotMs);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it('select-n offloads only to hold the KV cache, and no more when the copy bandwidth drops', () => {
    const policy = createPolicy('select-n', deps, { min: 1, max: 0 });
    const shape = { sequences: 16, newTokens: 16, contextTokens: 16 * 512 };
    // KV in use that only fits with some layers offloaded, so the policy must offload.
    const needTokens = kvCapacityAt(0) + 16 * 64;
    const used = Math.ceil(needTokens / 16);
    const order = (n: number) => (n === 0 ? Infinity : n);
    const fast = policy.chooseInterval(shape, status(24e9, used), 0).interval;
    expect(order(fast)).toBeLessThan(Infinity);
    expect(kvCapacityAt(fast)).toBeGreaterThanOrEqual(needTokens);
    const slow = policy.chooseInterval(shape, status(3e9, used), 0).interval;
    expect(order(slow)).toBeGreaterThanOrEqual(order(fast));
    // Without KV pressure nothing is offloaded at all.
    expect(policy.chooseInterval(shape, status(24e9), 0).interval).toBe(0);
  });

  it('fixed policies keep their N whatever the batch, bandwidth or plan range', () => {
    expect(fixedIntervalOf('no-offload', 40)).toBe(0);
    expect(fixedIntervalOf('full-streaming', 40)).toBe(1);
    expect(fixedIntervalOf('fixed-n-4', 40)).toBe(4);
    expect(() => fixedIntervalOf('fastest', 40)).toThrow(/unknown policy/);
    for (const [name, n] of [
      ['fixed-n-4', 4],
      ['no-offload', 0],
      ['full-streaming', 1],
    ] as const) {
      const policy = createPolicy(name, deps, { min: 1, max: 0 });
      policy.setRange(2, 8);
      for (const bw of [3e9, 24e9]) {
        expect(
          policy.chooseInterval(
            { sequences: 8, newTokens: 8, contextTokens: 4096 },
            status(bw),
            4096,
          ).interval,
        ).toBe(n);
      }
    }
  });

  it('admits while some allowed N meets the TPOT target and refuses past it', () => {
    const policy = createPolicy('select-n', deps, { min: 1, max: 0 });
    const small = policy.admit(
      {
        running: { sequences: 4, newTokens: 4, contextTokens: 2048 },
        candidateTokens: 64,
        waitedMs: 0,
        chunkTokens: 512,
        resumed: false,
        runningSequences: 4,
        reservedTokens: 4 * 640,
        candidateReservedTokens: 192,
        promptTokensPerIteration: 5 * (64 / 128),
        maxChunkTokens: 512,
        prefilling: [],
      },
      status(12e9),
    );
    expect(small.admit).toBe(true);
    expect(small.predictedTpotMs).toBeLessThanOrEqual(slo.tpotMs);
    const huge = policy.admit(
      {
        running: { sequences: 200, newTokens: 200, contextTokens: 200 * 2048 },
        candidateTokens: 4096,
        waitedMs: 0,
        chunkTokens: 4096,
        resumed: false,
        runningSequences: 200,
        reservedTokens: 200 * 2048,
        candidateReservedTokens: 4096,
        promptTokensPerIteration: 201,
        maxChunkTokens: 4096,
        prefilling: [],
      },
      status(12e9),
    );
    expect(huge.admit).toBe(false);
    expect(huge.reason).toMatch(/latency|kv-capacity/);
  });

  it('scales predictions by the measured compute speed: a device slower than its profile admits less', () => {
    const policy = createPolicy('select-n', deps, { min: 1, max: 0 });
    const query = {
      running: { sequences: 24, newTokens: 24, contextTokens: 24 * 600 },
      candidateTokens: 64,
      waitedMs: 0,
      chunkTokens: 512,
      resumed: false,
      runningSequences: 24,
      reservedTokens: 24 * 600,
      candidateReservedTokens: 600,
      promptTokensPerIteration: 25 * (64 / 536),
      maxChunkTokens: 512,
      prefilling: [],
    };
    const before = policy.admit(query, status(24e9));
    expect(before.admit).toBe(true);
    expect(policy.timeScale).toBe(1);
    // Iterations run 4x slower than predicted: the scale follows, and the same batch no longer fits.
    for (let i = 0; i < 100; i++) policy.observeIteration(30, 120);
    expect(policy.timeScale).toBeGreaterThan(3.9);
    expect(policy.timeScale).toBeLessThanOrEqual(4);
    const after = policy.admit(query, status(24e9));
    expect(after.admit).toBe(false);
    expect(after.reason).toMatch(/latency/);
    // Nonsense samples are ignored; a stray outlier moves the scale only by its bounded weight.
    policy.observeIteration(0, 50);
    policy.observeIteration(10, Number.NaN);
    expect(policy.timeScale).toBeGreaterThan(3.9);
    policy.observeIteration(1, 1e6);
    expect(policy.timeScale).toBeLessThanOrEqual(4 + 0.1 * (8 - 4) + 1e-9);
  });
});
