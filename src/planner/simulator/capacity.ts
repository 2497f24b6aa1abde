// Capacity at the SLO: the highest Poisson arrival rate at which at least a target share of the
// requests (pooled over several seeded traces) meet the SLO (slo.ts). Throughput at the SLO is only
// meaningful there: below saturation every policy serves the offered load, above it the figure
// measures overload collapse.
//
// Search: the traces of one seed at different rates share their lengths and the shape of their
// arrival gaps (common random numbers), so attainment falls with the rate nearly monotonically.
// From a start rate the bracket doubles or halves until it holds a passing and a failing rate,
// then bisection narrows it to the relative tolerance. A run is abandoned as soon as more requests
// miss than the target allows, which keeps overloaded evaluations short.
import type { SloTargets } from '../offline-range.ts';
import { simulatePolicy, type BandwidthSchedule, type SchedulerConfig } from './engine.ts';
import type { ServingPolicy } from './policies.ts';
import { generateTrace, TraceSpec, type TraceRequest } from './trace.ts';

export interface CapacitySearch {
  /** Trace shape; its rate and seed are set by the search. */
  trace: Omit<TraceSpec, 'ratePerS' | 'seed'>;
  seeds: readonly number[];
  /** Attainment targets, e.g. [0.99, 0.9]. */
  targets: readonly number[];
  /** First rate tried, requests/s. */
  startRatePerS: number;
  /** Stop bisecting when the failing rate is within this factor of the passing one (e.g. 0.02). */
  relativeTolerance: number;
  /** Rates searched lie in [minRatePerS, maxRatePerS]. */
  minRatePerS: number;
  maxRatePerS: number;
}

export interface RateEvaluation {
  ratePerS: number;
  /** Pooled over seeds; a lower bound when the run was abandoned (aborted). */
  sloAttainment: number;
  aborted: boolean;
}

export interface CapacityAtTarget {
  target: number;
  /** Highest passing rate found, requests/s; 0 when even minRatePerS fails. */
  capacityRps: number;
  /** Output tokens/s of requests meeting the SLO at that rate, mean over seeds. */
  throughputTokensPerS: number;
  sloAttainment: number;
  /** Requests refused at admission (they never fit the KV pool) at that rate, over all seeds. */
  refused: number;
  /** Requests over all seeds at that rate. */
  requests: number;
  /** The capacity is the search's maxRatePerS: the real one is at least that. */
  atSearchLimit: boolean;
}

interface Measured {
  attainment: number;
  aborted: boolean;
  goodTokensPerS: number;
  refused: number;
  requests: number;
}

export function searchCapacity(
  policy: ServingPolicy,
  slo: SloTargets,
  bandwidth: BandwidthSchedule,
  scheduler: SchedulerConfig,
  search: CapacitySearch,
): { results: CapacityAtTarget[]; evaluations: RateEvaluation[] } {
  if (search.seeds.length === 0) throw new RangeError('capacity search needs at least one seed');
  if (!(search.minRatePerS > 0 && search.maxRatePerS >= search.minRatePerS)) {
    throw new RangeError('capacity search needs 0 < minRatePerS <= maxRatePerS');
  }
  const traces = new Map<number, TraceRequest[][]>();
  const tracesAt = (rate: number): TraceRequest[][] => {
    const cached = traces.get(rate);
    if (cached) return cached;
    const made = search.seeds.map((seed) =>
      generateTrace({ ...search.trace, arrivals: 'poisson', ratePerS: rate, seed }),
    );
    traces.set(rate, made);
    return made;
  };
  const cache = new Map<string, Measured>();
  const evaluations: RateEvaluation[] = [];

  /** Attainment at `rate`, abandoning once more than (1 - target) of all requests missed. */
  const measure = (rate: number, target: number): Measured => {
    const key = `${rate}:${target}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const all = tracesAt(rate);
    const total = all.reduce((n, t) => n + t.length, 0);
    let allowed = Math.floor((1 - target) * total);
    let met = 0;
    let goodTokensPerS = 0;
    let refused = 0;
    let aborted = false;
    for (const trace of all) {
      const lastArrivalMs = trace[trace.length - 1]?.arrivalMs ?? 0;
      const run = simulatePolicy(policy, trace, slo, bandwidth, {
        ...scheduler,
        maxSimulatedMs: Math.min(scheduler.maxSimulatedMs, lastArrivalMs + 3_600_000),
        abortAfterMisses: allowed,
      });
      let good = 0;
      let runMet = 0;
      for (const o of run.outcomes) {
        if (o.metSlo) {
          runMet++;
          good += o.outputTokens;
        }
        if (o.rejected) refused++;
      }
      met += runMet;
      const firstMs = trace[0]?.arrivalMs ?? 0;
      goodTokensPerS += good / Math.max(1e-9, (run.endMs - firstMs) / 1000) / all.length;
      allowed -= trace.length - runMet;
      if (run.aborted || allowed < 0) {
        aborted = run.aborted;
        break;
      }
    }
    const measured = { attainment: met / total, aborted, goodTokensPerS, refused, requests: total };
    cache.set(key, measured);
    evaluations.push({ ratePerS: rate, sloAttainment: measured.attainment, aborted });
    return measured;
  };

  const results: CapacityAtTarget[] = [];
  // Highest target first: its passing rate is a passing rate for every lower target.
  const targets = [...search.targets].sort((a, b) => b - a);
  let knownPass = 0;
  for (const target of targets) {
    const passes = (rate: number): boolean => measure(rate, target).attainment >= target;
    let lo = knownPass;
    let hi = 0;
    let rate = Math.min(search.maxRatePerS, Math.max(search.minRatePerS, search.startRatePerS));
    if (lo === 0) {
      if (passes(rate)) lo = rate;
      else hi = rate;
    }
    // Widen the bracket.
    while (hi === 0 && lo < search.maxRatePerS) {
      rate = Math.min(search.maxRatePerS, lo * 2);
      if (passes(rate)) lo = rate;
      else hi = rate;
    }
    while (lo === 0 && hi > search.minRatePerS) {
      rate = Math.max(search.minRatePerS, hi / 2);
      if (passes(rate)) lo = rate;
      else hi = rate;
    }
    // Narrow it.
    if (lo > 0 && hi > 0) {
      while (hi / lo > 1 + search.relativeTolerance) {
        const mid = Math.sqrt(lo * hi);
        if (passes(mid)) lo = mid;
        else hi = mid;
      }
    }
    knownPass = lo;
    const at = lo > 0 ? measure(lo, target) : undefined;
    results.push({
      target,
      capacityRps: lo,
      throughputTokensPerS: at?.goodTokensPerS ?? 0,
      sloAttainment: at?.attainment ?? 0,
      refused: at?.refused ?? 0,
      requests: at?.requests ?? 0,
      atSearchLimit: lo >= search.maxRatePerS,
    });
  }
  return {
    results: search.targets.map((t) => results.find((r) => r.target === t) as CapacityAtTarget),
    evaluations: evaluations.sort((a, b) => a.ratePerS - b.ratePerS),
  };
}
