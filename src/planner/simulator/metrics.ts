// Per-policy summary of a simulated run.
import type { PolicyRun } from './engine.ts';

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

/** Nearest-rank percentile (q in 0..1) of the values; null when there are none. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? null;
}

export interface RunSummary {
  /** Output tokens of requests that met both TTFT and TPOT, per second of the run (goodput). */
  throughputTokensPerS: number;
  /** Output tokens of every finished request per second of the run. */
  totalThroughputTokensPerS: number;
  /** Fraction of all requests that met both TTFT and TPOT. */
  sloAttainment: number;
  ttftMs: Percentiles;
  tpotMs: Percentiles;
  finished: number;
  rejected: number;
  preemptions: number;
  iterations: number;
  /** From the first arrival to the last completion (or the end of the simulated time), s. */
  durationS: number;
}

export function summarizeRun(run: PolicyRun): RunSummary {
  const firstArrival = run.outcomes.reduce((m, o) => Math.min(m, o.arrivalMs), Infinity);
  const durationS = Math.max(
    1e-9,
    (run.endMs - (Number.isFinite(firstArrival) ? firstArrival : 0)) / 1000,
  );
  let good = 0;
  let all = 0;
  let met = 0;
  const ttfts: number[] = [];
  const tpots: number[] = [];
  for (const o of run.outcomes) {
    if (o.finished) all += o.outputTokens;
    if (o.metSlo) {
      good += o.outputTokens;
      met++;
    }
    if (o.ttftMs !== null) ttfts.push(o.ttftMs);
    if (o.tpotMs !== null) tpots.push(o.tpotMs);
  }
  const round = (x: number | null): number | null =>
    x === null ? null : Math.round(x * 100) / 100;
  return {
    throughputTokensPerS: good / durationS,
    totalThroughputTokensPerS: all / durationS,
    sloAttainment: run.outcomes.length > 0 ? met / run.outcomes.length : 0,
    ttftMs: { p50: round(percentile(ttfts, 0.5)), p99: round(percentile(ttfts, 0.99)) },
    tpotMs: { p50: round(percentile(tpots, 0.5)), p99: round(percentile(tpots, 0.99)) },
    finished: run.outcomes.filter((o) => o.finished).length,
    rejected: run.outcomes.filter((o) => o.rejected).length,
    preemptions: run.preemptions,
    iterations: run.iterations,
    durationS,
  };
}
