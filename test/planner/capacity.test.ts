// Capacity at the SLO (issue 14 part 1): the rate search, the early abandon of failing runs, the
// SLO definition and refused requests counted as misses; and the capacity comparison's baselines.
import { describe, expect, it } from 'vitest';
import {
  analyticProfile,
  builtinHardware,
  builtinModel,
  latencyModel,
  meanTpotMs,
  meetsSlo,
  noOffloadPolicy,
  resolveMemoryOptions,
  searchCapacity,
  simulatePolicy,
  generateTrace,
  type PolicyContext,
  type SchedulerConfig,
} from '../../src/planner/index.ts';

const model = builtinModel('llama-13b');
const hardware = builtinHardware('a100-40gb');
const profile = analyticProfile(model, hardware);
const memory = resolveMemoryOptions({ maxBatchTokens: 512 });
const slo = { ttftMs: 2000, tpotMs: 70 };
const ctx: PolicyContext = {
  model,
  hardware,
  profile,
  latency: latencyModel(model, profile),
  memory,
  slo,
};
const scheduler: SchedulerConfig = {
  tokenBudget: 512,
  maxRunningSequences: 256,
  outputReserveTokens: 128,
  maxSimulatedMs: Infinity,
};
const bandwidth = { initialBytesPerS: 24e9 };
const search = {
  trace: { arrivals: 'poisson' as const, requests: 300 },
  seeds: [1, 2, 3],
  targets: [0.99, 0.9],
  startRatePerS: 1,
  relativeTolerance: 0.05,
  minRatePerS: 1 / 64,
  maxRatePerS: 256,
};

describe('the SLO', () => {
  it('is TTFT and mean TPOT = (completion - first token) / (output - 1), both within target', () => {
    expect(meanTpotMs(1000, 1990, 100)).toBe(10);
    expect(meanTpotMs(1000, 1000, 1)).toBe(0);
    expect(meetsSlo(2000, 70, slo)).toBe(true);
    expect(meetsSlo(2001, 10, slo)).toBe(false);
    expect(meetsSlo(10, 70.01, slo)).toBe(false);
    expect(meetsSlo(null, 1, slo)).toBe(false);
  });
});

describe('searchCapacity', () => {
  const policy = noOffloadPolicy(ctx, 2048);
  const { results, evaluations } = searchCapacity(policy, slo, bandwidth, scheduler, search);
  const [at99, at90] = results;

  it('brackets the capacity: it passes, and a rate within the tolerance above it fails', () => {
    expect(at99?.capacityRps).toBeGreaterThan(0);
    expect(at99?.sloAttainment).toBeGreaterThanOrEqual(0.99);
    expect(at99?.requests).toBe(900);
    const failing = evaluations.filter(
      (e) => e.ratePerS > (at99?.capacityRps ?? 0) && e.sloAttainment < 0.99,
    );
    expect(Math.min(...failing.map((e) => e.ratePerS))).toBeLessThanOrEqual(
      (at99?.capacityRps ?? 0) * (1 + search.relativeTolerance) + 1e-9,
    );
    // Below the capacity the offered load is served: throughput is the arrival rate's tokens.
    expect(at99?.throughputTokensPerS).toBeGreaterThan(0);
    // A looser attainment target allows at least as much load.
    expect(at90?.capacityRps).toBeGreaterThanOrEqual(at99?.capacityRps ?? Infinity);
  });

  it('abandons a failing run once more requests missed than the target allows', () => {
    const rate = (at99?.capacityRps ?? 1) * 4;
    const trace = generateTrace({ ...search.trace, ratePerS: rate, seed: 1 });
    const full = simulatePolicy(policy, trace, slo, bandwidth, scheduler);
    const cut = simulatePolicy(policy, trace, slo, bandwidth, {
      ...scheduler,
      abortAfterMisses: 3,
    });
    expect(full.aborted).toBe(false);
    expect(full.outcomes.filter((o) => !o.metSlo).length).toBeGreaterThan(3);
    expect(cut.aborted).toBe(true);
    expect(cut.iterations).toBeLessThan(full.iterations);
    expect(cut.outcomes).toHaveLength(trace.length);
  });

  it('counts requests refused at admission as misses and reports them', () => {
    // Prompts up to 20k tokens: the longest cannot fit no-offload's ~15k-token KV pool.
    const long = { median: 2000, sigma: 1.2, min: 16, max: 20_000 };
    const r = searchCapacity(noOffloadPolicy(ctx, 1), slo, bandwidth, scheduler, {
      ...search,
      trace: { ...search.trace, prompt: long },
      targets: [0.5],
    });
    const at = r.results[0];
    expect(at?.refused).toBeGreaterThan(0);
    expect(at?.sloAttainment).toBeLessThanOrEqual(1 - (at?.refused ?? 0) / (at?.requests ?? 1));
  });
});
