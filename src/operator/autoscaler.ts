// The autoscaler's memory between reconciles: per resource, the recent recommendations (for the
// stabilization windows) and the most tokens/s one replica has served while meeting the SLO (the
// proven capacity scale-down plans with). The decisions themselves are autoscale.ts's.
import type { SelectNDeploymentSpec, TelemetryStatus } from '../api/index.ts';
import {
  recommendReplicas,
  stabilize,
  type Recommendation,
  type TimedRecommendation,
} from './autoscale.ts';

/** How long a scale-up must be recommended before it is made. */
export const SCALE_UP_WINDOW_MS = 15_000;

interface KeyState {
  history: TimedRecommendation[];
  capacityPerReplica: number;
}

export class Autoscaler {
  private readonly state = new Map<string, KeyState>();
  private readonly upWindowMs: number;

  constructor(upWindowMs = SCALE_UP_WINDOW_MS) {
    this.upWindowMs = upWindowMs;
  }

  /** The replica count spec.replicas should have now, and why. */
  decide(
    key: string,
    spec: SelectNDeploymentSpec,
    ready: number,
    telemetry: TelemetryStatus | undefined,
    nowMs: number,
  ): Recommendation {
    const a = spec.autoscaling;
    const current = spec.replicas;
    // Outside the bounds: back inside at once (a user edit or a changed bound, not a load signal).
    if (current < a.minReplicas)
      return { replicas: a.minReplicas, reason: `below autoscaling.minReplicas ${a.minReplicas}` };
    if (current > a.maxReplicas)
      return { replicas: a.maxReplicas, reason: `above autoscaling.maxReplicas ${a.maxReplicas}` };
    const st = this.state.get(key) ?? { history: [], capacityPerReplica: 0 };
    this.state.set(key, st);
    const attainment = telemetry?.sloAttainment ?? null;
    if (telemetry && ready > 0 && attainment !== null && attainment >= a.targetSloAttainment)
      st.capacityPerReplica = Math.max(st.capacityPerReplica, telemetry.tokensPerSecond / ready);
    const rec = recommendReplicas({
      current,
      ready,
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      target: a.targetSloAttainment,
      batchPerReplica: spec.server.maxBatchSize,
      telemetry,
      capacityPerReplica: st.capacityPerReplica,
    });
    st.history.push({ ...rec, atMs: nowMs });
    const downWindowMs = a.scaleDownDelaySeconds * 1000;
    const keepFrom = nowMs - Math.max(this.upWindowMs, downWindowMs);
    // Keep the newest entry older than the longest window: it shows the window is covered.
    const firstInside = st.history.findIndex((h) => h.atMs >= keepFrom);
    if (firstInside > 1) st.history.splice(0, firstInside - 1);
    return stabilize(st.history, current, nowMs, this.upWindowMs, downWindowMs);
  }

  forget(key: string): void {
    this.state.delete(key);
  }
}
