import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  NO_OFFLOAD,
  analyticProfile,
  builtinHardware,
  builtinModel,
  gpuMemoryAtInterval,
  intervalChooser,
  intervalOrder,
  latencyModel,
  resolveMemoryOptions,
} from '../../src/planner/index.ts';

const model = builtinModel('llama-13b');
const hardware = builtinHardware('a100-40gb');
const latency = latencyModel(model, analyticProfile(model, hardware));
const memory = resolveMemoryOptions();
const capacityAt = (n: number): number =>
  gpuMemoryAtInterval(model, hardware, n, memory).kvCapacityTokens;

const situation = fc.record({
  intervalMin: fc.integer({ min: 1, max: 40 }),
  intervalMaxRaw: fc.integer({ min: 1, max: 41 }),
  sequences: fc.integer({ min: 1, max: 64 }),
  chunk: fc.integer({ min: 0, max: 1024 }),
  context: fc.integer({ min: 16, max: 2048 }),
  bandwidthGBps: fc.double({ min: 4, max: 30, noNaN: true }),
  targetMs: fc.double({ min: 10, max: 1500, noNaN: true }),
});

describe('online interval choice', () => {
  it('meets the target whenever some interval in the range does, and picks the smallest such N', () => {
    fc.assert(
      fc.property(situation, (s) => {
        const max =
          s.intervalMaxRaw === 41 ? NO_OFFLOAD : Math.max(s.intervalMin, s.intervalMaxRaw);
        const chooser = intervalChooser(
          latency,
          { intervalMin: s.intervalMin, intervalMax: max },
          capacityAt,
        );
        const shape = {
          sequences: s.sequences + (s.chunk > 0 ? 1 : 0),
          newTokens: s.sequences + s.chunk,
          contextTokens: s.sequences * s.context + s.chunk,
        };
        const bandwidth = s.bandwidthGBps * 1e9;
        const choice = chooser.choose(shape, bandwidth, s.targetMs);
        const meeting = chooser.candidates.filter(
          (n) => latency.predict(n, shape, bandwidth).iterationMs <= s.targetMs,
        );
        if (meeting.length > 0) {
          expect(choice.meetsTarget).toBe(true);
          expect(choice.predictedMs).toBeLessThanOrEqual(s.targetMs);
          expect(choice.interval).toBe(meeting[0]);
        } else {
          expect(choice.meetsTarget).toBe(false);
          expect(choice.interval).toBe(chooser.candidates[chooser.candidates.length - 1]);
        }
        expect(intervalOrder(choice.interval)).toBeGreaterThanOrEqual(s.intervalMin);
      }),
      { numRuns: 300 },
    );
  });

  it('never leaves the range and never picks an interval whose KV capacity is below what is in use', () => {
    fc.assert(
      fc.property(situation, fc.integer({ min: 0, max: 16000 }), (s, inUse) => {
        const chooser = intervalChooser(
          latency,
          { intervalMin: s.intervalMin, intervalMax: NO_OFFLOAD },
          capacityAt,
        );
        const shape = {
          sequences: s.sequences,
          newTokens: s.sequences,
          contextTokens: s.sequences * s.context,
        };
        for (const choice of [
          chooser.choose(shape, s.bandwidthGBps * 1e9, s.targetMs, inUse),
          chooser.chooseHolding(shape, s.bandwidthGBps * 1e9, s.targetMs, inUse),
        ]) {
          expect(chooser.candidates).toContain(choice.interval);
          if (capacityAt(chooser.candidates[0] ?? 0) >= inUse)
            expect(capacityAt(choice.interval)).toBeGreaterThanOrEqual(inUse);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('chooseHolding offloads nothing when the KV in use fits without offloading', () => {
    const chooser = intervalChooser(
      latency,
      { intervalMin: 5, intervalMax: NO_OFFLOAD },
      capacityAt,
    );
    const shape = { sequences: 8, newTokens: 8, contextTokens: 8 * 512 };
    expect(chooser.chooseHolding(shape, 24e9, 100, 4096).interval).toBe(NO_OFFLOAD);
    expect(chooser.choose(shape, 24e9, 100, 4096).interval).not.toBe(NO_OFFLOAD);
  });

  it('admits only when some interval meets the target with room for the KV cache', () => {
    const chooser = intervalChooser(
      latency,
      { intervalMin: 5, intervalMax: NO_OFFLOAD },
      capacityAt,
    );
    const shape = { sequences: 8, newTokens: 512, contextTokens: 8 * 512 };
    expect(chooser.admit(shape, 24e9, 100, 1000)).toMatchObject({ admit: true });
    expect(chooser.admit(shape, 24e9, 5, 1000)).toMatchObject({ admit: false, reason: 'latency' });
    expect(chooser.admit(shape, 24e9, 100, 10_000_000)).toMatchObject({
      admit: false,
      reason: 'kv-capacity',
    });
    // On an A100 one layer's copy costs more than a decode iteration: offloading to admit is refused.
    const small = { sequences: 30, newTokens: 512, contextTokens: 30 * 500 };
    const decode = { sequences: 30, newTokens: 30, contextTokens: 30 * 500 };
    const decision = chooser.admitOffloading(
      { decode, prefill: small, prefillShare: 0.1 },
      capacityAt(NO_OFFLOAD) + 200,
      decode,
      capacityAt(NO_OFFLOAD) - 300,
      24e9,
      100,
    );
    expect(decision).toMatchObject({ admit: false, reason: 'throughput' });
  });
});
