// Pod status of a runner pod, computed from the state of its container processes. Pure: the
// runner writes the result as a JSON merge patch of the status subresource.
/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { ResizeAdmission } from './resize.ts';

export type ContainerState =
  | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly kind: 'running'; readonly startedAt: string }
  | {
      readonly kind: 'terminated';
      readonly exitCode: number;
      readonly signal?: string;
      readonly reason: string;
      readonly message?: string;
      readonly startedAt: string;
      readonly finishedAt: string;
    };

export interface ContainerView {
  readonly name: string;
  readonly image: string;
  readonly state: ContainerState;
  readonly lastTerminated?: ContainerState & { kind: 'terminated' };
  readonly ready: boolean;
  readonly started: boolean;
  readonly restartCount: number;
  readonly pid?: number;
}

export interface PodView {
  readonly podIP?: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly containers: readonly ContainerView[];
  /** No container will be started again (restart policy exhausted). */
  readonly finished: boolean;
  /** Resources applied and any resize the node cannot take; absent: the spec's, applied. */
  readonly resize?: ResizeAdmission;
}

/** Conditions of an in-place resize: written from the runner's state, never carried over. */
const RESIZE_CONDITIONS = new Set(['PodResizePending', 'PodResizeInProgress']);

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** RFC 3339 with seconds, as Kubernetes writes times. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}

function exitCodeOf(state: ContainerState): number | undefined {
  return state.kind === 'terminated' ? state.exitCode : undefined;
}

export function podPhase(view: PodView): PodPhase {
  const states = view.containers.map((c) => c.state);
  if (view.finished && states.every((s) => s.kind === 'terminated')) {
    return view.containers.every((c) => exitCodeOf(c.state) === 0) ? 'Succeeded' : 'Failed';
  }
  const everStarted = view.containers.some((c) => c.state.kind !== 'waiting' || c.restartCount > 0);
  return everStarted ? 'Running' : 'Pending';
}

function stateJson(state: ContainerState): Record<string, unknown> {
  switch (state.kind) {
    case 'waiting':
      return {
        waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) },
      };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated':
      return {
        terminated: {
          exitCode: state.exitCode,
          ...(state.signal ? { signal: signalNumber(state.signal) } : {}),
          reason: state.reason,
          ...(state.message ? { message: state.message } : {}),
          startedAt: state.startedAt,
          finishedAt: state.finishedAt,
          containerID: '',
        },
      };
  }
}

function signalNumber(signal: string): number {
  const numbers: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGTERM: 15,
    SIGABRT: 6,
  };
  return numbers[signal] ?? 0;
}

function condition(
  previous: readonly V1PodCondition[],
  type: string,
  status: boolean,
  now: string,
  reason?: string,
): Record<string, unknown> {
  const text = status ? 'True' : 'False';
  const old = previous.find((c) => c.type === type);
  const since =
    old && old.status === text && old.lastTransitionTime
      ? kubeTime(new Date(old.lastTransitionTime))
      : now;
  return {
    type,
    status: text,
    lastProbeTime: null,
    lastTransitionTime: since,
    ...(reason ? { reason } : {}),
  };
}

/** The whole status object the runner owns for this pod (PodScheduled is carried over). */
export function podStatusJson(pod: V1Pod, view: PodView, now: Date): Record<string, unknown> {
  const at = kubeTime(now);
  const previous = pod.status?.conditions ?? [];
  const phase = podPhase(view);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = !terminal && view.containers.every((c) => c.ready);
  const gates = (pod.spec?.readinessGates ?? []).every(
    (g) => previous.find((c) => c.type === g.conditionType)?.status === 'True',
  );
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const conditions: Record<string, unknown>[] = [
    condition(previous, 'PodReadyToStartContainers', view.podIP !== undefined, at),
    condition(previous, 'Initialized', true, at),
    condition(
      previous,
      'Ready',
      containersReady && gates,
      at,
      containersReady && gates ? undefined : notReadyReason,
    ),
    condition(
      previous,
      'ContainersReady',
      containersReady,
      at,
      containersReady ? undefined : notReadyReason,
    ),
  ];
  const pending = view.resize?.pending;
  if (pending) {
    const old = previous.find((c) => c.type === 'PodResizePending');
    conditions.push({
      type: 'PodResizePending',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime:
        old?.status === 'True' && old.lastTransitionTime
          ? kubeTime(new Date(old.lastTransitionTime))
          : at,
      reason: pending.reason,
      message: pending.message,
      ...(pod.metadata?.generation !== undefined
        ? { observedGeneration: pod.metadata.generation }
        : {}),
    });
  }
  for (const keep of previous) {
    if (RESIZE_CONDITIONS.has(keep.type)) continue;
    if (conditions.some((c) => c['type'] === keep.type)) continue;
    conditions.push({ ...keep });
  }
  const ip = view.podIP;
  return {
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: view.startTime,
    qosClass: pod.status?.qosClass,
    // The pod's generation this status reflects (in-place resizes bump it).
    ...(pod.metadata?.generation !== undefined
      ? { observedGeneration: pod.metadata.generation }
      : {}),
    containerStatuses: view.containers.map((c) => ({
      name: c.name,
      // In-place resize: the runner applies admitted resources at once (no cgroups to change).
      ...resourcesOf(pod, c.name, view.resize),
      image: c.image,
      imageID: '',
      containerID: c.pid !== undefined ? `selectn-local://${c.pid}` : '',
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: stateJson(c.state),
      lastState: c.lastTerminated ? stateJson(c.lastTerminated) : {},
    })),
  };
}

function resourcesOf(
  pod: V1Pod,
  container: string,
  admission: ResizeAdmission | undefined,
): Record<string, unknown> {
  const spec = admission
    ? admission.applied[container]
    : pod.spec?.containers.find((c) => c.name === container)?.resources;
  if (!spec) return {};
  const resources: Record<string, unknown> = {};
  if (spec.requests) resources['requests'] = spec.requests;
  if (spec.limits) resources['limits'] = spec.limits;
  return {
    resources,
    ...(spec.requests ? { allocatedResources: spec.requests } : {}),
  };
}

/** kubelet's crash back-off: base doubling per restart, capped. */
export function backoffMs(restartCount: number, baseMs: number, maxMs: number): number {
  if (restartCount <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(restartCount - 1, 30));
}
