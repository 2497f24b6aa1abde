// KV demand of a sliding-window model: a decoding sequence holds at most its window plus one block
// (blocks wholly before the window go back to the pool), so the planner's per-request KV demand and
// the capacity check use that cap instead of the whole context.
import { describe, expect, it } from 'vitest';
import {
  KV_BLOCK_TOKENS,
  analyticProfile,
  builtinHardware,
  builtinModel,
  kvTokensHeld,
  planIntervalRange,
  type ModelDescription,
  type PlanInput,
} from '../../src/planner/index.ts';

describe('kvTokensHeld', () => {
  it('is the whole context without a window', () => {
    expect(kvTokensHeld(5000, undefined, 16)).toBe(5000);
  });

  it('caps a windowed sequence at the window plus one block, in whole blocks', () => {
    expect(kvTokensHeld(32768, 4096, 16)).toBe(4096 + 16);
    expect(kvTokensHeld(32768, 6, 4)).toBe(12); // ceil(6 / 4) + 1 blocks
    expect(kvTokensHeld(32768, 2047, 16)).toBe(2048 + 16);
    expect(kvTokensHeld(100, 4096, 16)).toBe(100); // shorter than the window: all of it
  });
});

describe('offline range of a sliding-window model', () => {
  const base = builtinModel('llama-13b');
  const long: ModelDescription = { ...base, name: 'long', maxPositionEmbeddings: 8192 };
  const windowed: ModelDescription = { ...long, name: 'windowed', slidingWindow: 1024 };
  const input = (model: ModelDescription): PlanInput => {
    const h = builtinHardware('a100-40gb');
    return {
      model,
      hardware: h,
      profile: analyticProfile(model, h),
      slo: { ttftMs: 1e6, tpotMs: 1e5 },
      workload: { batchSizes: [1, 8], contextLengths: [512, 8192], prefillChunkTokens: 512 },
    };
  };

  it('counts each decoding sequence at min(context, window + 1 block), prefills in full', () => {
    const plan = planIntervalRange(input(windowed));
    const held = 1024 + KV_BLOCK_TOKENS;
    for (const c of plan.conditions) {
      const perSeq = Math.min(c.contextTokens, held);
      if (c.kind === 'decode') expect(c.kvTokensNeeded).toBe(c.batchSize * perSeq);
      if (c.kind === 'mixed') expect(c.kvTokensNeeded).toBe(c.batchSize * perSeq + 512);
      if (c.kind === 'prefill') expect(c.kvTokensNeeded).toBe(c.contextTokens);
    }
    const decode = plan.conditions.find(
      (c) => c.kind === 'decode' && c.batchSize === 8 && c.contextTokens === 8192,
    );
    expect(decode?.kvTokensNeeded).toBe(8 * held);
  });

  it('fits a long-context batch that the same model without a window cannot hold', () => {
    const full = planIntervalRange(input(long));
    const win = planIntervalRange(input(windowed));
    const at = (p: typeof full) =>
      p.conditions.find(
        (c) => c.kind === 'decode' && c.batchSize === 8 && c.contextTokens === 8192,
      );
    expect(at(full)?.kvTokensNeeded).toBe(8 * 8192);
    expect(at(full)?.infeasibleReason).toMatch(/KV tokens/);
    expect(at(win)?.infeasibleReason).toBeUndefined();
    expect(at(win)?.smallestInterval).not.toBeNull();
  });
});
