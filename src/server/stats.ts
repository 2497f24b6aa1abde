// Sliding-window statistics of the serving loop: SLO attainment, TTFT/TPOT percentiles,
// throughput, batch sizes, interval choices and stalls. Fed by the engine loop (as an observer),
// read by telemetry and metrics. Time comes from the engine's clock.
import type { EngineObserver, FinishedRecord, IterationRecord } from './engine-loop.ts';
import type { Clock } from './scheduler/scheduler.ts';

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
  samples: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null, mean: null, samples: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean, samples: sorted.length };
}

export interface SloTargets {
  ttftMs: number;
  tpotMs: number;
}

export interface RequestSlo {
  /** Time to first token, ms; undefined when none was produced. */
  ttftMs: number | undefined;
  /** Mean time per output token after the first, ms (0 with a single token). */
  tpotMs: number | undefined;
  ttftMet: boolean;
  tpotMet: boolean;
  /** Counts toward attainment (client aborts do not). */
  counted: boolean;
}

export function requestSlo(record: FinishedRecord, slo: SloTargets): RequestSlo {
  const counted = record.reason !== 'abort';
  if (record.firstTokenMs === undefined) {
    return { ttftMs: undefined, tpotMs: undefined, ttftMet: false, tpotMet: false, counted };
  }
  const ttftMs = record.firstTokenMs - record.arrivalMs;
  const tpotMs =
    record.completionTokens > 1
      ? (record.finishedMs - record.firstTokenMs) / (record.completionTokens - 1)
      : 0;
  const failed = record.reason === 'error';
  return {
    ttftMs,
    tpotMs,
    ttftMet: !failed && ttftMs <= slo.ttftMs,
    tpotMet: !failed && tpotMs <= slo.tpotMs,
    counted,
  };
}

interface FinishedEntry {
  atMs: number;
  slo: RequestSlo;
  promptTokens: number;
  completionTokens: number;
}

interface IterationEntry {
  atMs: number;
  interval: number;
  batchSize: number;
  stallMs: number;
  elapsedMs: number;
  predictedMs: number;
  newTokens: number;
  bytesCopied: number;
  bandwidth: number;
}

const MAX_ENTRIES = 200_000;

export class ServingStats implements EngineObserver {
  readonly windowMs: number;
  slo: SloTargets;
  rejectedTotal = 0;
  preemptionsTotal = 0;
  lastInterval: number | undefined;
  private readonly finished: FinishedEntry[] = [];
  private readonly iterations: IterationEntry[] = [];
  private readonly clock: Clock;
  private readonly startedMs: number;

  constructor(clock: Clock, slo: SloTargets, windowMs = 60_000) {
    this.clock = clock;
    this.slo = slo;
    this.windowMs = windowMs;
    this.startedMs = clock.now();
  }

  onIteration(record: IterationRecord): void {
    this.preemptionsTotal = record.preemptionsTotal;
    this.lastInterval = record.result.interval;
    this.iterations.push({
      atMs: record.endedMs,
      interval: record.result.interval,
      batchSize: record.output.seqs.length,
      stallMs: record.result.stallMs,
      elapsedMs: record.result.elapsedMs,
      predictedMs: record.output.predictedMs,
      newTokens: record.output.shape.newTokens,
      bytesCopied: record.result.bytesCopied,
      bandwidth: record.result.copyBandwidthBytesPerS,
    });
    if (this.iterations.length > MAX_ENTRIES) this.iterations.splice(0, MAX_ENTRIES / 2);
  }

  onFinished(record: FinishedRecord): void {
    this.finished.push({
      atMs: record.finishedMs,
      slo: requestSlo(record, this.slo),
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
    });
    if (this.finished.length > MAX_ENTRIES) this.finished.splice(0, MAX_ENTRIES / 2);
  }

  /** Length of the window actually covered (shorter right after start), seconds. */
  windowSeconds(): number {
    return Math.max(1e-3, Math.min(this.windowMs, this.clock.now() - this.startedMs)) / 1000;
  }

  private prune(): void {
    const from = this.clock.now() - this.windowMs;
    dropBefore(this.finished, from);
    dropBefore(this.iterations, from);
  }

