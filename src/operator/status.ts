// Status of a SelectNDeployment as a pure function of (resource, owned pods, plan, outcome):
// replica counts, selector, conditions with named reasons, pod summaries and printer columns.
import {
  CONDITION_STATUS,
  CONDITION_TYPES,
  DEGRADED_REASONS,
  LABELS,
  MAX_POD_SUMMARIES,
  PROGRESSING_REASONS,
  READY_REASONS,
  SLO_REASONS,
  type Condition,
  type ConditionStatus,
  type ConditionType,
  type DegradedReason,
  type PlanStatus,
  type PodSummary,
  type SelectNDeploymentStatus,
  type TelemetryStatus,
} from '../api/index.ts';
import { intervalDisplay } from './plan.ts';
import { canonicalJson } from './canonical.ts';
import type { RolloutReason } from './rollout.ts';
import type { Pod } from './kube/types.ts';
import type { PodTelemetry } from './telemetry/aggregate.ts';
import { describeRefusal, type PlanRefusal } from './telemetry/replanner.ts';

export interface StatusInput {
  generation: number;
  replicas: number;
  selector: string;
  templateHash: string | undefined;
  pods: readonly Pod[];
  plan: PlanStatus | undefined;
  rollout: RolloutReason | undefined;
  /** A spec problem found by this pass (plan or validation), if any. */
  specError: { reason: DegradedReason; message: string } | undefined;
  /** Conditions of the previous status, to keep lastTransitionTime stable. */
  previous: readonly Condition[] | undefined;
  telemetry: TelemetryStatus | undefined;
  /** Replicas the autoscaler wants; default `replicas`. */
  desiredReplicas?: number;
  /** Telemetry of each polled pod by name (the telemetry loop's published figures). */
  podTelemetry?: ReadonlyMap<string, PodTelemetry>;
  /** Pods that keep their old plan because a re-derived one was refused. */
  planRefusals?: readonly PlanRefusal[];
  sloTarget: number;
  now: Date;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** Why a pod is not serving, from its conditions and container states. */
export function podProblem(pod: Pod): { reason: DegradedReason; message: string } | undefined {
  const name = pod.metadata.name ?? '?';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      reason: DEGRADED_REASONS.Unschedulable,
      message: `pod ${name}: ${scheduled.message ?? 'unschedulable'}`,
    };
  }
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting?.reason;
    if (waiting === 'CrashLoopBackOff') {
      const last = cs.lastState?.terminated;
      const detail = last
        ? ` (last exit ${last.exitCode ?? '?'}${last.reason ? ` ${last.reason}` : ''})`
        : '';
      return {
        reason: DEGRADED_REASONS.CrashLooping,
        message: `pod ${name}: restarted ${cs.restartCount} times${detail}`,
      };
    }
    if (
      waiting === 'ErrImagePull' ||
      waiting === 'ImagePullBackOff' ||
      waiting === 'InvalidImageName'
    ) {
      return {
        reason: DEGRADED_REASONS.ImagePullFailed,
        message: `pod ${name}: ${cs.state?.waiting?.message ?? waiting}`,
      };
    }
  }
  if (pod.status?.phase === 'Failed') {
    return {
      reason: DEGRADED_REASONS.PodFailed,
      message: `pod ${name}: ${pod.status.reason ?? 'failed'} ${pod.status.message ?? ''}`.trim(),
    };
  }
  return undefined;
}

function condition(
  type: ConditionType,
  status: ConditionStatus,
  reason: string,
  message: string,
  input: StatusInput,
): Condition {
  const prev = input.previous?.find((c) => c.type === type);
  const lastTransitionTime =
    prev && prev.status === status ? prev.lastTransitionTime : input.now.toISOString();
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: input.generation,
    lastTransitionTime,
  };
}

const PROBLEM_ORDER: DegradedReason[] = [
  DEGRADED_REASONS.InvalidModel,
  DEGRADED_REASONS.PlanInfeasible,
  DEGRADED_REASONS.Unschedulable,
  DEGRADED_REASONS.CrashLooping,
  DEGRADED_REASONS.ImagePullFailed,
  DEGRADED_REASONS.PodFailed,
  DEGRADED_REASONS.PlanRefused,
  DEGRADED_REASONS.ApiError,
];

