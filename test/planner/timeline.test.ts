import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  predictIteration,
  predictIterationDetail,
  predictSerialCopyIteration,
} from '../../src/planner/index.ts';
import { simulateIterationEvents } from './event-simulation.ts';

const timelineCase = fc
  .record({
    computeMs: fc.array(fc.double({ min: 0, max: 20, noNaN: true }), {
      minLength: 1,
      maxLength: 48,
    }),
    offloadMask: fc.array(fc.boolean(), { minLength: 48, maxLength: 48 }),
    copyMs: fc.double({ min: 0, max: 60, noNaN: true }),
    slots: fc.integer({ min: 1, max: 5 }),
    outsideLayersMs: fc.double({ min: 0, max: 5, noNaN: true }),
  })
  .map((c) => ({
    ...c,
    offloaded: c.computeMs.map((_, i) => i).filter((i) => c.offloadMask[i] === true),
  }));

const close = (a: number, b: number): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));
};

describe('iteration timeline', () => {
  it('equals a brute-force discrete-event simulation on random inputs', () => {
    fc.assert(
      fc.property(timelineCase, (c) => {
        const fast = predictIteration({
          computeMs: c.computeMs,
          numLayers: c.computeMs.length,
          offloaded: c.offloaded,
          copyMs: c.copyMs,
          stagingSlots: c.slots,
          outsideLayersMs: c.outsideLayersMs,
        });
        const slow = simulateIterationEvents({ ...c, slots: c.slots });
        close(fast.iterationMs, slow.iterationMs);
        close(fast.stallMs, slow.stallMs);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same answer with per-layer detail, and the detail respects every constraint', () => {
    fc.assert(
      fc.property(timelineCase, (c) => {
        const input = {
          computeMs: c.computeMs,
          numLayers: c.computeMs.length,
          offloaded: c.offloaded,
          copyMs: c.copyMs,
          stagingSlots: c.slots,
          outsideLayersMs: c.outsideLayersMs,
        };
        const detail = predictIterationDetail(input);
        close(detail.iterationMs, predictIteration(input).iterationMs);
        const copies = detail.layers.filter((l) => l.copyEndMs !== undefined);
        copies.forEach((l, j) => {
          expect(l.startMs).toBeGreaterThanOrEqual(l.copyEndMs ?? 0);
          if (j > 0)
            expect(l.copyStartMs ?? 0).toBeGreaterThanOrEqual(copies[j - 1]?.copyEndMs ?? 0);
          if (j >= c.slots)
            expect(l.copyStartMs ?? 0).toBeGreaterThanOrEqual(copies[j - c.slots]?.endMs ?? 0);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('never predicts a shorter iteration when bandwidth drops (copies get longer)', () => {
    fc.assert(
      fc.property(timelineCase, fc.double({ min: 1, max: 10, noNaN: true }), (c, factor) => {
        const base = {
          computeMs: c.computeMs,
          numLayers: c.computeMs.length,
          offloaded: c.offloaded,
          stagingSlots: c.slots,
          outsideLayersMs: c.outsideLayersMs,
        };
        const fast = predictIteration({ ...base, copyMs: c.copyMs }).iterationMs;
        const slow = predictIteration({ ...base, copyMs: c.copyMs * factor }).iterationMs;
        expect(slow).toBeGreaterThanOrEqual(fast - 1e-9);
      }),
    );
  });

  it('never predicts a shorter iteration when more layers are offloaded (supersets)', () => {
    fc.assert(
      fc.property(
        timelineCase,
        fc.array(fc.boolean(), { minLength: 48, maxLength: 48 }),
        (c, extra) => {
          const superset = c.computeMs
            .map((_, i) => i)
            .filter((i) => c.offloadMask[i] === true || extra[i] === true);
          const base = {
            computeMs: c.computeMs,
            numLayers: c.computeMs.length,
            copyMs: c.copyMs,
            stagingSlots: c.slots,
            outsideLayersMs: c.outsideLayersMs,
          };
          const fewer = predictIteration({ ...base, offloaded: c.offloaded }).iterationMs;
          const more = predictIteration({ ...base, offloaded: superset }).iterationMs;
          expect(more).toBeGreaterThanOrEqual(fewer - 1e-9);
        },
      ),
    );
  });

  it('hides a copy entirely behind enough compute and stalls when there is not enough', () => {
    const computeMs = [10, 10, 10, 10];
    const hidden = predictIteration({
      computeMs,
      numLayers: 4,
      offloaded: [3],
      copyMs: 25,
      stagingSlots: 1,
      outsideLayersMs: 0,
    });
    expect(hidden).toEqual({ iterationMs: 40, stallMs: 0 });
    const stalled = predictIteration({
      computeMs,
      numLayers: 4,
      offloaded: [1],
      copyMs: 25,
      stagingSlots: 1,
      outsideLayersMs: 2,
    });
    expect(stalled.iterationMs).toBe(57);
    expect(stalled.stallMs).toBe(15);
  });

  it('makes a copy wait for its slot: with one slot the second copy starts when the first layer ran', () => {
    const r = predictIterationDetail({
      computeMs: [5, 5, 5],
      numLayers: 3,
      offloaded: [1, 2],
      copyMs: 4,
      stagingSlots: 1,
      outsideLayersMs: 0,
    });
    expect(r.layers[2]?.copyStartMs).toBe(10);
    expect(r.iterationMs).toBe(19);
  });

  it('charges zero-copy reads in full, with no overlap', () => {
    const r = predictSerialCopyIteration({
      computeMs: [1, 2, 3],
      numLayers: 3,
      offloaded: [0, 2],
      copyMs: 10,
      stagingSlots: 1,
      outsideLayersMs: 1,
    });
    expect(r).toEqual({ iterationMs: 27, stallMs: 20 });
  });
});