  sloSummary(): {
    attainment: number | null;
    ttftAttainment: number | null;
    tpotAttainment: number | null;
    ttft: Percentiles;
    tpot: Percentiles;
    requestsFinished: number;
    requestsViolated: number;
  } {
    this.prune();
    const counted = this.finished.filter((f) => f.slo.counted);
    const n = counted.length;
    const both = counted.filter((f) => f.slo.ttftMet && f.slo.tpotMet).length;
    const ttftOk = counted.filter((f) => f.slo.ttftMet).length;
    const tpotOk = counted.filter((f) => f.slo.tpotMet).length;
    const ttfts = counted.flatMap((f) => (f.slo.ttftMs === undefined ? [] : [f.slo.ttftMs]));
    const tpots = counted.flatMap((f) =>
      f.slo.tpotMs === undefined || f.completionTokens < 2 ? [] : [f.slo.tpotMs],
    );
    return {
      attainment: n === 0 ? null : both / n,
      ttftAttainment: n === 0 ? null : ttftOk / n,
      tpotAttainment: n === 0 ? null : tpotOk / n,
      ttft: percentiles(ttfts),
      tpot: percentiles(tpots),
      requestsFinished: this.finished.length,
      requestsViolated: n - both,
    };
  }

  throughput(): {
    generatedTokensPerSecond: number;
    promptTokensPerSecond: number;
    requestsPerSecond: number;
    iterationsPerSecond: number;
    batchSize: Percentiles;
  } {
    this.prune();
    const seconds = this.windowSeconds();
    const generated = this.finished.reduce((s, f) => s + f.completionTokens, 0);
    const prompt = this.finished.reduce((s, f) => s + f.promptTokens, 0);
    return {
      generatedTokensPerSecond: generated / seconds,
      promptTokensPerSecond: prompt / seconds,
      requestsPerSecond: this.finished.length / seconds,
      iterationsPerSecond: this.iterations.length / seconds,
      batchSize: percentiles(this.iterations.map((i) => i.batchSize)),
    };
  }

  intervals(): {
    current: number | undefined;
    mean: number | null;
    min: number | undefined;
    max: number | undefined;
    histogram: { interval: number; iterations: number }[];
    changes: number;
    iterations: number;
  } {
    this.prune();
    const counts = new Map<number, number>();
    let changes = 0;
    let previous: number | undefined;
    for (const it of this.iterations) {
      counts.set(it.interval, (counts.get(it.interval) ?? 0) + 1);
      if (previous !== undefined && previous !== it.interval) changes += 1;
      previous = it.interval;
    }
    const offloading = this.iterations.filter((i) => i.interval > 0).map((i) => i.interval);
    const order = (n: number): number => (n === 0 ? Infinity : n);
    const keys = [...counts.keys()].sort((a, b) => order(a) - order(b));
    return {
      current: this.lastInterval,
      mean:
        offloading.length === 0 ? null : offloading.reduce((s, v) => s + v, 0) / offloading.length,
      min: keys[0],
      max: keys[keys.length - 1],
      histogram: keys.map((interval) => ({ interval, iterations: counts.get(interval) ?? 0 })),
      changes,
      iterations: this.iterations.length,
    };
  }

  stalls(): Percentiles {
    this.prune();
    return percentiles(this.iterations.map((i) => i.stallMs));
  }

  /** Per-iteration achieved copy bandwidth over iterations that copied, bytes/s. */
  bandwidth(): Percentiles {
    this.prune();
    return percentiles(this.iterations.filter((i) => i.bytesCopied > 0).map((i) => i.bandwidth));
  }

  /** Copy rate the pod would use unpaced: bytes streamed per iteration over its compute time. */
  copyDemandBytesPerS(): number {
    this.prune();
    let bytes = 0;
    let computeMs = 0;
    for (const i of this.iterations) {
      bytes += i.bytesCopied;
      computeMs += Math.max(0, i.elapsedMs - i.stallMs);
    }
    return computeMs > 0 ? bytes / (computeMs / 1000) : 0;
  }

  /** Fraction of the window the engine was running iterations. */
  busyFraction(): number {
    this.prune();
    const busyMs = this.iterations.reduce((s, i) => s + i.elapsedMs, 0);
    return Math.min(1, busyMs / (this.windowSeconds() * 1000));
  }

  /** Measured over predicted iteration time (1: as profiled); null without iterations. */
  computeSlowdown(): number | null {
    this.prune();
    let measured = 0;
    let predicted = 0;
    for (const i of this.iterations) {
      measured += i.elapsedMs;
      predicted += i.predictedMs;
    }
    return predicted > 0 ? measured / predicted : null;
  }
}

function dropBefore(list: { atMs: number }[], fromMs: number): void {
  let k = 0;
  while (k < list.length && (list[k]?.atMs ?? Infinity) < fromMs) k += 1;
  if (k > 0) list.splice(0, k);
}
