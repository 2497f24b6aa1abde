import { describe, expect, it } from 'vitest';
import type { TelemetryStatus } from '../../src/api/index.ts';
import {
  aggregateTelemetry,
  podFigures,
  podFiguresChanged,
  telemetryChanged,
} from '../../src/operator/telemetry/aggregate.ts';
import { forEachLimited } from '../../src/operator/telemetry/limit.ts';
import { snapshot } from './telemetry-fixtures.ts';

describe('aggregateTelemetry', () => {
  it('is undefined without a fresh pod', () => {
    expect(aggregateTelemetry([])).toBeUndefined();
  });

  it('weighs attainment by finished requests, sums rates, takes the worst tail', () => {
    const a = snapshot({
      finished: 90,
      violated: 0,
      tokensPerS: 300,
      waiting: 3,
      ttftP99: 400,
      tpotP99: 30,
      hostUsedBytes: 1000,
      bandwidthP50: 2e9,
      observedAt: '2025-01-01T00:00:02.000Z',
    });
    const b = snapshot({
      finished: 10,
      violated: 5,
      tokensPerS: 100,
      waiting: 1,
      ttftP99: 900,
      tpotP99: 10,
      hostUsedBytes: 3000,
      bandwidthP50: null,
      observedAt: '2025-01-01T00:00:05.000Z',
    });
    expect(aggregateTelemetry([a, b])).toEqual({
      // 95 of 100 requests met the SLO; the per-pod mean would be 0.75.
      sloAttainment: 0.95,
      tokensPerSecond: 400,
      ttftP99Ms: 900,
      tpotP99Ms: 30,
      queueDepth: 4,
      meanInterval: 4,
      hostMemoryUsedBytes: 4000,
      copyBandwidthBytesPerSecond: 2e9,
      observedAt: '2025-01-01T00:00:05.000Z',
    });
  });

  it('has no attainment while no request finished, and no interval while none offloaded', () => {
    const idle = snapshot({ finished: 0, interval: null, ttftP99: null, tpotP99: null });
    expect(aggregateTelemetry([idle])).toMatchObject({
      sloAttainment: null,
      meanInterval: null,
      ttftP99Ms: null,
      tpotP99Ms: null,
    });
  });

  it('weights the mean interval by the iterations that offloaded', () => {
    const a = snapshot({ interval: 2, offloadIterations: 300 });
    const b = snapshot({ interval: 8, offloadIterations: 100 });
    expect(aggregateTelemetry([a, b])?.meanInterval).toBe((2 * 300 + 8 * 100) / 400);
  });
});

describe('podFigures', () => {
  it('takes interval, attainment and the bus of the first device', () => {
    const s = snapshot({
      interval: 3,
      finished: 4,
      violated: 1,
      node: 'gpu-1',
      pciBusId: '0000:3b:00.0',
      switchId: '0000:3a:00.0',
    });
    expect(podFigures(s)).toEqual({
      interval: 3,
      sloAttainment: 0.75,
      bus: 'gpu-1/0000:3a:00.0',
      pciBusId: '0000:3b:00.0',
      // the fixture's plan in force: generation 0 from "planner: test", range [2, 8]
      planBasis: 'planner',
      planGeneration: 0,
      intervalRange: '2-8',
    });
    expect(podFigures(snapshot({ node: 'n' })).bus).toBe('n/cpu');
  });
});

describe('telemetryChanged', () => {
  const base = aggregateTelemetry([snapshot({ finished: 1000, violated: 0 })]) as TelemetryStatus;
  const moved = (over: Partial<TelemetryStatus>) => ({ ...base, ...over });

  it('ignores timestamps and small moves', () => {
    expect(telemetryChanged(base, moved({ observedAt: '2030-01-01T00:00:00.000Z' }), 0.99)).toBe(
      false,
    );
    expect(telemetryChanged(base, moved({ tokensPerSecond: 105 }), 0.99)).toBe(false);
    expect(telemetryChanged(base, moved({ sloAttainment: 0.998 }), 0.9)).toBe(false);
    expect(telemetryChanged(base, moved({ queueDepth: 1 }), 0.99)).toBe(true);
    expect(telemetryChanged(moved({ queueDepth: 5 }), moved({ queueDepth: 6 }), 0.99)).toBe(false);
  });

  it('counts appearing and vanishing figures, threshold moves and target crossings', () => {
    expect(telemetryChanged(undefined, base, 0.99)).toBe(true);
    expect(telemetryChanged(base, undefined, 0.99)).toBe(true);
    expect(telemetryChanged(undefined, undefined, 0.99)).toBe(false);
    expect(telemetryChanged(base, moved({ sloAttainment: null }), 0.99)).toBe(true);
    expect(telemetryChanged(base, moved({ tokensPerSecond: 120 }), 0.99)).toBe(true);
    expect(telemetryChanged(base, moved({ sloAttainment: 0.99 }), 0.5)).toBe(true);
    // 0.997 -> 0.993 is below the threshold, but crosses a 0.995 target.
    const a = moved({ sloAttainment: 0.997 });
    expect(telemetryChanged(a, moved({ sloAttainment: 0.993 }), 0.995)).toBe(true);
    expect(telemetryChanged(a, moved({ sloAttainment: 0.993 }), 0.9)).toBe(false);
    expect(telemetryChanged(base, moved({ meanInterval: 4.5 }), 0.99)).toBe(true);
    expect(telemetryChanged(base, moved({ meanInterval: null }), 0.99)).toBe(true);
    expect(telemetryChanged(base, moved({ hostMemoryUsedBytes: 0 }), 0.99)).toBe(true);
  });

  it('counts a changed interval or bus of a pod', () => {
    const f = podFigures(snapshot({ interval: 4 }));
    expect(podFiguresChanged(f, { ...f }, 0.99)).toBe(false);
    expect(podFiguresChanged(f, { ...f, interval: 5 }, 0.99)).toBe(true);
    expect(podFiguresChanged(f, { ...f, bus: 'x' }, 0.99)).toBe(true);
    expect(podFiguresChanged(f, undefined, 0.99)).toBe(true);
  });
});

describe('forEachLimited', () => {
  it('never has more than the limit in flight and visits every item once', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimited([...Array(20).keys()], 3, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1 + (i % 3)));
      seen.push(i);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    await expect(forEachLimited([1], 0, () => Promise.resolve())).rejects.toThrow(/limit/);
  });
});