export function computeStatus(input: StatusInput): SelectNDeploymentStatus {
  const live = input.pods.filter((p) => !isTerminating(p));
  const ready = live.filter(isPodReady);
  const updated = live.filter(
    (p) => p.metadata.labels?.[LABELS.templateHash] === input.templateHash,
  );
  const available = updated.filter(isPodReady);
  const desired = input.replicas;

  const problems = live.map(podProblem).filter((p): p is NonNullable<typeof p> => p !== undefined);
  if (input.specError) problems.push(input.specError);
  for (const r of input.planRefusals ?? []) {
    problems.push({
      reason: DEGRADED_REASONS.PlanRefused,
      // A refusal carried over from the previous status is already worded.
      message: r.code === 'Previous' ? r.message : describeRefusal(r),
    });
  }
  problems.sort((a, b) => PROBLEM_ORDER.indexOf(a.reason) - PROBLEM_ORDER.indexOf(b.reason));
  const worst = problems[0];
  const degraded = worst
    ? condition(
        CONDITION_TYPES.Degraded,
        CONDITION_STATUS.True,
        worst.reason,
        problems.length > 1 ? `${worst.message} (and ${problems.length - 1} more)` : worst.message,
        input,
      )
    : condition(
        CONDITION_TYPES.Degraded,
        CONDITION_STATUS.False,
        DEGRADED_REASONS.AsExpected,
        'no problem found',
        input,
      );

  let readyCond: Condition;
  if (input.specError && input.specError.reason !== DEGRADED_REASONS.ApiError) {
    readyCond = condition(
      CONDITION_TYPES.Ready,
      CONDITION_STATUS.False,
      READY_REASONS.InvalidSpec,
      input.specError.message,
      input,
    );
  } else if (desired === 0) {
    readyCond = condition(
      CONDITION_TYPES.Ready,
      CONDITION_STATUS.True,
      READY_REASONS.ScaledToZero,
      'spec.replicas is 0',
      input,
    );
  } else if (available.length >= desired) {
    readyCond = condition(
      CONDITION_TYPES.Ready,
      CONDITION_STATUS.True,
      READY_REASONS.AllReplicasReady,
      `${available.length}/${desired} replicas ready`,
      input,
    );
  } else if (ready.length > 0) {
    readyCond = condition(
      CONDITION_TYPES.Ready,
      CONDITION_STATUS.False,
      READY_REASONS.PartiallyReady,
      `${ready.length}/${desired} replicas ready`,
      input,
    );
  } else {
    readyCond = condition(
      CONDITION_TYPES.Ready,
      CONDITION_STATUS.False,
      READY_REASONS.NoReplicasReady,
      `0/${desired} replicas ready`,
      input,
    );
  }

  const rolloutReason = input.rollout;
  let progressing: Condition;
  if (rolloutReason === undefined || rolloutReason === PROGRESSING_REASONS.Complete) {
    progressing = condition(
      CONDITION_TYPES.Progressing,
      CONDITION_STATUS.False,
      PROGRESSING_REASONS.Complete,
      'all replicas are on the current template',
      input,
    );
  } else if (worst !== undefined) {
    progressing = condition(
      CONDITION_TYPES.Progressing,
      CONDITION_STATUS.False,
      PROGRESSING_REASONS.Stalled,
      worst.message,
      input,
    );
  } else {
    progressing = condition(
      CONDITION_TYPES.Progressing,
      CONDITION_STATUS.True,
      rolloutReason,
      progressMessage(rolloutReason, updated.length, desired),
      input,
    );
  }

  const attainment = input.telemetry?.sloAttainment ?? null;
  const slo =
    attainment === null
      ? condition(
          CONDITION_TYPES.SLOMet,
          CONDITION_STATUS.Unknown,
          SLO_REASONS.NoTelemetry,
          noTelemetryMessage(input),
          input,
        )
      : attainment >= input.sloTarget
        ? condition(
            CONDITION_TYPES.SLOMet,
            CONDITION_STATUS.True,
            SLO_REASONS.SLOAttained,
            `attainment ${pct(attainment)} >= target ${pct(input.sloTarget)}`,
            input,
          )
        : condition(
            CONDITION_TYPES.SLOMet,
            CONDITION_STATUS.False,
            SLO_REASONS.SLOViolated,
            `attainment ${pct(attainment)} < target ${pct(input.sloTarget)}`,
            input,
          );

  const status: SelectNDeploymentStatus = {
    observedGeneration: input.generation,
    replicas: live.length,
    readyReplicas: ready.length,
    updatedReplicas: updated.length,
    availableReplicas: available.length,
    desiredReplicas: input.desiredReplicas ?? desired,
    selector: input.selector,
    conditions: [readyCond, progressing, degraded, slo],
    pods: podSummaries(live, input.templateHash, input.podTelemetry),
    display: {
      ready: `${ready.length}/${desired}`,
      interval: inForceDisplay(input.podTelemetry) ?? intervalDisplay(input.plan),
      slo: attainment === null ? '-' : pct(attainment),
    },
  };
  if (input.templateHash !== undefined) status.templateHash = input.templateHash;
  if (input.plan) status.plan = input.plan;
  if (input.telemetry) status.telemetry = input.telemetry;
  return status;
}

