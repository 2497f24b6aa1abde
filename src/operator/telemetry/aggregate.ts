// Pure arithmetic of the telemetry loop: a deployment's figures from its pods' snapshots, the
// per-pod figures of status.pods[], and whether new figures differ enough from the published ones
// to be worth a status write (the snapshots change every poll; the status must not).
import { busKey, type TelemetrySnapshot, type TelemetryStatus } from '../../api/index.ts';

/** What status.pods[] shows of one pod's telemetry. */
export interface PodFigures {
  /** Interval N of the pod's last iteration; null: nothing offloaded. */
  interval: number | null;
  /** Attainment over the pod's window; null when no request finished in it. */
  sloAttainment: number | null;
  /** Bus the pod's first device shares with others (see busKey), e.g. `node-0/0000:3a:00.0`. */
  bus: string;
  pciBusId: string | null;
  /** The plan in force: basis (its first word), generation and range. */
  planBasis: string;
  planGeneration: number;
  intervalRange: string;
}

/** What status.pods[] shows of one polled pod. */
export interface PodTelemetry {
  /** Its figures at the last answer; absent while stale. */
  figures?: PodFigures;
  stale: boolean;
  /** Why it is stale (unreachable, unauthorized, invalid telemetry). */
  staleReason?: string;
}

export function podFigures(snapshot: TelemetrySnapshot): PodFigures {
  const device = snapshot.hardware.devices[0];
  const bus = device?.bus ?? null;
  return {
    interval: snapshot.interval.current,
    sloAttainment: snapshot.slo.attainment,
    bus: busKey(snapshot.hardware.nodeName, bus),
    pciBusId: bus?.pciBusId ?? null,
    planBasis: snapshot.plan.basis.split(/[:\s]/, 1)[0] ?? '',
    planGeneration: snapshot.plan.generation,
    intervalRange: rangeDisplay(snapshot.plan.interval.min, snapshot.plan.interval.max),
  };
}

/** "2-8", "3-inf", "4" or "off". */
export function rangeDisplay(min: number | null, max: number | null): string {
  if (min === null) return 'off';
  if (max === min) return String(min);
  return `${min}-${max ?? 'inf'}`;
}

/**
 * Figures of a deployment from the snapshots of its fresh pods (stale pods are left out by the
 * caller); undefined when there is none. Attainment is over all requests finished in the pods'
 * windows (violations over finished, summed), so a busy pod weighs more than an idle one; rates,
 * queue and memory are summed; tail latencies are the worst pod's; the mean interval is weighted
 * by the iterations that offloaded.
 */
export function aggregateTelemetry(
  snapshots: readonly TelemetrySnapshot[],
): TelemetryStatus | undefined {
  if (snapshots.length === 0) return undefined;
  let finished = 0;
  let violated = 0;
  let tokens = 0;
  let queue = 0;
  let hostUsed = 0;
  let bandwidth = 0;
  let ttft: number | null = null;
  let tpot: number | null = null;
  let intervalWeight = 0;
  let intervalSum = 0;
  let newest = '';
  for (const s of snapshots) {
    finished += s.slo.requestsFinished;
    violated += s.slo.requestsViolated;
    tokens += s.throughput.generatedTokensPerSecond;
    queue += s.throughput.waiting;
    hostUsed += s.pools.hostUsedBytes;
    bandwidth += s.bandwidth.h2dBytesPerSecond.p50 ?? 0;
    ttft = maxOrNull(ttft, s.slo.ttft.p99);
    tpot = maxOrNull(tpot, s.slo.tpot.p99);
    if (s.interval.mean !== null) {
      const offloading = s.interval.histogram
        .filter((h) => h.interval !== null)
        .reduce((sum, h) => sum + h.iterations, 0);
      intervalWeight += offloading;
      intervalSum += s.interval.mean * offloading;
    }
    if (s.observedAt > newest) newest = s.observedAt;
  }
  return {
    sloAttainment: finished === 0 ? null : clamp01((finished - violated) / finished),
    tokensPerSecond: tokens,
    ttftP99Ms: ttft,
    tpotP99Ms: tpot,
    queueDepth: queue,
    meanInterval: intervalWeight === 0 ? null : intervalSum / intervalWeight,
    hostMemoryUsedBytes: hostUsed,
    copyBandwidthBytesPerSecond: bandwidth,
    observedAt: newest,
  };
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** How far a figure must move before the status is rewritten. */
export interface ChangeThresholds {
  /** Absolute change of an attainment (0..1). */
  attainment: number;
  /** Relative change of a rate, latency, memory or bandwidth figure. */
  relative: number;
  /** Absolute change of the mean interval. */
  interval: number;
  /** Absolute change of the queue depth. */
  queue: number;
}

export const DEFAULT_THRESHOLDS: ChangeThresholds = {
  attainment: 0.005,
  relative: 0.1,
  interval: 0.25,
  queue: 2,
};

/**
 * Whether `next` differs meaningfully from `published`: a figure appears or disappears, an
 * attainment moves by the threshold or crosses the SLO target, another figure moves by the
 * relative threshold. Timestamps alone never count.
 */
export function telemetryChanged(
  published: TelemetryStatus | undefined,
  next: TelemetryStatus | undefined,
  target: number,
  t: ChangeThresholds = DEFAULT_THRESHOLDS,
): boolean {
  if (published === undefined || next === undefined) return published !== next;
  return (
    attainmentChanged(published.sloAttainment, next.sloAttainment, target, t) ||
    relChanged(published.tokensPerSecond, next.tokensPerSecond, t.relative) ||
    nullableRelChanged(published.ttftP99Ms, next.ttftP99Ms, t.relative) ||
    nullableRelChanged(published.tpotP99Ms, next.tpotP99Ms, t.relative) ||
    Math.abs(published.queueDepth - next.queueDepth) >= t.queue ||
    (published.queueDepth === 0) !== (next.queueDepth === 0) ||
    nullableAbsChanged(published.meanInterval, next.meanInterval, t.interval) ||
    relChanged(published.hostMemoryUsedBytes, next.hostMemoryUsedBytes, t.relative) ||
    relChanged(published.copyBandwidthBytesPerSecond, next.copyBandwidthBytesPerSecond, t.relative)
  );
}

/** Whether a pod's figures differ meaningfully (a changed interval or bus always counts). */
export function podFiguresChanged(
  published: PodFigures | undefined,
  next: PodFigures | undefined,
  target: number,
  t: ChangeThresholds = DEFAULT_THRESHOLDS,
): boolean {
  if (published === undefined || next === undefined) return published !== next;
  return (
    published.interval !== next.interval ||
    published.bus !== next.bus ||
    published.pciBusId !== next.pciBusId ||
    published.planBasis !== next.planBasis ||
    published.planGeneration !== next.planGeneration ||
    published.intervalRange !== next.intervalRange ||
    attainmentChanged(published.sloAttainment, next.sloAttainment, target, t)
  );
}

function attainmentChanged(
  a: number | null,
  b: number | null,
  target: number,
  t: ChangeThresholds,
): boolean {
  if (a === null || b === null) return a !== b;
  return Math.abs(a - b) >= t.attainment || a >= target !== b >= target;
}

function relChanged(a: number, b: number, relative: number): boolean {
  if (a === b) return false;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) / scale >= relative;
}

function nullableRelChanged(a: number | null, b: number | null, relative: number): boolean {
  if (a === null || b === null) return a !== b;
  return relChanged(a, b, relative);
}

function nullableAbsChanged(a: number | null, b: number | null, threshold: number): boolean {
  if (a === null || b === null) return a !== b;
  return Math.abs(a - b) >= threshold;
}
