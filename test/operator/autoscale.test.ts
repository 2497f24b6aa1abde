import { describe, expect, it } from 'vitest';
import { SpecSchema, type TelemetryStatus } from '../../src/api/index.ts';
import {
  recommendReplicas,
  stabilize,
  type RecommendInput,
  type TimedRecommendation,
} from '../../src/operator/autoscale.ts';
import { Autoscaler } from '../../src/operator/autoscaler.ts';
import { specInput } from '../api/fixtures.ts';

function figures(over: Partial<TelemetryStatus> = {}): TelemetryStatus {
  return {
    sloAttainment: 1,
    tokensPerSecond: 100,
    ttftP99Ms: 100,
    tpotP99Ms: 10,
    queueDepth: 0,
    meanInterval: 4,
    hostMemoryUsedBytes: 0,
    copyBandwidthBytesPerSecond: 0,
    observedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function input(over: Partial<RecommendInput>): RecommendInput {
  return {
    current: 2,
    ready: 2,
    minReplicas: 1,
    maxReplicas: 8,
    target: 0.99,
    batchPerReplica: 4,
    telemetry: figures(),
    capacityPerReplica: 0,
    ...over,
  };
}

describe('recommendReplicas', () => {
  it('keeps the count without telemetry or a ready pod', () => {
    expect(recommendReplicas(input({ telemetry: undefined })).replicas).toBe(2);
    expect(recommendReplicas(input({ ready: 0 })).replicas).toBe(2);
  });

  it('scales up with the SLO misses, proportionally and at most doubling', () => {
    // 2% missed against 1% allowed: twice the replicas.
    expect(recommendReplicas(input({ telemetry: figures({ sloAttainment: 0.98 }) }))).toMatchObject(
      { replicas: 4, reason: expect.stringMatching(/attainment 0\.980 < target 0\.99/) as string },
    );
    // 1.5% missed: 1.5 times, at least one more.
    expect(
      recommendReplicas(
        input({ current: 4, ready: 4, telemetry: figures({ sloAttainment: 0.985 }) }),
      ).replicas,
    ).toBe(6);
    // Far below: never more than double; and never above maxReplicas.
    expect(recommendReplicas(input({ telemetry: figures({ sloAttainment: 0.2 }) })).replicas).toBe(
      4,
    );
    expect(
      recommendReplicas(input({ maxReplicas: 3, telemetry: figures({ sloAttainment: 0.2 }) })),
    ).toMatchObject({ replicas: 3, reason: expect.stringMatching(/held to \[1, 3\]/) as string });
  });

  it('scales up for a queue of more than one request per ready replica', () => {
    const r = recommendReplicas(input({ telemetry: figures({ queueDepth: 9 }) }));
    expect(r.replicas).toBe(2 + Math.ceil(9 / 4));
    expect(r.reason).toContain('9 requests waiting on 2 ready replicas');
    expect(recommendReplicas(input({ telemetry: figures({ queueDepth: 2 }) })).replicas).toBe(2);
  });

  it('scales down to what the load needs at the proven per-replica capacity', () => {
    // 100 tokens/s; a replica has served 100 tokens/s within the SLO; at 70%: 2 replicas.
    const r = recommendReplicas(
      input({ current: 4, ready: 4, capacityPerReplica: 100, telemetry: figures() }),
    );
    expect(r.replicas).toBe(2);
    // Capacity not measured yet: keep. Idle: the minimum.
    expect(recommendReplicas(input({ current: 4, ready: 4 })).replicas).toBe(4);
    expect(
      recommendReplicas(input({ current: 4, ready: 4, telemetry: figures({ tokensPerSecond: 0 }) }))
        .replicas,
    ).toBe(1);
  });
});

describe('stabilize', () => {
  const rec = (atMs: number, replicas: number): TimedRecommendation => ({
    atMs,
    replicas,
    reason: `r${replicas}`,
  });

  it('scales up only when the whole up window asked for it, to the least it asked', () => {
    expect(stabilize([rec(0, 4)], 2, 0, 15_000, 60_000).replicas).toBe(2);
    expect(stabilize([rec(0, 4), rec(10_000, 4)], 2, 10_000, 15_000, 60_000).replicas).toBe(2);
    const h = [rec(0, 4), rec(10_000, 3), rec(15_000, 5)];
    expect(stabilize(h, 2, 15_000, 15_000, 60_000).replicas).toBe(3);
    expect(stabilize([rec(0, 4)], 2, 0, 0, 60_000).replicas).toBe(4);
  });

  it('scales down only after the down window, to the most it allowed', () => {
    const h = [rec(0, 1), rec(30_000, 3), rec(60_000, 1)];
    expect(stabilize(h, 4, 50_000, 15_000, 60_000).replicas).toBe(4);
    expect(stabilize(h, 4, 60_000, 15_000, 60_000).replicas).toBe(3);
    expect(stabilize([rec(0, 1), rec(61_000, 1)], 4, 61_000, 15_000, 60_000).replicas).toBe(1);
  });
});

describe('Autoscaler', () => {
  const spec = (over: Record<string, unknown> = {}) =>
    SpecSchema.parse(
      specInput({
        replicas: 2,
        autoscaling: {
          enabled: true,
          minReplicas: 1,
          maxReplicas: 6,
          scaleDownDelaySeconds: 60,
        },
        ...over,
      }),
    );

  it('moves into the bounds at once', () => {
    const a = new Autoscaler();
    expect(a.decide('k', spec({ replicas: 0 }), 0, undefined, 0).replicas).toBe(1);
    expect(a.decide('k', spec({ replicas: 9 }), 9, undefined, 0).replicas).toBe(6);
  });

  it('scales up under misses after the up window, and down after the delay once idle', () => {
    const a = new Autoscaler(15_000);
    const missing = figures({ sloAttainment: 0.9 });
    let s = spec();
    const steps: number[] = [];
    for (let t = 0; t <= 20_000; t += 5000) steps.push(a.decide('k', s, 2, missing, t).replicas);
    expect(steps).toEqual([2, 2, 2, 4, 4]);
    s = spec({ replicas: 4 });
    // Meeting the SLO at 400 tokens/s on 4 replicas proves 100 tokens/s per replica; then idle.
    expect(a.decide('k', s, 4, figures({ tokensPerSecond: 400 }), 25_000).replicas).toBe(4);
    const idle = figures({ tokensPerSecond: 0, sloAttainment: null });
    expect(a.decide('k', s, 4, idle, 30_000).replicas).toBe(4);
    expect(a.decide('k', s, 4, idle, 84_000).replicas).toBe(4);
    expect(a.decide('k', s, 4, idle, 91_000).replicas).toBe(1);
  });
});
