// SLO autoscaling (spec.autoscaling), as pure functions: a replica count recommended from the
// measured figures (SLO attainment, queue depth, throughput per replica), and its stabilization
// over time windows as the HPA does it (a scale-up must be recommended for the whole up window,
// a scale-down for the whole down window: the smallest recent recommendation wins going up, the
// largest going down). No I/O and no clock: times are passed in.
import type { TelemetryStatus } from '../api/index.ts';

export interface RecommendInput {
  /** spec.replicas now. */
  current: number;
  ready: number;
  minReplicas: number;
  maxReplicas: number;
  /** autoscaling.targetSloAttainment. */
  target: number;
  /** Sequences one replica batches (spec.server.maxBatchSize). */
  batchPerReplica: number;
  /** Published aggregate figures; undefined without a fresh pod. */
  telemetry: TelemetryStatus | undefined;
  /** Most tokens/s one replica has served while meeting the SLO (0: not seen yet). */
  capacityPerReplica: number;
}

export interface Recommendation {
  replicas: number;
  /** Why, in one line. */
  reason: string;
}

/** Share of a replica's proven capacity that scale-down plans to use (headroom for bursts). */
export const DOWN_UTILIZATION = 0.7;

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export function recommendReplicas(input: RecommendInput): Recommendation {
  const { current, minReplicas, maxReplicas, target, telemetry: t } = input;
  const bounded = (n: number, reason: string): Recommendation => {
    const replicas = clamp(n, minReplicas, maxReplicas);
    return {
      replicas,
      reason: replicas === n ? reason : `${reason}; held to [${minReplicas}, ${maxReplicas}]`,
    };
  };
  if (t === undefined || input.ready === 0) return bounded(current, 'no telemetry: keep');
  const attainment = t.sloAttainment;
  const missed = attainment !== null && attainment < target;
  const queued = t.queueDepth > input.ready;
  if (missed || queued) {
    let up = current;
    const why: string[] = [];
    if (missed) {
      // Proportional to how far the misses exceed the allowed share, at most doubling.
      const allowed = Math.max(1 - target, 1e-3);
      const ratio = Math.min(2, Math.max(1, (1 - attainment) / allowed));
      up = Math.max(up, Math.ceil(current * ratio), current + 1);
      why.push(`attainment ${attainment.toFixed(3)} < target ${target}`);
    }
    if (queued) {
      up = Math.max(up, current + Math.ceil(t.queueDepth / Math.max(1, input.batchPerReplica)));
      why.push(`${t.queueDepth} requests waiting on ${input.ready} ready replicas`);
    }
    return bounded(up, `scale up: ${why.join(', ')}`);
  }
  if (t.queueDepth > 0) return bounded(current, `${t.queueDepth} waiting: keep`);
  if (t.tokensPerSecond === 0) return bounded(minReplicas, 'idle: no tokens generated');
  if (input.capacityPerReplica <= 0)
    return bounded(current, 'SLO met; capacity per replica not measured yet: keep');
  const needed = Math.ceil(t.tokensPerSecond / (input.capacityPerReplica * DOWN_UTILIZATION));
  if (needed >= current) return bounded(current, 'SLO met at the load: keep');
  return bounded(
    needed,
    `scale down: ${t.tokensPerSecond.toFixed(1)} tokens/s fit ${needed} replicas of ${input.capacityPerReplica.toFixed(1)} tokens/s at ${DOWN_UTILIZATION * 100}%`,
  );
}

export interface TimedRecommendation extends Recommendation {
  atMs: number;
}

/**
 * The replica count to set now from the recommendations of the recent past (oldest first): up
 * only to what every recommendation of the last upWindowMs asked for at least, down only to what
 * every one of the last downWindowMs allowed. A window not yet covered by history (e.g. after an
 * operator restart) keeps the current count in that direction.
 */
export function stabilize(
  history: readonly TimedRecommendation[],
  current: number,
  nowMs: number,
  upWindowMs: number,
  downWindowMs: number,
): Recommendation {
  const latest = history[history.length - 1];
  if (latest === undefined) return { replicas: current, reason: 'no recommendation yet' };
  const within = (windowMs: number) => {
    const from = nowMs - windowMs;
    const covered = (history[0]?.atMs ?? Infinity) <= from;
    return { covered, recent: history.filter((h) => h.atMs >= from) };
  };
  if (latest.replicas > current) {
    if (upWindowMs <= 0) return { replicas: latest.replicas, reason: latest.reason };
    const { covered, recent } = within(upWindowMs);
    if (!covered) return { replicas: current, reason: `${latest.reason} (stabilizing up)` };
    const up = Math.min(...recent.map((h) => h.replicas), latest.replicas);
    return up > current
      ? { replicas: up, reason: latest.reason }
      : { replicas: current, reason: `${latest.reason} (stabilizing up)` };
  }
  if (latest.replicas < current) {
    const { covered, recent } = within(downWindowMs);
    if (!covered) return { replicas: current, reason: `${latest.reason} (stabilizing down)` };
    const down = Math.max(...recent.map((h) => h.replicas), latest.replicas);
    return down < current
      ? { replicas: down, reason: latest.reason }
      : { replicas: current, reason: `${latest.reason} (stabilizing down)` };
  }
  return { replicas: current, reason: latest.reason };
}