function progressMessage(reason: RolloutReason, updated: number, desired: number): string {
  return `${reason}: ${updated}/${desired} pods on the current template`;
}

function pct(x: number): string {
  return `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;
}

/** The range in force in the fresh pods, when they all agree on one. */
function inForceDisplay(pods: ReadonlyMap<string, PodTelemetry> | undefined): string | undefined {
  const ranges = new Set<string>();
  for (const p of pods?.values() ?? [])
    if (p.figures?.intervalRange) ranges.add(p.figures.intervalRange);
  return ranges.size === 1 ? [...ranges][0] : undefined;
}

function noTelemetryMessage(input: StatusInput): string {
  const polled = [...(input.podTelemetry?.values() ?? [])];
  const stale = polled.filter((p) => p.stale);
  if (polled.length > 0 && stale.length === polled.length) {
    return `no pod answered its telemetry read (${stale.length} stale: ${stale[0]?.staleReason ?? 'no answer'})`;
  }
  if (input.telemetry) return 'no request finished in the telemetry window';
  return 'no finished requests reported yet';
}

export function podSummaries(
  pods: readonly Pod[],
  hash: string | undefined,
  telemetry?: ReadonlyMap<string, PodTelemetry>,
): PodSummary[] {
  const summaries = pods.map((p): PodSummary => {
    const s: PodSummary = {
      name: p.metadata.name ?? '',
      phase: p.status?.phase ?? 'Pending',
      ready: isPodReady(p),
      updated: p.metadata.labels?.[LABELS.templateHash] === hash,
    };
    if (p.spec?.nodeName) s.node = p.spec.nodeName;
    const problem = podProblem(p);
    if (problem) s.reason = problem.reason;
    const polled = telemetry?.get(s.name);
    if (polled?.stale) s.telemetryStale = true;
    const figures = polled?.figures;
    if (figures) {
      s.interval = figures.interval;
      s.sloAttainment = figures.sloAttainment;
      s.bus = figures.bus;
      if (figures.pciBusId !== null) s.pciBusId = figures.pciBusId;
      s.planBasis = figures.planBasis;
      s.planGeneration = figures.planGeneration;
      s.intervalRange = figures.intervalRange;
    }
    return s;
  });
  summaries.sort((a, b) => Number(a.ready) - Number(b.ready) || (a.name < b.name ? -1 : 1));
  return summaries.slice(0, MAX_POD_SUMMARIES);
}

/** Whether two statuses differ in anything but timestamps of unchanged conditions. */
export function statusChanged(
  a: SelectNDeploymentStatus | undefined,
  b: SelectNDeploymentStatus,
): boolean {
  if (!a) return true;
  return normalize(a) !== normalize(b);
}

function normalize(s: SelectNDeploymentStatus): string {
  return canonicalJson(
    JSON.parse(JSON.stringify(s), (key, v: unknown) => (key === 'computedAt' ? undefined : v)),
  );
}
